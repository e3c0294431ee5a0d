/**
 * The Multi-Paxos proposer for one ledger: leadership, attempts, recovery and the two phases. It
 * holds no state that correctness needs: its ballot and next slot are a cache that lets a warm
 * proposer skip phase 1 (one round trip per commit) until an acceptor rejects its ballot.
 *
 * How the proposer knows each entry's receipt: acceptors return, with Accepted, the outcome of
 * applying the accepted slot on top of their applied prefix (see `Accepted.outcomes`). The warm
 * path piggybacks the commit of slot s-1 on the Accept of slot s, so the acceptors of the quorum have
 * applied s-1 and can compute s exactly; once a quorum has accepted, that outcome is the true one.
 * When no reply carries it (a lagging quorum), the proposer asks with a Commit for the applied
 * outcome, a second round trip on a rare path.
 *
 * Beside it: the queue and its driver (`group-commit.ts`), what each acceptor is owed
 * (`commit-debt.ts`), one quorum call (`quorum-call.ts`), latencies (`latency-tracker.ts`),
 * reachability (`reachability.ts`) and the named timers (`timers.ts`). Time, randomness and I/O
 * come in through `ProposerEnv`, so the simulator runs this very code.
 */
import { assert } from "../assert.js";
import { type Ballot, compareBallots } from "../ballot.js";
import type { EntryInput } from "../entry-schema.js";
import type { BatchOutcome, SlotOutcome } from "../ledger-types.js";
import { type CoreLimits, limits } from "../limits.js";
import type { Accepted, AcceptedSlot, AcceptorReply, PromiseReply } from "../messages.js";
import { noop_value, type SlotValue, slotValueEntryCount, slotValuesEqual } from "../slot-value.js";
import { AcceptorCalls } from "./acceptor-calls.js";
import type { ChosenSlot } from "./commit-debt.js";
import { AttemptFailed, GroupRoundCallsSpent, QuorumUnavailableError } from "./errors.js";
import { GroupCommit } from "./group-commit.js";
import { GroupRound } from "./group-round.js";
import { InFlightAttempts } from "./in-flight-attempts.js";
import type { LatencyTracker } from "./latency-tracker.js";
import { RoundsInFlight } from "./rounds-in-flight.js";
import { Timers } from "./timers.js";
import {
  newProposerStats,
  type ProposerEnv,
  type ProposerOptions,
  type ProposerStats,
  type RecentCommits,
  type RequestOptions,
} from "./types.js";

export { ownEntriesCreated } from "./own-entries.js";

/** A slot to propose, with the UTF-8 size of its value (bounds what the proposer owes in Commits). */
type SlotProposal = ChosenSlot;

const utf8 = new TextEncoder();

function slotValueBytes(value: SlotValue): number {
  return utf8.encode(JSON.stringify(value)).length;
}

export class Proposer {
  /** Set while this proposer holds a promised ballot from a phase-1 quorum. */
  private leaderBallot: Ballot | undefined;
  private nextSlot = 1;
  private highestBallotRoundSeen = 0;
  /**
   * Whether the last append group round was under load. A recovery's round sends its Accepts the same
   * way (thrifty after a busy round), as it did when this was the proposer's one current-round flag.
   */
  private lastAppendRoundUnderLoad = false;
  /** Whether group rounds may be in flight at once (`roundsInFlightMax` above 1), and what they share then. */
  private readonly pipelined: boolean;
  private readonly inFlight: RoundsInFlight;
  private readonly inFlightAttempts: InFlightAttempts;
  private readonly calls: AcceptorCalls;
  private readonly timers: Timers;
  private readonly groupCommit: GroupCommit;
  /** The limits in force: `options.limits`, or production's. */
  private readonly limits: CoreLimits;
  readonly stats: ProposerStats = newProposerStats();

