/** What the proposer is given (its platform) and what its callers may ask and read. */
import type { CoreLimits } from "../limits.js";
import type { AcceptorReply, AcceptorRequest } from "../messages.js";
import type { QuorumConfig } from "../quorum.js";
import type { Sabotage } from "../sabotage.js";

export interface ProposerEnv {
  readonly proposerId: string;
  readonly acceptorIds: readonly string[];
  readonly quorum: QuorumConfig;
  /** Delivers a request to one acceptor; rejects (or never settles) when it cannot. */
  send(acceptorId: string, request: AcceptorRequest): Promise<AcceptorReply>;
  now_ms(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
  /** Keeps work alive after the reply (a Worker's `waitUntil`); fire and forget where absent. */
  background?(work: Promise<unknown>): void;
  /**
   * The subrequests (acceptor calls) the current request may still make: the platform caps them per
   * request, and a driver's group rounds run in its own request. Absent: no cap. The driver hands over
   * before a group round could need more than what is left (`round_quorum_calls_max`).
   */
  subrequestsLeft?(): number;
}

/** What a caller may ask of one append or sync. */
export interface RequestOptions {
  /** The server's whole time for this request; at most (and by default) `commit_deadline_ms`. */
  readonly deadline_ms?: number;
}

export interface ProposerOptions {
  /**
   * Test-only sabotage: skip phase-1 recovery and propose new values from the highest chosenThrough.
   * The simulator's negative test uses it to show that the checker catches an unsafe proposer.
   */
  readonly skipRecoveryForTests?: boolean;
  /**
   * Benchmark baseline only: classic Paxos, a phase 1 before every commit (no cached leadership).
   * Safe, just slower; `npm run bench` measures it beside the normal mode in the same run.
   */
  readonly prepareEveryCommitForBaseline?: boolean;
  /**
   * Thrifty phase 2 (default on): under load, once the acceptors' latencies are known, each Accept
   * goes to the fastest accept quorum only, and to the others when that quorum does not answer in time; the others
   * learn the chosen values from batched Commits. Off: every Accept goes to every acceptor.
   */
  readonly thrifty?: boolean;
  /**
   * Whether all of this proposer's requests run in one I/O context (the coordinator Durable Object):
   * then a waiting request is woken by the end of a group round instead of polling on a timer
   * (`GroupCommit`). Off (a Worker, each request its own context): polls every `driver_takeover_poll_ms`.
   */
  readonly requestsShareOneContext?: boolean;
  /**
   * Whether this proposer is normally the ledger's only one (the coordinator): then a group round that
   * must run phase 1 gets at least `recovery_round_floor_ms` to finish it and its Accept, whatever its
   * requests' deadlines (they are answered at their own). Without it, a backlog whose requests have
   * waited most of their deadline cuts every phase 1 short, and each next round starts one again at a
   * higher ballot. Off in a Worker, where proposers contend and a long round is a long duel.
   */
  readonly recoveryOutlivesRequests?: boolean;
  /**
   * Group rounds in flight at once while this proposer leads (default 1: one at a time). Above 1 only
   * with `requestsShareOneContext` (the coordinator): each further round is driven by a request of its
   * own, in its own budget. Rounds in flight share one phase 1 when the leadership is lost, and a
   * round whose value that phase 1 recovers finishes in the recovered slot (`Proposer`).
   */
  readonly roundsInFlightMax?: number;
  /** The limits this proposer keeps; production passes none and gets `limits`. The simulator turns some down. */
  readonly limits?: CoreLimits;
  /** Test-only: one planted bug (see `sabotage.ts`); never set in production. */
  readonly sabotage?: Sabotage;
}

/** What the status page shows of one proposer's recent commits (the coordinator's: every append of the ledger). */
export interface RecentCommits {
  readonly window_ms: number;
  readonly commits: number;
  readonly entries: number;
  /** Each commit's time from the slot's proposal to its outcome (one attempt, or several on retries); null without commits. */
  readonly latency_ms: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  } | null;
}

/** Counters for tests and benchmarks. */
export interface ProposerStats {
  phase1_runs: number;
  phase2_runs: number;
  messages_sent: number;
  slots_chosen: number;
  outcome_fallbacks: number;
  requests_committed: number;
  entries_committed: number;
  /** Tenures ended early because the driving request's subrequest budget could not cover a group round. */
  budget_handovers: number;
  /** Attempts not made because fewer than a quorum were reachable. */
  fail_fast: number;
  /** Prepares sent again at the same ballot because a Promise listing was truncated (the re-prepare loop). */
  reprepares: number;
  /** Accept chunks after the first of one phase 2 (the slots did not fit one message). */
  phase2_extra_chunks: number;
  /** The most group rounds this proposer had in flight at once (1 unless `roundsInFlightMax` allows more). */
  rounds_in_flight_peak: number;
  /** Attempts that waited for a phase 1 another round of this proposer was running, instead of starting one. */
  phase1_joins: number;
  /** Retrying rounds in flight that found their value among the slots another round's phase 1 recovered, and finished it there. */
  recovered_value_matches: number;
}

export function newProposerStats(): ProposerStats {
  return {
    phase1_runs: 0,
    phase2_runs: 0,
    messages_sent: 0,
    slots_chosen: 0,
    outcome_fallbacks: 0,
    requests_committed: 0,
    entries_committed: 0,
    budget_handovers: 0,
    fail_fast: 0,
    reprepares: 0,
    phase2_extra_chunks: 0,
    rounds_in_flight_peak: 0,
    phase1_joins: 0,
    recovered_value_matches: 0,
  };
}
