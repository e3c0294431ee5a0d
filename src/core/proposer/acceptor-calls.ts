/**
 * The proposer's calls to its acceptors, and what each answer or failure teaches: the quorum calls
 * of an attempt (their wait scaled by the measured quorum round trip; thrifty targets), the lone
 * Commits of what is owed, each acceptor's latency and reachability, and a higher ballot round
 * named by a Reject.
 */
import type { Ballot } from "../ballot.js";
import type { CoreLimits } from "../limits.js";
import type { AcceptorReply, AcceptorRequest } from "../messages.js";
import { CommitDebts, type OwedCommits } from "./commit-debt.js";
import { errorText, QuorumUnavailableError } from "./errors.js";
import { LatencyTracker, movingAverage } from "./latency-tracker.js";
import { callQuorum, type QuorumCallEnv, type QuorumResult } from "./quorum-call.js";
import { Reachability } from "./reachability.js";
import type { Timers } from "./timers.js";
import type { ProposerEnv, ProposerOptions, ProposerStats } from "./types.js";

/** One quorum call as an attempt asks for it. */
export interface AttemptCall<R extends AcceptorReply> {
  readonly requestFor: (id: string, carried: OwedCommits | undefined) => AcceptorRequest;
  readonly need: number;
  readonly isOk: (r: AcceptorReply) => r is R;
  /** Thrifty: these first, the others after the escalation delay. Undefined: all at once. */
  readonly targets?: readonly string[] | undefined;
  /** Each message carries the commits owed to its acceptor. */
  readonly carriesCommits?: boolean;
  /** Hears of each acceptor whose call failed or that refused (a reply that is not `isOk`), even after the call settled. */
  readonly requestNotTaken?: (id: string) => void;
}

export class AcceptorCalls {
  /** Each acceptor's call latency; the Worker's read path measures into the same table. */
  readonly latency = new LatencyTracker();
  readonly reachability: Reachability;
  readonly debts: CommitDebts;
  /** Moving average of how long a quorum takes to answer (0 until measured); scales the backoff and the waits. */
  private quorumRoundTrip = 0;
  /** The accept quorum that thrifty Accepts go to; chosen again after a phase 1 or an escalation. */
  private acceptTargets: readonly string[] | undefined;

  constructor(
    private readonly env: ProposerEnv,
    private readonly limits: CoreLimits,
    private readonly stats: ProposerStats,
    private readonly timers: Timers,
    options: ProposerOptions,
    /** A Reject names the ballot an acceptor promised. */
    private readonly onReject: (promised: Ballot) => void,
  ) {
    this.reachability = new Reachability(env.acceptorIds, () => env.now_ms(), limits);
    this.debts = new CommitDebts(
      env.acceptorIds,
      limits,
      timers,
      (id, owed) => this.sendCommitAlone(id, owed),
      options.sabotage,
    );
  }

  get quorumRoundTrip_ms(): number {
    return this.quorumRoundTrip;
  }

  /**
   * The accept quorum a thrifty Accept goes to: the fastest acceptors by measured latency, kept until
   * a phase 1 or an escalation (a stable set keeps its acceptors' applied prefixes current, so their
   * Accepted replies predict the outcome). Undefined (send to all) until enough latencies are known.
   */
  thriftyTargets(): readonly string[] | undefined {
    if (this.acceptTargets !== undefined) return this.acceptTargets;
    const need = this.env.quorum.accept;
    if (need >= this.env.acceptorIds.length) return undefined;
    this.acceptTargets = this.latency.nearest(this.env.acceptorIds, need);
    return this.acceptTargets;
  }

  /** Every acceptor just answered (or failed) a prepare: the next thrifty Accept picks its quorum afresh. */
  forgetThriftyTargets(): void {
    this.acceptTargets = undefined;
  }