  constructor(
    private readonly env: ProposerEnv,
    private readonly options: ProposerOptions = {},
  ) {
    this.limits = options.limits ?? limits;
    assert(
      this.limits.message_slots_max - this.limits.owed_commit_slots_max - 1 >= 1,
      "an Accept has room for one slot beside the commits owed to its acceptor",
    );
    assert(env.acceptorIds.length === env.quorum.acceptors, "one acceptor id per acceptor of the quorum config");
    assert(env.proposerId.length > 0, "proposer id is non-empty");
    const roundsInFlightMax = options.roundsInFlightMax ?? 1;
    assert(Number.isInteger(roundsInFlightMax) && roundsInFlightMax >= 1, "at least one group round in flight");
    // A Worker's requests each run in their own context and poll; rounds in flight need the one context.
    assert(roundsInFlightMax === 1 || options.requestsShareOneContext === true, "rounds in flight in one context only");
    this.pipelined = roundsInFlightMax > 1;
    this.inFlight = new RoundsInFlight(this.limits.outcome_request_commits_max);
    this.inFlightAttempts = new InFlightAttempts(
      {
        limits: this.limits,
        stats: this.stats,
        sabotage: options.sabotage,
        leaderBallot: () => this.leaderBallot,
        dropLeadership: () => {
          this.leaderBallot = undefined;
        },
        nextSlot: () => this.nextSlot,
        slotTaken: (slot) => {
          this.nextSlot = Math.max(this.nextSlot, slot + 1);
        },
        phase1: (round) => this.phase1(round),
        phase2: (round, slots) => this.phase2(round, slots),
        fetchOutcome: (round, slot) => this.fetchOutcome(round, slot),
      },
      this.inFlight,
    );
    // Background work outlives the answer of the request that drives (its `waitUntil`), else the env's.
    const keepAlive = (work: Promise<unknown>) => (this.groupCommit.driverBackground ?? this.env.background)?.(work);
    this.timers = new Timers({ sleep: (ms) => env.sleep(ms), keepAlive });
    this.calls = new AcceptorCalls(env, this.limits, this.stats, this.timers, options, (promised) =>
      this.rejected(promised),
    );
    this.groupCommit = new GroupCommit(
      {
        acceptorCount: env.acceptorIds.length,
        now_ms: () => env.now_ms(),
        subrequestsLeft: env.subrequestsLeft?.bind(env),
      },
      this.limits,
      this.stats,
      {
        commit: (value, bytes, proposedIn, deadline_at_ms, underLoad, quorumCalls) => {
          this.lastAppendRoundUnderLoad = underLoad;
          const round = new GroupRound(quorumCalls, underLoad, this.limits);
          const attempt = this.pipelined
            ? () => this.inFlightAttempts.commit(round, value, bytes, proposedIn)
            : () => this.commit(round, value, bytes, proposedIn);
          return this.withAttempts(round, attempt, this.roundDeadline_ms(deadline_at_ms));
        },
        recover: (deadline_at_ms, quorumCalls) => {
          const round = new GroupRound(quorumCalls, this.lastAppendRoundUnderLoad, this.limits);
          const attempt = this.pipelined ? () => this.inFlightAttempts.recover(round) : () => this.recover(round);
          return this.withAttempts(round, attempt, this.roundDeadline_ms(deadline_at_ms, true));
        },
        quorumUnreachable: () => this.quorumUnreachable(),
        leads: () => this.leaderBallot !== undefined,
        reachabilityNote: () => this.calls.reachability.note(),
      },
      this.timers,
      options.requestsShareOneContext ?? false,
      roundsInFlightMax,
    );
  }

  /** Each acceptor's call latency; the Worker's read path measures into the same table. */
  get latency(): LatencyTracker {
    return this.calls.latency;
  }

  /** The commits of the last `window_ms` (at most `commit_history_max` of them). */
  recentCommits(window_ms: number): RecentCommits {
    return this.groupCommit.recentCommits(window_ms);
  }

