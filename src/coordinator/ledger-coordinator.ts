/**
 * The coordinator Durable Object (issue #12): one per ledger, named by the ledger, placed in
 * `COORDINATOR_REGION`. Every Worker forwards the ledger's appends and recoveries here
 * (`src/core/coordinator/forward.ts`), so the ledger has one proposer at a time instead of one per
 * Worker isolate, and proposers no longer preempt each other.
 *
 * It runs the production `Proposer` unchanged (a `LedgerService` in direct mode) and keeps nothing
 * in storage: its memory is a cache of leadership. A reset (deploy, eviction, a machine move) loses
 * it, and the next request runs phase 1 again; Paxos is safe with any number of proposers, so a
 * second instance for a moment (the platform allows at most one live, but a Worker may still be
 * talking to an old one) changes who proposes, never what may be chosen.
 *
 * Each RPC is one incoming request with its own platform limits: it runs under its own subrequest
 * budget (`request-budget.ts`), as a Worker request does, and the group commit drives its rounds in
 * the budget of the request that started them.
 */
import { DurableObject } from "cloudflare:workers";
import { type AppendAnswer, answerOf, type SyncAnswer } from "../core/coordinator/index.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { ProposerStats, RecentCommits, RequestOptions } from "../core/proposer/index.js";
import { coordinatorServices } from "../proposer/coordinator-services.js";
import type { LedgerService } from "../proposer/ledger-service.js";
import { RequestBudget, runWithBudget } from "../proposer/request-budget.js";
import { ledgerConfig } from "../proposer/routes/app-env.js";

/** Local testing only: what a forwarded request carries of its Worker request's test headers. */
export interface ForwardedDebug {
  /** The lowered subrequest budget (`x-debug-subrequests-max`), honoured only with fault injection. */
  readonly subrequestsMax?: number;
  readonly connectionsMax?: number;
}

export interface ForwardedOptions extends RequestOptions {
  readonly debug?: ForwardedDebug;
}

/** What the bench reads of the coordinator's proposer. */
export interface CoordinatorStats {
  readonly stats: ProposerStats;
}

export class LedgerCoordinator extends DurableObject<Env> {
  private service(ledger: string): LedgerService {
    return coordinatorServices.get(ledger, ledgerConfig(this.env), this.env.ACCEPTOR);
  }

  /** Runs `work` as one request under its own budget (the Worker's test headers honoured only with fault injection). */
  private asRequest<T>(label: string, debug: ForwardedDebug | undefined, work: () => Promise<T>): Promise<T> {
    const testing = ledgerConfig(this.env).faultInjection;
    const budget =
      testing && debug !== undefined
        ? new RequestBudget(debug.subrequestsMax, debug.connectionsMax, `coordinator ${label}`)
        : new RequestBudget();
    return runWithBudget(budget, work);
  }

  append(ledger: string, entries: readonly EntryInput[], options: ForwardedOptions = {}): Promise<AppendAnswer> {
    const { debug, ...request } = options;
    return this.asRequest("append", debug, () => {
      const s = this.service(ledger);
      return answerOf(s.proposerForAppend().append(entries, (work) => this.ctx.waitUntil(work), request));
    });
  }

  sync(ledger: string, options: ForwardedOptions = {}): Promise<SyncAnswer> {
    const { debug, ...request } = options;
    return this.asRequest("sync", debug, async () => {
      const answer = await answerOf(this.service(ledger).proposer.sync((work) => this.ctx.waitUntil(work), request));
      return answer.kind === "done" ? { kind: "done", value: null } : answer;
    });
  }

  /** The ledger's recent commits, for the status page: the coordinator's proposer commits them all. */
  recentCommits(ledger: string, window_ms: number): RecentCommits {
    return this.service(ledger).proposer.recentCommits(window_ms);
  }

  /** The proposer's counters (the bench reads them). */
  stats(ledger: string): CoordinatorStats {
    return { stats: { ...this.service(ledger).proposer.stats } };
  }
}