  /**
   * One quorum call, its wait never past `deadline_at_ms`; what an acceptor does not acknowledge of
   * the commits its message carried goes back into its debt.
   */
  quorumCall<R extends AcceptorReply>(call: AttemptCall<R>, deadline_at_ms: number): Promise<QuorumResult<R>> {
    const started_ms = this.env.now_ms();
    // No wait runs past the attempt's deadline; only a wait of the whole timeout counts the silent
    // acceptors as unreachable (a wait cut short by the deadline says nothing about them).
    const full_timeout_ms = this.quorumTimeout_ms();
    const timeout_ms = Math.max(0, Math.min(full_timeout_ms, deadline_at_ms - started_ms));
    const slowest_ms = Math.max(...(call.targets ?? []).map((id) => this.latency.latency_ms(id) ?? 0));
    return callQuorum<R>(
      {
        acceptorIds: this.env.acceptorIds,
        targets: call.targets,
        escalate_after_ms: Math.max(this.limits.thrifty_escalate_floor_ms, 2 * slowest_ms),
        need: call.need,
        isOk: call.isOk,
        requestFor: call.requestFor,
        ...(call.carriesCommits ? { takeCarried: (id: string) => this.debts.of(id).take() } : {}),
        timeout_ms,
        full_timeout_ms,
      },
      this.quorumCallEnv(call.requestNotTaken),
    );
  }

  /** What a quorum call reports, into this proposer's state. */
  private quorumCallEnv(requestNotTaken: ((id: string) => void) | undefined): QuorumCallEnv {
    return {
      timers: this.timers,
      now_ms: () => this.env.now_ms(),
      send: (id, request) => this.env.send(id, request),
      sent: () => this.stats.messages_sent++,
      answered: (id, reply, took_ms) => this.noteAnswered(id, reply, took_ms),
      callFailed: (id, error) => this.noteCallFailed(id, error),
      unacknowledged: (id, what) => {
        if (what.commits !== undefined) this.debts.of(id).returnUnacknowledged(what.commits);
        if (what.requestNotTaken) requestNotTaken?.(id);
      },
      silentThroughTimeout: (id, waited_ms) =>
        this.reachability.markFailed(id, `did not answer within ${Math.round(waited_ms)} ms`),
      escalated: () => this.forgetThriftyTargets(),
      quorumRoundTrip: (took_ms) => {
        this.quorumRoundTrip = movingAverage(this.quorumRoundTrip === 0 ? undefined : this.quorumRoundTrip, took_ms);
      },
    };
  }

  /**
   * How long a quorum call waits: `quorum_timeout_rtt_multiple` times the measured quorum round
   * trip, within [`quorum_timeout_floor_ms`, `quorum_timeout_ms`]; the cap until one is measured.
   */
  private quorumTimeout_ms(): number {
    if (this.quorumRoundTrip === 0) return this.limits.quorum_timeout_ms;
    const scaled_ms = this.limits.quorum_timeout_rtt_multiple * this.quorumRoundTrip;
    return Math.min(this.limits.quorum_timeout_ms, Math.max(this.limits.quorum_timeout_floor_ms, scaled_ms));
  }

  /** A Commit of what is owed to `id`, alone, in the background; owed again if it is not acknowledged. */
  private sendCommitAlone(id: string, owed: OwedCommits): void {
    this.stats.messages_sent++;
    const sent_ms = this.env.now_ms();
    const reply = this.env.send(id, { type: "commit", commits: owed.items });
    this.debts.of(id).watchDelivery(owed, reply, this.timers.timer("commit_delivery", { keptAlive: true }));
    const sent = reply.then(
      (r) => this.noteAnswered(id, r, this.env.now_ms() - sent_ms),
      (error: unknown) => this.noteCallFailed(id, error),
    );
    this.timers.keepAlive(sent);
  }

  private noteAnswered(id: string, reply: AcceptorReply, took_ms: number): void {
    this.reachability.markAnswered(id);
    this.latency.note(id, took_ms);
    if (reply.type === "reject") this.onReject(reply.promised);
  }

  /**
   * A call that failed. One the request refused itself before sending it (its subrequest budget:
   * the transport throws a `QuorumUnavailableError`) says nothing of the acceptor.
   */
  private noteCallFailed(id: string, error: unknown): void {
    if (error instanceof QuorumUnavailableError) return;
    this.reachability.markFailed(id, `failed: ${errorText(error)}`);
    // A failed call counts as slow as a whole wait: thrifty Accepts pick the others.
    this.latency.note(id, this.limits.quorum_timeout_ms);
  }
}