  /** True while the cached ballot lets appends skip phase 1. */
  get isLeader(): boolean {
    return this.leaderBallot !== undefined;
  }

  /**
   * Appends one client request (an atomic batch). Resolves with its outcome once chosen; rejects with
   * `QuorumUnavailableError` (outcome unknown) or `ProposerOverloadedError` (nothing proposed).
   */
  append(
    entries: readonly EntryInput[],
    background?: (work: Promise<unknown>) => void,
    options: RequestOptions = {},
  ): Promise<BatchOutcome> {
    return this.groupCommit.append(entries, background, options);
  }

  /**
   * Runs phase 1 and finishes every slot it recovers, so that no accepted slot is left undecided.
   * A linearizable read calls it when an accepted slot stays above every replica's applied prefix
   * (a leader that died mid-round leaves one behind until the next phase 1).
   */
  sync(background?: (work: Promise<unknown>) => void, options: RequestOptions = {}): Promise<void> {
    return this.groupCommit.sync(background, options);
  }

  /**
   * When a group round's attempts end: its requests' deadline, or for a sole proposer that must run
   * phase 1 first (a recovery always does) at least `recovery_round_floor_ms` from now. Decided once,
   * when the round starts: extending it again each time an attempt loses the leadership kept rounds
   * going attempt after attempt behind a backlog no acceptor could apply yet (simulator seed 26), while
   * the requests queued behind them waited.
   */
  private roundDeadline_ms(deadline_at_ms: number, recovery = false): number {
    if (!this.options.recoveryOutlivesRequests) return deadline_at_ms;
    if (this.leaderBallot !== undefined && !recovery) return deadline_at_ms;
    return Math.max(deadline_at_ms, this.env.now_ms() + this.limits.recovery_round_floor_ms);
  }

  /**
   * Runs `attempt` until it succeeds, backing off between tries; `QuorumUnavailableError` as soon as
   * fewer than a quorum of acceptors are reachable (by the recently-failed view), at `deadline_at_ms`,
   * when the group round's quorum calls are spent, or after `append_attempts_max` attempts.
   */
  private async withAttempts<T>(round: GroupRound, attempt: () => Promise<T>, deadline_at_ms: number): Promise<T> {
    round.attemptDeadline_ms = deadline_at_ms;
    try {
      for (let n = 0; n < this.limits.append_attempts_max; n++) {
        // A group round's first attempt always runs: what failed a moment ago may be back (a healed
        // region, one lost message), and refusing unsent would turn a healed ledger away for a whole
        // `acceptor_failure_memory_ms`; against a real outage the attempt costs at most one quorum
        // timeout. After a failed attempt, any acceptor just seen failing counts: no retry then.
        const unreachable = n === 0 ? undefined : this.quorumUnreachable();
        if (unreachable !== undefined) {
          this.stats.fail_fast++;
          throw new QuorumUnavailableError(unreachable, { proposed: true });
        }
        if (this.env.now_ms() >= deadline_at_ms) {
          throw new QuorumUnavailableError(`no quorum within the deadline${this.calls.reachability.note()}`, {
            proposed: n > 0,
          });
        }
        round.ballot = undefined;
        try {
          return await attempt();
        } catch (error) {
          if (!(error instanceof AttemptFailed)) throw error;
          // An Accept that was not acknowledged by a quorum may still be chosen later; this ballot
          // must never propose another value for that slot, so give the leadership up. Only that
          // ballot's: a round in flight since an older one leaves a newer leadership alone.
          const ballot = round.ballot as Ballot | undefined;
          if (
            ballot === undefined ||
            this.leaderBallot === undefined ||
            compareBallots(ballot, this.leaderBallot) === 0
          ) {
            this.leaderBallot = undefined;
          }
          if (error instanceof GroupRoundCallsSpent) throw new QuorumUnavailableError(error.message);
          if (this.quorumUnreachable() !== undefined) continue; // answered at the top, without a wait
          // Full jitter, scaled by the quorum round trip: contending proposers need gaps of a few
          // round trips (prepare, then accept) for one of them to finish before the next preempts it.
          const step_ms = Math.max(this.limits.backoff_base_ms, 3 * this.calls.quorumRoundTrip_ms);
          const ceiling_ms = Math.min(this.limits.backoff_cap_ms, step_ms * 2 ** n);
          const left_ms = Math.max(0, deadline_at_ms - this.env.now_ms());
          await this.timers.wait("attempt_backoff", Math.min(left_ms, this.env.random() * ceiling_ms));
        }
      }
      throw new QuorumUnavailableError(
        `no quorum after ${this.limits.append_attempts_max} attempts${this.calls.reachability.note()}`,
      );
    } finally {
      round.attemptDeadline_ms = Number.POSITIVE_INFINITY;
    }
  }

