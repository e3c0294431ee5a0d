/**
 * How a Worker reaches its ledger's coordinator (`src/coordinator/ledger-coordinator.ts`): one RPC
 * on the Durable Object named by the ledger, created with the configured location hint. Each call
 * is one subrequest of the Worker request it runs in (`request-budget.ts`).
 *
 * With fault injection on (local runs, tests, the bench) the hop is simulated like the acceptor
 * calls: the RTT from the Worker's simulated region to the coordinator's, half each way, and the
 * `coordinator_down` fault makes every call fail at once.
 */

import type { LedgerConfig } from "../config.js";
import type { LedgerCoordinator } from "../coordinator/ledger-coordinator.js";
import type { AppendAnswer, CoordinatorLink, SyncAnswer } from "../core/coordinator/index.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { RequestOptions } from "../core/proposer/index.js";
import { type RegionHint, regionRtt_ms } from "../core/region-rtt.js";
import { currentFaults } from "./faults.js";
import { currentRequestBudget, subrequest } from "./request-budget.js";

export type CoordinatorNamespace = DurableObjectNamespace<LedgerCoordinator>;

/** The coordinator is down (fault injection): the call was not sent. */
export class CoordinatorDownError extends Error {
  override name = "CoordinatorDownError";
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** The simulated round trip from `from` to the coordinator's region, with the fault configuration's jitter. */
export function simulatedHop_ms(from: RegionHint | undefined, coordinator: RegionHint): number {
  if (from === undefined) return 0;
  const rtt_ms = regionRtt_ms(from, coordinator);
  const jitter = Math.min(0.5, -Math.log(1 - Math.random()) * currentFaults().jitter_fraction_mean);
  return rtt_ms * (1 + jitter);
}

export class DurableObjectCoordinatorLink implements CoordinatorLink {
  constructor(
    private readonly namespace: CoordinatorNamespace,
    private readonly ledger: string,
    private readonly config: LedgerConfig,
    /** The region this Worker pretends to run in (fault injection only); else the isolate-wide `rtt_from`. */
    private readonly simulatedFrom?: RegionHint,
  ) {}

  append(entries: readonly EntryInput[], options: RequestOptions): Promise<AppendAnswer> {
    // RPC's type mapping of a union answer is not the union: the answer is plain data, as sent.
    return this.call(
      async (stub) => (await stub.append(this.ledger, entries, { ...options, ...this.debug() })) as AppendAnswer,
    );
  }

  sync(options: RequestOptions): Promise<SyncAnswer> {
    return this.call(async (stub) => (await stub.sync(this.ledger, { ...options, ...this.debug() })) as SyncAnswer);
  }

  /** The ledger's recent commits, as its coordinator has seen them. */
  recentCommits(window_ms: number) {
    return this.call((stub) => stub.recentCommits(this.ledger, window_ms));
  }

  /** The coordinator's proposer counters (the bench). */
  stats() {
    return this.call((stub) => stub.stats(this.ledger));
  }

  private stub(): DurableObjectStub<LedgerCoordinator> {
    return this.namespace.getByName(this.ledger, { locationHint: this.config.coordinatorRegion });
  }

  /** Local testing only: the request's lowered limits travel with the forward, so the coordinator keeps them. */
  private debug(): { debug?: { subrequestsMax?: number; connectionsMax?: number } } {
    if (!this.config.faultInjection) return {};
    const budget = currentRequestBudget();
    if (budget === undefined) return {};
    return {
      debug: {
        ...(budget.subrequestsMaxOverride === undefined ? {} : { subrequestsMax: budget.subrequestsMaxOverride }),
        connectionsMax: budget.connectionsMax,
      },
    };
  }

  private call<R>(op: (stub: DurableObjectStub<LedgerCoordinator>) => Promise<R>): Promise<R> {
    return subrequest(
      this.config.subrequestsPerRequestMax,
      async () => {
        if (!this.config.faultInjection) return op(this.stub());
        const faults = currentFaults();
        if (faults.coordinator_down) throw new CoordinatorDownError("the coordinator is down (fault injection)");
        const hop_ms = simulatedHop_ms(this.simulatedFrom ?? faults.rtt_from, this.config.coordinatorRegion);
        await sleep(hop_ms / 2);
        const answer = await op(this.stub());
        await sleep(hop_ms / 2);
        return answer;
      },
      { key: "coordinator", destinations: 1 },
    );
  }
}