  /** Why an attempt cannot reach the acceptors it needs now (a prepare quorum first, unless leader), or undefined. */
  private quorumUnreachable(): string | undefined {
    const { prepare, accept } = this.env.quorum;
    return this.calls.reachability.quorumUnreachable(
      this.leaderBallot === undefined ? Math.max(prepare, accept) : accept,
    );
  }

  /** One attempt to get `value` chosen in some slot; returns that slot's outcome. */
  private async commit(
    round: GroupRound,
    value: SlotValue,
    bytes: number,
    proposedIn: Set<number>,
  ): Promise<SlotOutcome> {
    assert(slotValueEntryCount(value) <= this.limits.slot_entries_max, "slot within its entry limit");
    let slots: SlotProposal[] = [];
    if (this.leaderBallot === undefined) slots = await this.phase1(round);
    // Recovery may have found this very value accepted by an earlier attempt: finish that slot
    // rather than proposing the value a second time.
    let mine = slots.find((s) => slotValuesEqual(s.value, value))?.slot;
    if (mine === undefined) {
      mine = this.nextSlot;
      slots.push({ slot: mine, value, bytes });
    }
    this.nextSlot = Math.max(this.nextSlot, mine + 1);
    proposedIn.add(mine);
    const outcomes = await this.phase2(round, slots);
    const outcome = outcomes.get(mine) ?? (await this.fetchOutcome(round, mine));
    if (this.options.prepareEveryCommitForBaseline) this.leaderBallot = undefined;
    return outcome;
  }

  /** One attempt at a fresh phase 1 whose recovered slots are then chosen. */
  private async recover(round: GroupRound): Promise<void> {
    this.leaderBallot = undefined;
    const slots = await this.phase1(round);
    if (slots.length > 0) await this.phase2(round, slots);
  }

  /**
   * Phase 1: a ballot above every ballot round seen, promised by a prepare quorum; returns the slots
   * to re-propose: for every slot above the highest chosenThrough, the value accepted at the highest
   * ballot, or a no-op where no promise holds one. A Promise lists at most `promise_slots_max`
   * slots: while one is truncated, prepare again at the same ballot from above what was listed.
   */
  private async phase1(round: GroupRound): Promise<SlotProposal[]> {
    this.stats.phase1_runs++;
    // Ballot rounds start from the clock: a cold isolate's first ballot already outranks those of
    // earlier isolates (no Reject round trip to learn the current round), and it is still above every
    // round this proposer has seen, so a slow clock only costs one Reject.
    const ballotRound = Math.max(this.highestBallotRoundSeen + 1, Math.floor(this.env.now_ms()));
    const ballot: Ballot = { round: ballotRound, proposerId: this.env.proposerId };
    this.highestBallotRoundSeen = ballot.round;
    const recovered = new Map<number, AcceptedSlot>();
    let chosenThrough = 0;
    let fromSlot = 1;
    let highestListed = 0;
    for (let prepareRound = 0; ; prepareRound++) {
      if (prepareRound >= this.limits.recovery_rounds_max) throw new AttemptFailed("recovery backlog beyond its limit");
      if (prepareRound > 0) this.stats.reprepares++;
      round.spendQuorumCall();
      const result = await this.calls.quorumCall<PromiseReply>(
        {
          requestFor: () => ({ type: "prepare", ballot, fromSlot }),
          need: this.env.quorum.prepare,
          isOk: (r): r is PromiseReply => r.type === "promise" && compareBallots(r.ballot, ballot) === 0,
        },
        round.attemptDeadline_ms,
      );
      if (!result.ok) throw new AttemptFailed("no prepare quorum");
      let horizon = Number.POSITIVE_INFINITY;
      for (const p of result.replies) {
        chosenThrough = Math.max(chosenThrough, p.chosenThrough);
        const last = p.accepted.at(-1)?.slot;
        let truncated = p.truncated;
        // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
        if (this.options.sabotage === "truncated_promise_treated_complete") truncated = false;
        if (truncated && last !== undefined) horizon = Math.min(horizon, last);
        for (const a of p.accepted) {
          const held = recovered.get(a.slot);
          let order = 1;
          // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
          if (this.options.sabotage === "recovery_takes_lowest_ballot") order = -1;
          if (held === undefined || order * compareBallots(a.ballot, held.ballot) > 0) recovered.set(a.slot, a);
        }
      }
      for (const p of result.replies)
        for (const a of p.accepted) if (a.slot <= horizon) highestListed = Math.max(highestListed, a.slot);
      if (horizon === Number.POSITIVE_INFINITY) break;
      fromSlot = Math.max(horizon, chosenThrough) + 1;
    }
    // Rounds in flight: a newer phase 1 of this proposer may have won meanwhile; never go back under it.
    if (this.pipelined && this.leaderBallot !== undefined && compareBallots(this.leaderBallot, ballot) > 0) {
      throw new AttemptFailed("a newer phase 1 of this proposer leads");
    }
    this.leaderBallot = ballot;
    // Every acceptor just answered (or failed) a prepare: pick the fastest accept quorum afresh.
    this.calls.forgetThriftyTargets();
    if (this.options.skipRecoveryForTests) {
      this.nextSlot = chosenThrough + 1;
      return [];
    }
    const slots: SlotProposal[] = [];
    for (let s = chosenThrough + 1; s <= highestListed; s++) {
      const value = recovered.get(s)?.value ?? noop_value;
      slots.push({ slot: s, value, bytes: slotValueBytes(value) });
    }
    this.nextSlot = Math.max(chosenThrough, highestListed) + 1;
    return slots;
  }

  /**
   * Phase 2: Accept the slots at the leader ballot (in chunks that fit a message) and wait for an
   * accept quorum. Returns the outcomes that the replies predicted.
   */
  private async phase2(round: GroupRound, slots: readonly SlotProposal[]): Promise<Map<number, SlotOutcome>> {
    const ballot = this.leaderBallot;
    assert(ballot !== undefined, "phase 2 runs under a promised ballot");
    round.ballot = ballot;
    const outcomes = new Map<number, SlotOutcome>();
    // Chunks leave room in a message for the commits owed to its acceptor.
    const chunk_slots_max = this.limits.message_slots_max - this.limits.owed_commit_slots_max - 1;
    for (let i = 0; i < slots.length; i += chunk_slots_max) {
      const chunk = slots.slice(i, i + chunk_slots_max);
      const accepts = chunk.map(({ slot, value }) => ({ slot, value }));
      round.spendQuorumCall();
      this.stats.phase2_runs++;
      if (i > 0) this.stats.phase2_extra_chunks++;
      this.calls.debts.acceptSent();
      const sentTo = new Set<string>();
      /** Acceptors whose Accept failed or was refused: they do not hold this chunk's values. */
      const notTaken = new Set<string>();
      let chosen = false;
      const result = await this.calls.quorumCall<Accepted>(
        {
          requestFor: (id, carried) => {
            sentTo.add(id);
            return { type: "accept", ballot, slots: accepts, commits: carried?.items ?? [] };
          },
          need: this.env.quorum.accept,
          isOk: (r): r is Accepted => r.type === "accepted" && compareBallots(r.ballot, ballot) === 0,
          targets: this.thriftyTargets(round),
          carriesCommits: true,
          // An Accept that fails or is refused after the quorum answered: owe that acceptor the values.
          requestNotTaken: (id) => {
            notTaken.add(id);
            if (chosen) this.calls.debts.oweValues(id, chunk, ballot);
          },
        },
        round.attemptDeadline_ms,
      );
      if (!result.ok) throw new AttemptFailed("no accept quorum");
      chosen = true;
      this.stats.slots_chosen += chunk.length;
      if (this.pipelined) this.inFlight.chosen(chunk, ballot);
      this.calls.debts.oweChosen(chunk, ballot, (id) => sentTo.has(id) && !notTaken.has(id), sentTo);
      for (const r of result.replies) for (const o of r.outcomes) if (!outcomes.has(o.slot)) outcomes.set(o.slot, o);
    }
    return outcomes;
  }

  /** Thrifty Accepts (the fastest accept quorum only) while under load, unless turned off. */
  private thriftyTargets(round: GroupRound): readonly string[] | undefined {
    if (this.options.thrifty === false || this.options.prepareEveryCommitForBaseline || !round.underLoad)
      return undefined;
    return this.calls.thriftyTargets();
  }

  /** The applied outcome of a chosen slot, from the first acceptor that has applied it. */
  private async fetchOutcome(round: GroupRound, slot: number): Promise<SlotOutcome> {
    round.spendQuorumCall();
    this.stats.outcome_fallbacks++;
    const result = await this.calls.quorumCall(
      {
        requestFor: (_id, carried) => {
          const owed = carried?.items ?? [];
          if (!this.pipelined) return { type: "commit", commits: owed, outcomeOf: slot };
          const room = this.limits.message_slots_max - owed.length;
          const commits = [...owed, ...this.inFlight.commitsUpTo(slot, owed, room)];
          return { type: "commit", commits, outcomeOf: slot };
        },
        need: 1,
        isOk: (r): r is Extract<AcceptorReply, { type: "committed" }> =>
          r.type === "committed" && r.outcome !== undefined,
        carriesCommits: true,
        targets: this.pipelined ? this.outcomeTargets() : undefined,
      },
      round.attemptDeadline_ms,
    );
    if (!result.ok) {
      // Chosen, but no acceptor has applied it yet (each lacks an earlier slot). The client retries
      // the same ids and gets the original receipts.
      throw new AttemptFailed("slot chosen but its outcome is not yet applied anywhere");
    }
    const outcome = result.replies[0]!.outcome!;
    assert(outcome.slot === slot, "the outcome asked for");
    return outcome;
  }

  /**
   * Rounds in flight ask for almost every round's outcome (§5 of the design): the nearest measured
   * acceptor first, the others only if it fails, refuses or is slow (the quorum call's escalation), so
   * that the request costs one message and one apply, not one per acceptor. Undefined (all at once)
   * until a latency is measured.
   */
  private outcomeTargets(): readonly string[] | undefined {
    const nearest = this.calls.latency.nearestFirst(this.env.acceptorIds)[0];
    return nearest === undefined || this.calls.latency.latency_ms(nearest) === undefined ? undefined : [nearest];
  }

  /** A Reject names a ballot an acceptor promised: ballots go above its round, and a higher one ends the leadership. */
  private rejected(promised: Ballot): void {
    this.highestBallotRoundSeen = Math.max(this.highestBallotRoundSeen, promised.round);
    if (this.leaderBallot !== undefined && compareBallots(promised, this.leaderBallot) > 0) {
      this.leaderBallot = undefined;
    }
  }
}
