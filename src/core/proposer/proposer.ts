/**
 * The Multi-Paxos proposer for one ledger. It holds no state that correctness needs: its ballot and
 * next slot are a cache that lets a warm proposer skip phase 1 (one round trip per commit) until an
 * acceptor rejects its ballot.
 *
 * How the proposer knows each entry's receipt: acceptors return, with Accepted, the outcome of
 * applying the accepted slot on top of their applied prefix (see `Accepted.outcomes`). The warm
 * path piggybacks the commit of slot s-1 on the Accept of slot s, so the acceptors of the quorum have
 * applied s-1 and can compute s exactly; once a quorum has accepted, that outcome is the true one.
 * When no reply carries it (a lagging quorum), the proposer asks with a Commit for the applied
 * outcome, a second round trip on a rare path.
 *
 * Time, randomness and I/O come in through `ProposerEnv`, so the simulator runs this very code.
 */
import { assert } from "../assert.js";
import { compareBallots, type Ballot } from "../ballot.js";
import type { EntryInput } from "../entry-schema.js";
import type { BatchOutcome, SlotOutcome } from "../ledger-types.js";
import { limits, type CoreLimits } from "../limits.js";
import type {
  Accepted,
  AcceptedSlot,
  AcceptorReply,
  AcceptorRequest,
  CommitItem,
  PromiseReply,
} from "../messages.js";
import { AttemptFailed, errorText, ProposerOverloadedError, QuorumUnavailableError, RoundCallsSpent } from "./errors.js";
import type { ProposerEnv, ProposerOptions, RecentCommits, RequestOptions } from "./types.js";
import { noop_value, slotValueEntryCount, slotValuesEqual, type SlotValue } from "../slot-value.js";

/** A promise with its resolvers, made by hand (no `Promise.withResolvers` in every runtime we target). */
interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A request whose isolate went away (or whose client stopped waiting) may never read its outcome:
  // its rejection is then expected, not an unhandled one. Whoever awaits `promise` still gets it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface Waiting<T> {
  /** Settled when this request's slot is decided (by whichever request drove it). */
  readonly done: Deferred<T>;
  settled: boolean;
  /** The server's whole time for it, and when that ends on the proposer's clock: then 503. */
  readonly deadline_ms: number;
  readonly deadline_at_ms: number;
  /** Taken into a round: its value may be chosen from now on. */
  proposed: boolean;
  /** This request's `waitUntil`: keeps a drive loop that this request starts alive after its answer. */
  readonly background: ((work: Promise<unknown>) => void) | undefined;
}

type PendingRequest =
  | (Waiting<BatchOutcome> & {
      readonly kind: "append";
      readonly entries: readonly EntryInput[];
      /** UTF-8 size of the entries' JSON: what the slot's row will hold. */
      readonly bytes: number;
    })
  | (Waiting<void> & { readonly kind: "sync" });

const utf8 = new TextEncoder();

/**
 * A waiting request checks this many times whether it must take over driving before it gives up:
 * with every round bounded by its attempts and backoff, a request is decided long before.
 */
const driver_takeover_polls_max = 1_000_000;


type QuorumResult<R> = { ok: true; replies: R[] } | { ok: false; replies: AcceptorReply[] };

/** A slot to propose, with the UTF-8 size of its value (bounds what the proposer owes in Commits). */
interface SlotProposal {
  readonly slot: number;
  readonly value: SlotValue;
  readonly bytes: number;
}

/** Chosen slots not yet told to one acceptor; `value` set where that acceptor never got the Accept. */
interface OwedCommits {
  items: CommitItem[];
  /** Per item: its value's bytes (0 for a bare commit), and whether it is owed again after a lost message. */
  itemBytes: number[];
  retried: boolean[];
  bytes: number;
  /** Bumped on every item: the idle flush only fires when no slot was added after its timer started. */
  generation: number;
}


/**
 * The outcome as this round's requests must see it: an entry is `exists` only if it was in the
 * ledger before the request. When an earlier attempt of the same round got `value` chosen in
 * another slot (its Accepted replies lost, or another proposer's recovery finishing that slot) and a
 * later attempt proposed it again, the later slot finds the entries there: they are this request's
 * own, so `created`. Proposing in a slot is not enough: a stale proposer may have proposed there
 * while another value held it (a resend of an acknowledged request does). So the entry must also
 * postdate this value: a slot's entries carry committedAt = max(the ledger's last time, its value's
 * proposedAt_ms), so an entry from `value` is never older than it, while one acknowledged before this
 * request was built is. Only the first occurrence of an id in `value`, in a batch that applied, is its
 * creator; a repeat (within the batch, or in an earlier batch of the group) stays `exists`, as it was
 * in that slot. The time check assumes the proposers' clocks differ by less than a client's resend
 * delay: a resend through a proposer whose clock runs far behind could read `created`.
 */
export function ownEntriesCreated(outcome: SlotOutcome, value: SlotValue, proposedIn: ReadonlySet<number>): SlotOutcome {
  if (value.kind !== "append") return outcome;
  const { proposedAt_ms } = value;
  // A batch the ledger refuses applies nothing, so it created nothing: the creator is the first
  // occurrence among the batches that applied (refusals are read from this outcome, the same rules
  // over a later prefix: the slot that chose the value cannot be read back here).
  const firstAt = new Map<string, string>();
  value.batches.forEach((batch, b) => {
    if (outcome.batches[b]?.kind !== "applied") return;
    batch.forEach((e, k) => firstAt.has(e.id) || firstAt.set(e.id, `${b}:${k}`));
  });
  const batches = outcome.batches.map((batchOutcome, b): BatchOutcome => {
    if (batchOutcome.kind !== "applied") return batchOutcome;
    const receipts = batchOutcome.receipts.map((r, k) =>
      r.status === "exists" &&
      r.slot !== outcome.slot &&
      proposedIn.has(r.slot) &&
      Date.parse(r.committedAt) >= proposedAt_ms &&
      firstAt.get(r.id) === `${b}:${k}`
        ? { ...r, status: "created" as const }
        : r,
    );
    return { kind: "applied", receipts };
  });
  return { slot: outcome.slot, batches };
}

function slotValueBytes(value: SlotValue): number {
  return utf8.encode(JSON.stringify(value)).length;
}

export class Proposer {
  private readonly queue: PendingRequest[] = [];
  /** True while a request's drive loop is running rounds. */
  private driving = false;
  /** The driving request's `waitUntil`, for background commits. */
  private background: ((work: Promise<unknown>) => void) | undefined;
  /** Set while this proposer holds a promised ballot from a phase-1 quorum. */
  private leaderBallot: Ballot | undefined;
  private nextSlot = 1;
  private highestRoundSeen = 0;
  /** UTF-8 bytes of the entries waiting in the queue (bounded by `proposer_queue_bytes_max`). */
  private queuedBytes = 0;
  /** Accepts sent so far: a lingering commit is dropped when an Accept carried it first. */
  private acceptsSent = 0;
  /** Moving average of how long a quorum takes to answer; scales the backoff. */
  private quorumRoundTrip_ms = 0;
  /** Moving average of each acceptor's reply time; a failed call counts as `quorum_timeout_ms`. */
  private readonly acceptorLatency_ms = new Map<string, number>();
  /** The accept quorum that thrifty Accepts go to; chosen again after a phase 1 or an escalation. */
  private acceptTargets: readonly string[] | undefined;
  /**
   * Whether the current round is under load (it groups several requests, or more wait behind it):
   * only then are Accepts thrifty. A lone request's Accept goes to every acceptor, so the quorum is
   * the fastest replies of all of them: under jitter that is quicker than a fixed quorum's slowest.
   */
  private underLoad = false;
  /** Recent commits, oldest first, at most `commit_history_max`. */
  private readonly commitHistory: Array<{ at_ms: number; latency_ms: number; entries: number }> = [];
  /** The last append round: how many requests it grouped and when it ended. */
  private lastRound = { requests: 0, ended_ms: Number.NEGATIVE_INFINITY };
  /** Per acceptor: chosen slots it has not been told of (bounded by `owed_commit_*_max`). */
  private readonly owed = new Map<string, OwedCommits>();
  /** The acceptors the last phase 2 sent its Accept to: a lingering commit goes to them. */
  private lastAcceptSentTo: ReadonlySet<string> = new Set();
  /**
   * Per acceptor: until when it counts as unreachable (its call failed, or it did not answer within a
   * whole quorum timeout), unless it answers before (`acceptor_failure_memory_ms`).
   */
  private readonly failedUntil_ms = new Map<string, { until_ms: number; why: string }>();
  /** Quorum calls the current round may still make (`round_quorum_calls_max`, or less on a small budget). */
  private roundQuorumCallsLeft: number;
  /** The current attempt's deadline (the latest of its requests'): no quorum wait runs past it. */
  private attemptDeadline_ms = Number.POSITIVE_INFINITY;

  /** Counters for tests and benchmarks. */
  readonly stats = {
    phase1_runs: 0,
    phase2_runs: 0,
    messages_sent: 0,
    slots_chosen: 0,
    outcome_fallbacks: 0,
    requests_committed: 0,
    entries_committed: 0,
    /** Tenures ended early because the driving request's subrequest budget could not cover a round. */
    budget_handovers: 0,
    /** Attempts not made because fewer than a quorum were reachable. */
    fail_fast: 0,
    /** Prepares sent again at the same ballot because a Promise listing was truncated (the re-prepare loop). */
    reprepares: 0,
    /** Accept chunks after the first of one phase 2 (the slots did not fit one message). */
    phase2_extra_chunks: 0,
  };

  /** The limits in force: `options.limits`, or production's. */
  private readonly limits: CoreLimits;

  constructor(
    private readonly env: ProposerEnv,
    private readonly options: ProposerOptions = {},
  ) {
    this.limits = options.limits ?? limits;
    this.roundQuorumCallsLeft = this.limits.round_quorum_calls_max;
    assert(
      this.limits.message_slots_max - this.limits.owed_commit_slots_max - 1 >= 1,
      "an Accept has room for one slot beside the commits owed to its acceptor",
    );
    assert(env.acceptorIds.length === env.quorum.acceptors, "one acceptor id per acceptor of the quorum config");
    assert(env.proposerId.length > 0, "proposer id is non-empty");
  }

  /** The commits of the last `window_ms` (at most `commit_history_max` of them). */
  recentCommits(window_ms: number): RecentCommits {
    const since_ms = this.env.now_ms() - window_ms;
    const recent = this.commitHistory.filter((c) => c.at_ms >= since_ms);
    const sorted = recent.map((c) => c.latency_ms).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      window_ms,
      commits: recent.length,
      entries: recent.reduce((n, c) => n + c.entries, 0),
      latency_ms: sorted.length === 0 ? null : { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1)! },
    };
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
    assert(entries.length >= 1 && entries.length <= this.limits.request_entries_max, "request size within limits");
    const bytes = utf8.encode(JSON.stringify(entries)).length;
    assert(bytes <= this.limits.slot_value_bytes_max, "a request fits in one slot");
    return this.enqueue<BatchOutcome>({ kind: "append", entries, bytes, ...this.waiting<BatchOutcome>(background, options) });
  }

  private waiting<T>(background: ((work: Promise<unknown>) => void) | undefined, options: RequestOptions): Waiting<T> {
    const deadline_ms = Math.min(options.deadline_ms ?? this.limits.commit_deadline_ms, this.limits.commit_deadline_ms);
    assert(deadline_ms >= 0, "a deadline is not negative");
    const deadline_at_ms = this.env.now_ms() + deadline_ms;
    return { done: deferred<T>(), settled: false, proposed: false, deadline_ms, deadline_at_ms, background };
  }

  /**
   * Runs phase 1 and finishes every slot it recovers, so that no accepted slot is left undecided.
   * A linearizable read calls it when an accepted slot stays above every replica's applied prefix
   * (a leader that died mid-round leaves one behind until the next phase 1).
   */
  sync(background?: (work: Promise<unknown>) => void, options: RequestOptions = {}): Promise<void> {
    return this.enqueue<void>({ kind: "sync", ...this.waiting<void>(background, options) });
  }

  /**
   * Group commit. Requests queue; one of them drives: it runs rounds (each one slot, shared by every
   * append request that fits) until the queue is empty or its tenure ends, in its own async context,
   * kept alive after its own answer by its `waitUntil`. Every waiting request checks on its own timer
   * whether it has been decided, and takes over driving when no one is. That is what a Worker needs:
   * I/O belongs to the request that started it, a request's own timers wake it in its own context,
   * and a promise settled by another request would resume it in that other request's context.
   */
  private async enqueue<T>(request: PendingRequest & Waiting<T>): Promise<T> {
    if (this.queue.length >= this.limits.proposer_queue_requests_max) {
      throw new ProposerOverloadedError(`queue holds ${this.limits.proposer_queue_requests_max} requests`);
    }
    const bytes = request.kind === "append" ? request.bytes : 0;
    if (this.queuedBytes + bytes > this.limits.proposer_queue_bytes_max) {
      throw new ProposerOverloadedError(`queue holds ${this.limits.proposer_queue_bytes_max} bytes of entries`);
    }
    this.queuedBytes += bytes;
    this.queue.push(request);
    // Only this request's own timers wake it: awaiting `done` directly would resume it inside
    // whichever request settled it, and a Worker cannot answer a request from another's context.
    // The exception is the loop this request starts itself: it runs in this request's context, so its
    // end-of-round signal may wake this request at once instead of at the next poll.
    let wake: Deferred<void> | undefined;
    for (let polls = 0; !request.settled; polls++) {
      if (!this.driving) {
        wake = deferred<void>();
        this.startDriving(request.background, () => wake?.resolve());
      }
      if (request.settled) break;
      if (this.env.now_ms() >= request.deadline_at_ms) {
        this.expire(request);
        break;
      }
      assert(polls < driver_takeover_polls_max, "a queued request is decided within its polling bound");
      const timer = this.env.sleep(this.limits.driver_takeover_poll_ms);
      await (wake === undefined ? timer : Promise.race([wake.promise, timer]));
      if (wake !== undefined) wake = deferred<void>();
    }
    return request.done.promise;
  }

  /**
   * Answers a request whose deadline has passed: 503. One still queued is taken out, so nothing of it
   * is ever proposed (its outcome is known: not applied); one already in a round may still be chosen.
   */
  private expire(request: PendingRequest): void {
    if (request.settled) return;
    const waited_ms = this.env.now_ms() - (request.deadline_at_ms - request.deadline_ms);
    const at = this.queue.indexOf(request);
    if (at >= 0) {
      assert(!request.proposed, "a queued request has not been proposed");
      this.queue.splice(at, 1);
      if (request.kind === "append") this.queuedBytes -= request.bytes;
    }
    request.settled = true;
    request.done.reject(
      new QuorumUnavailableError(
        `${request.proposed ? "no quorum" : "not proposed (requests ahead of it held the ledger)"} within its deadline ` +
          `of ${request.deadline_ms} ms (waited ${Math.round(waited_ms)} ms)${this.reachabilityNote()}`,
        { proposed: request.proposed },
      ),
    );
  }

  private startDriving(background: ((work: Promise<unknown>) => void) | undefined, afterRound: () => void): void {
    this.driving = true;
    this.background = background;
    const loop = this.driveLoop(afterRound);
    background?.(loop);
  }

  /** Rounds until the queue is empty or the driver's tenure is over; then someone else takes over. */
  private async driveLoop(afterRound: () => void): Promise<void> {
    const started_ms = this.env.now_ms();
    try {
      for (let round = 0; this.queue.length > 0 && round < this.limits.driver_rounds_max; round++) {
        if (this.env.now_ms() - started_ms >= this.limits.driver_tenure_ms) break;
        const calls = this.roundQuorumCallsAffordable(round === 0);
        if (calls === undefined) {
          // Hand over: a waiting request, with its own budget, takes over at its next poll.
          this.stats.budget_handovers++;
          break;
        }
        this.roundQuorumCallsLeft = calls;
        await this.round();
        afterRound();
      }
    } finally {
      this.driving = false;
    }
  }

  /**
   * The quorum calls the next round may make within the driving request's subrequest budget, or
   * undefined when it must hand over. A round needs at most `round_quorum_calls_max` calls of one
   * message per acceptor, plus `round_background_messages_per_acceptor` commits per acceptor; a
   * tenure's first round may run on less (the request has nothing else to spend it on), if that
   * still allows `round_quorum_calls_min` calls.
   */
  private roundQuorumCallsAffordable(firstOfTenure: boolean): number | undefined {
    const left = this.env.subrequestsLeft?.();
    if (left === undefined) return this.limits.round_quorum_calls_max;
    const n = this.env.acceptorIds.length;
    const calls = Math.floor((left - this.limits.round_background_messages_per_acceptor * n) / n);
    if (calls >= this.limits.round_quorum_calls_max) return this.limits.round_quorum_calls_max;
    if (firstOfTenure && calls >= this.limits.round_quorum_calls_min) return calls;
    return undefined;
  }

  /** One round for the requests at the head of the queue. */
  private async round(): Promise<void> {
    // Requests whose deadline passed while queued are answered now, never proposed.
    for (let first = this.queue[0]; first !== undefined && this.env.now_ms() >= first.deadline_at_ms; first = this.queue[0]) {
      this.expire(first);
    }
    const head = this.queue[0];
    if (head === undefined) return;
    if (head.kind === "sync") {
      this.queue.shift();
      head.proposed = true;
      try {
        await this.withAttempts(() => this.recover(), head.deadline_at_ms);
        head.settled = true;
        head.done.resolve();
      } catch (error) {
        if (!head.settled) head.done.reject(error);
        head.settled = true;
        this.failQueuedIfUnreachable();
      }
      return;
    }
    const group = this.takeGroup();
    for (const r of group) r.proposed = true;
    const value: SlotValue = { kind: "append", proposedAt_ms: this.env.now_ms(), batches: group.map((r) => r.entries) };
    /** Every slot this round's attempts proposed `value` in: its own entries there are `created`. */
    const proposedIn = new Set<number>();
    try {
      const bytes = group.reduce((n, r) => n + r.bytes, 0);
      const recentlyBusy =
        this.lastRound.requests > 1 && this.env.now_ms() - this.lastRound.ended_ms < this.limits.thrifty_load_window_ms;
      this.underLoad = group.length > 1 || this.queue.length > 0 || recentlyBusy;
      const deadline_at_ms = Math.max(...group.map((r) => r.deadline_at_ms));
      const chosen = await this.withAttempts(() => this.commit(value, bytes, proposedIn), deadline_at_ms);
      const outcome = ownEntriesCreated(chosen, value, proposedIn);
      assert(outcome.batches.length === group.length, "one outcome per batch of the slot");
      this.stats.requests_committed += group.length;
      const entries = group.reduce((n, r) => n + r.entries.length, 0);
      this.stats.entries_committed += entries;
      const now_ms = this.env.now_ms();
      this.commitHistory.push({ at_ms: now_ms, latency_ms: now_ms - value.proposedAt_ms, entries });
      if (this.commitHistory.length > this.limits.commit_history_max) this.commitHistory.shift();
      group.forEach((r, i) => {
        // One already answered 503 at its deadline keeps that answer; its client retries the same
        // ids and gets these receipts.
        if (!r.settled) r.done.resolve(outcome.batches[i]!);
        r.settled = true;
      });
    } catch (error) {
      for (const r of group) {
        if (!r.settled) r.done.reject(error);
        r.settled = true;
      }
      this.failQueuedIfUnreachable();
    } finally {
      this.lastRound = { requests: group.length, ended_ms: this.env.now_ms() };
    }
  }

  /** Consecutive append requests from the head of the queue, within a slot's entry and byte this.limits. */
  private takeGroup(): Array<Extract<PendingRequest, { kind: "append" }>> {
    const group: Array<Extract<PendingRequest, { kind: "append" }>> = [];
    let entries = 0;
    let bytes = 0;
    for (let next = this.queue[0]; next !== undefined && next.kind === "append"; next = this.queue[0]) {
      if (this.env.now_ms() >= next.deadline_at_ms) {
        this.expire(next); // out of the queue, never proposed
        continue;
      }
      const fits = entries + next.entries.length <= this.limits.slot_entries_max && bytes + next.bytes <= this.limits.slot_value_bytes_max;
      if (group.length > 0 && !fits) break;
      this.queue.shift();
      group.push(next);
      entries += next.entries.length;
      bytes += next.bytes;
    }
    assert(group.length > 0 || this.queue.length === 0 || this.queue[0]!.kind === "sync", "a group holds the first live append");
    this.queuedBytes -= bytes;
    return group;
  }

  /**
   * Runs `attempt` until it succeeds, backing off between tries; `QuorumUnavailableError` as soon as
   * fewer than a quorum of acceptors are reachable (by the recently-failed view), at `deadline_at_ms`,
   * when the round's quorum calls are spent, or after `append_attempts_max` attempts.
   */
  private async withAttempts<T>(attempt: () => Promise<T>, deadline_at_ms: number): Promise<T> {
    this.attemptDeadline_ms = deadline_at_ms;
    try {
      for (let n = 0; n < this.limits.append_attempts_max; n++) {
        // A round's first attempt always runs: what failed a moment ago may be back (a healed
        // region, one lost message), and refusing unsent would turn a healed ledger away for a whole
        // `acceptor_failure_memory_ms`; against a real outage the attempt costs at most one quorum
        // timeout. After a failed attempt, any acceptor just seen failing counts: no retry then.
        const unreachable = n === 0 ? undefined : this.quorumUnreachable();
        if (unreachable !== undefined) {
          this.stats.fail_fast++;
          throw new QuorumUnavailableError(unreachable, { proposed: true });
        }
        if (this.env.now_ms() >= deadline_at_ms) {
          throw new QuorumUnavailableError(`no quorum within the deadline${this.reachabilityNote()}`, { proposed: n > 0 });
        }
        try {
          return await attempt();
        } catch (error) {
          if (!(error instanceof AttemptFailed)) throw error;
          // An Accept that was not acknowledged by a quorum may still be chosen later; this ballot
          // must never propose another value for that slot, so give the leadership up.
          this.leaderBallot = undefined;
          if (error instanceof RoundCallsSpent) throw new QuorumUnavailableError(error.message);
          if (this.quorumUnreachable() !== undefined) continue; // answered at the top, without a wait
          // Full jitter, scaled by the quorum round trip: contending proposers need gaps of a few
          // round trips (prepare, then accept) for one of them to finish before the next preempts it.
          const step_ms = Math.max(this.limits.backoff_base_ms, 3 * this.quorumRoundTrip_ms);
          const ceiling_ms = Math.min(this.limits.backoff_cap_ms, step_ms * 2 ** n);
          const left_ms = Math.max(0, deadline_at_ms - this.env.now_ms());
          await this.env.sleep(Math.min(left_ms, this.env.random() * ceiling_ms));
        }
      }
      throw new QuorumUnavailableError(`no quorum after ${this.limits.append_attempts_max} attempts${this.reachabilityNote()}`);
    } finally {
      this.attemptDeadline_ms = Number.POSITIVE_INFINITY;
    }
  }

  /**
   * After a round found fewer than a quorum reachable, the requests queued behind it would meet the
   * same: answer them now (never proposed, so nothing of them is applied) rather than after one more
   * quorum timeout each.
   */
  private failQueuedIfUnreachable(): void {
    const unreachable = this.quorumUnreachable();
    if (unreachable === undefined) return;
    this.stats.fail_fast += this.queue.length;
    for (const r of this.queue.splice(0)) {
      if (r.kind === "append") this.queuedBytes -= r.bytes;
      if (!r.settled) r.done.reject(new QuorumUnavailableError(`not proposed: ${unreachable}`, { proposed: false }));
      r.settled = true;
    }
  }

  /** Acceptors an attempt needs: an accept quorum for a leader, else a prepare quorum first. */
  private attemptNeeds(): number {
    const { prepare, accept } = this.env.quorum;
    return this.leaderBallot === undefined ? Math.max(prepare, accept) : accept;
  }

  /** The acceptors currently counted unreachable, with why. */
  private unreachableNow(): Array<{ id: string; why: string }> {
    const now_ms = this.env.now_ms();
    const out: Array<{ id: string; why: string }> = [];
    for (const id of this.env.acceptorIds) {
      const failed = this.failedUntil_ms.get(id);
      if (failed === undefined || failed.until_ms <= now_ms) continue;
      out.push({ id, why: failed.why });
    }
    return out;
  }

  /** Why an attempt cannot reach a quorum now, or undefined when it may. */
  private quorumUnreachable(): string | undefined {
    const down = this.unreachableNow();
    const total = this.env.acceptorIds.length;
    const need = this.attemptNeeds();
    if (total - down.length >= need) return undefined;
    return (
      `${total - down.length} of ${total} acceptors reachable, ${need} needed ` +
      `(${down.map((d) => `${d.id} ${d.why}`).join("; ")})`
    );
  }

  /** For a message: which acceptors failed just now, if any. */
  private reachabilityNote(): string {
    const down = this.unreachableNow();
    return down.length === 0 ? "" : ` (${down.map((d) => `${d.id} ${d.why}`).join("; ")})`;
  }

  /**
   * A call that failed. One the request refused itself before sending it (its subrequest budget:
   * the transport throws a `QuorumUnavailableError`) says nothing of the acceptor.
   */
  private noteCallFailed(id: string, error: unknown): void {
    if (error instanceof QuorumUnavailableError) return;
    this.markFailed(id, `failed: ${errorText(error)}`);
    // A failed call counts as slow as a whole wait: thrifty Accepts pick the others.
    this.noteLatency(id, this.limits.quorum_timeout_ms);
  }

  /** A failed call or a silence: unreachable for `acceptor_failure_memory_ms` unless it answers. */
  private markFailed(id: string, why: string): void {
    this.failedUntil_ms.set(id, { until_ms: this.env.now_ms() + this.limits.acceptor_failure_memory_ms, why });
  }

  private markAnswered(id: string): void {
    this.failedUntil_ms.delete(id);
  }

  /** One quorum round trip (or a whole wait without a quorum) into the moving average. */
  private noteQuorumRoundTrip(took_ms: number): void {
    this.quorumRoundTrip_ms = this.quorumRoundTrip_ms === 0 ? took_ms : 0.8 * this.quorumRoundTrip_ms + 0.2 * took_ms;
  }

  /**
   * How long a quorum call waits: `quorum_timeout_rtt_multiple` times the measured quorum round
   * trip, within [`quorum_timeout_floor_ms`, `quorum_timeout_ms`]; the cap until one is measured.
   */
  private quorumTimeout_ms(): number {
    if (this.quorumRoundTrip_ms === 0) return this.limits.quorum_timeout_ms;
    const scaled_ms = this.limits.quorum_timeout_rtt_multiple * this.quorumRoundTrip_ms;
    return Math.min(this.limits.quorum_timeout_ms, Math.max(this.limits.quorum_timeout_floor_ms, scaled_ms));
  }

  /** Counts one quorum call of the current round; past its bound the round's attempts end. */
  private spendQuorumCall(): void {
    if (this.roundQuorumCallsLeft <= 0) {
      throw new RoundCallsSpent(`the round made every quorum call it was allowed (at most ${this.limits.round_quorum_calls_max}) without a quorum`);
    }
    this.roundQuorumCallsLeft--;
  }

  /** One attempt to get `value` chosen in some slot; returns that slot's outcome. */
  private async commit(value: SlotValue, bytes: number, proposedIn: Set<number>): Promise<SlotOutcome> {
    assert(slotValueEntryCount(value) <= this.limits.slot_entries_max, "slot within its entry limit");
    let slots: SlotProposal[] = [];
    if (this.leaderBallot === undefined) slots = await this.phase1();
    // Recovery may have found this very value accepted by an earlier attempt: finish that slot
    // rather than proposing the value a second time.
    let mine = slots.find((s) => slotValuesEqual(s.value, value))?.slot;
    if (mine === undefined) {
      mine = this.nextSlot;
      slots.push({ slot: mine, value, bytes });
    }
    this.nextSlot = Math.max(this.nextSlot, mine + 1);
    proposedIn.add(mine);
    const outcomes = await this.phase2(slots);
    const outcome = outcomes.get(mine) ?? (await this.fetchOutcome(mine));
    if (this.options.prepareEveryCommitForBaseline) this.leaderBallot = undefined;
    return outcome;
  }

  /** One attempt at a fresh phase 1 whose recovered slots are then chosen. */
  private async recover(): Promise<void> {
    this.leaderBallot = undefined;
    const slots = await this.phase1();
    if (slots.length > 0) await this.phase2(slots);
  }

  /**
   * Phase 1: a ballot above every round seen, promised by a prepare quorum; returns the slots to
   * re-propose: for every slot above the highest chosenThrough, the value accepted at the highest
   * ballot, or a no-op where no promise holds one.
   */
  private async phase1(): Promise<SlotProposal[]> {
    this.stats.phase1_runs++;
    // Rounds start from the clock: a cold isolate's first ballot already outranks those of earlier
    // isolates (no Reject round trip to learn the current round), and it is still above every round
    // this proposer has seen, so a slow clock only costs one Reject.
    const round = Math.max(this.highestRoundSeen + 1, Math.floor(this.env.now_ms()));
    const ballot: Ballot = { round, proposerId: this.env.proposerId };
    this.highestRoundSeen = ballot.round;
    const recovered = new Map<number, AcceptedSlot>();
    let chosenThrough = 0;
    let fromSlot = 1;
    let highestListed = 0;
    for (let round = 0; ; round++) {
      if (round >= this.limits.recovery_rounds_max) throw new AttemptFailed("recovery backlog beyond its limit");
      if (round > 0) this.stats.reprepares++;
      this.spendQuorumCall();
      const result = await this.toQuorum<PromiseReply>(
        () => ({ type: "prepare", ballot, fromSlot }),
        this.env.quorum.prepare,
        (r): r is PromiseReply => r.type === "promise" && compareBallots(r.ballot, ballot) === 0,
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
      for (const p of result.replies) for (const a of p.accepted) if (a.slot <= horizon) highestListed = Math.max(highestListed, a.slot);
      if (horizon === Number.POSITIVE_INFINITY) break;
      fromSlot = Math.max(horizon, chosenThrough) + 1;
    }
    this.leaderBallot = ballot;
    // Every acceptor just answered (or failed) a prepare: pick the fastest accept quorum afresh.
    this.acceptTargets = undefined;
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
  private async phase2(slots: readonly SlotProposal[]): Promise<Map<number, SlotOutcome>> {
    const ballot = this.leaderBallot;
    assert(ballot !== undefined, "phase 2 runs under a promised ballot");
    const outcomes = new Map<number, SlotOutcome>();
    // Chunks leave room in a message for the commits owed to its acceptor.
    const chunk_slots_max = this.limits.message_slots_max - this.limits.owed_commit_slots_max - 1;
    for (let i = 0; i < slots.length; i += chunk_slots_max) {
      const chunk = slots.slice(i, i + chunk_slots_max).map(({ slot, value }) => ({ slot, value }));
      this.spendQuorumCall();
      this.stats.phase2_runs++;
      if (i > 0) this.stats.phase2_extra_chunks++;
      this.acceptsSent++; // it carries the pending commits: no separate commit message for them
      const sentTo = new Set<string>();
      /** Acceptors whose Accept failed or was refused: they do not hold this chunk's values. */
      const notTaken = new Set<string>();
      let chosen = false;
      const oweValues = (id: string) => {
        // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
        if (this.options.sabotage === "owed_values_dropped") return;
        for (let k = i; k < i + chunk.length; k++) {
          const { slot, value, bytes } = slots[k]!;
          this.owe(id, { slot, ballot, value }, bytes);
        }
      };
      const result = await this.toQuorum<Accepted>(
        (id, owed) => {
          sentTo.add(id);
          return { type: "accept", ballot, slots: chunk, commits: owed?.items ?? [] };
        },
        this.env.quorum.accept,
        (r): r is Accepted => r.type === "accepted" && compareBallots(r.ballot, ballot) === 0,
        {
          targets: this.thriftyTargets(),
          carriesCommits: true,
          // An Accept that fails or is refused after the quorum answered: owe that acceptor the values.
          onNotTaken: (id) => {
            notTaken.add(id);
            if (chosen) oweValues(id);
          },
        },
      );
      if (!result.ok) throw new AttemptFailed("no accept quorum");
      // Chosen. Every acceptor is owed the commit, carried by the next message to it: the next
      // Accept, or a Commit after a linger. Those that did not take the Accept (not sent one, or it
      // failed, or they refused it) are owed the value too: a bare commit would leave them a gap.
      chosen = true;
      this.stats.slots_chosen += chunk.length;
      for (const id of this.env.acceptorIds) {
        if (!sentTo.has(id) || notTaken.has(id)) oweValues(id);
        else for (let k = i; k < i + chunk.length; k++) this.owe(id, { slot: slots[k]!.slot, ballot }, 0);
      }
      this.lastAcceptSentTo = sentTo;
      this.commitSoon();
      for (const r of result.replies) for (const o of r.outcomes) if (!outcomes.has(o.slot)) outcomes.set(o.slot, o);
    }
    return outcomes;
  }

  /**
   * The accept quorum a thrifty Accept goes to: the fastest acceptors by measured latency, kept until
   * a phase 1 or an escalation (a stable set keeps its acceptors' applied prefixes current, so their
   * Accepted replies predict the outcome). Undefined (send to all) until enough latencies are known.
   */
  private thriftyTargets(): readonly string[] | undefined {
    if (this.options.thrifty === false || this.options.prepareEveryCommitForBaseline || !this.underLoad) return undefined;
    if (this.acceptTargets !== undefined) return this.acceptTargets;
    const need = this.env.quorum.accept;
    const known = this.env.acceptorIds.filter((id) => this.acceptorLatency_ms.has(id));
    if (known.length < need || need >= this.env.acceptorIds.length) return undefined;
    known.sort((a, b) => this.acceptorLatency_ms.get(a)! - this.acceptorLatency_ms.get(b)!);
    this.acceptTargets = known.slice(0, need);
    return this.acceptTargets;
  }

  /** What the next message to `id` carries: the commits owed to it (no longer owed, unless that message is lost). */
  private takeOwed(id: string): OwedCommits | undefined {
    const owed = this.owed.get(id);
    this.owed.delete(id);
    return owed;
  }

  /**
   * Owes again, once, the commits of a message that `id` did not acknowledge within
   * `quorum_timeout_ms` (lost, or its call failed): for an acceptor outside the accept quorum that
   * message may be its only news of those slots, and an idle ledger sends no other.
   */
  private watchDelivery(id: string, owed: OwedCommits | undefined, reply: Promise<unknown>): void {
    if (owed === undefined || owed.items.length === 0) return;
    let settled = false;
    const lost = () => {
      if (settled) return;
      settled = true;
      this.oweAgain(id, owed);
    };
    reply.then(() => (settled = true), lost);
    const watch = this.env.sleep(this.limits.quorum_timeout_ms).then(lost);
    (this.background ?? this.env.background)?.(watch);
  }

  /** The commits of an unacknowledged message, owed again unless they were owed again once already. */
  private oweAgain(id: string, owed: OwedCommits): void {
    // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
    if (this.options.sabotage === "lost_commits_never_resent") return;
    owed.items.forEach((item, k) => {
      if (!owed.retried[k]) this.owe(id, item, owed.itemBytes[k]!, true);
    });
  }

  /**
   * Records a chosen slot `id` has not heard of. A full batch goes out at once; otherwise the batch
   * goes out when no slot has been added for `owed_commit_linger_ms` (or with the next message to it).
   */
  private owe(id: string, item: CommitItem, bytes: number, retried = false): void {
    const owed = this.owed.get(id) ?? { items: [], itemBytes: [], retried: [], bytes: 0, generation: 0 };
    const held = owed.items.findIndex((c) => c.slot === item.slot);
    if (held >= 0) {
      // Owed already (a lost message's copy). A value replaces a bare commit for the slot: the
      // acceptor turned out not to hold it (its Accept failed after the quorum answered).
      if (owed.items[held]!.value !== undefined || item.value === undefined) return;
      owed.items[held] = item;
      owed.bytes += bytes - owed.itemBytes[held]!;
      owed.itemBytes[held] = bytes;
    } else {
      this.owed.set(id, owed);
      owed.items.push(item);
      owed.itemBytes.push(bytes);
      owed.retried.push(retried);
      owed.bytes += bytes;
    }
    const generation = ++owed.generation;
    if (owed.items.length >= this.limits.owed_commit_slots_max || owed.bytes >= this.limits.owed_commit_bytes_max) {
      this.sendOwed(id, this.takeOwed(id));
      return;
    }
    const flush = this.env.sleep(this.limits.owed_commit_linger_ms).then(() => {
      if (this.owed.get(id) !== owed || owed.generation !== generation) return; // sent, or more came
      this.sendOwed(id, this.takeOwed(id));
    });
    (this.background ?? this.env.background)?.(flush);
  }

  /** The applied outcome of a chosen slot, from the first acceptor that has applied it. */
  private async fetchOutcome(slot: number): Promise<SlotOutcome> {
    this.spendQuorumCall();
    this.stats.outcome_fallbacks++;
    const result = await this.toQuorum(
      (_id, owed) => ({ type: "commit", commits: owed?.items ?? [], outcomeOf: slot }),
      1,
      (r): r is Extract<AcceptorReply, { type: "committed" }> => r.type === "committed" && r.outcome !== undefined,
      { carriesCommits: true },
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
   * Sends these commits in the background after `commit_linger_ms`, unless an Accept has carried them
   * first: under load the next slot's Accept follows at once and the commit costs no message of its
   * own; when the ledger goes idle, the replicas still learn the slot a moment later.
   */
  private commitSoon(): void {
    const round = ++this.acceptsSent;
    const sentTo = this.lastAcceptSentTo;
    const send = this.env.sleep(this.limits.commit_linger_ms).then(() => {
      if (this.acceptsSent !== round) return;
      // The acceptors that missed the Accept are owed the values, on their own (longer) linger.
      for (const id of sentTo) this.sendOwed(id, this.takeOwed(id));
    });
    (this.background ?? this.env.background)?.(send);
  }

  /** A Commit of what is owed to `id`, in the background (nothing when nothing is owed). */
  private sendOwed(id: string, owed: OwedCommits | undefined): void {
    if (owed === undefined || owed.items.length === 0) return;
    this.stats.messages_sent++;
    const sent_ms = this.env.now_ms();
    const reply = this.env.send(id, { type: "commit", commits: owed.items });
    this.watchDelivery(id, owed, reply);
    const sent = reply.then(
      (r) => {
        this.markAnswered(id);
        this.noteLatency(id, this.env.now_ms() - sent_ms);
        this.noteReply(r);
      },
      (error: unknown) => this.noteCallFailed(id, error),
    );
    (this.background ?? this.env.background)?.(sent);
  }

  private noteLatency(id: string, took_ms: number): void {
    const was = this.acceptorLatency_ms.get(id);
    this.acceptorLatency_ms.set(id, was === undefined ? took_ms : 0.8 * was + 0.2 * took_ms);
  }

  private noteReply(r: AcceptorReply): void {
    if (r.type === "reject") {
      this.highestRoundSeen = Math.max(this.highestRoundSeen, r.promised.round);
      if (this.leaderBallot !== undefined && compareBallots(r.promised, this.leaderBallot) > 0) {
        this.leaderBallot = undefined;
      }
    }
  }

  /**
   * Sends `requestFor(id)` to the acceptors (to `targets` first, when given) and settles on the first
   * `need` replies that pass `isOk`, or as soon as that has become impossible, or after
   * `quorum_timeout_ms`. Targets that fail, or have no quorum after the escalation delay, bring in
   * the other acceptors, and the next thrifty Accept picks its quorum afresh. Each message carries
   * the commits owed to its acceptor (`requestFor` gets them), owed again if it is not acknowledged.
   */
  private toQuorum<R extends AcceptorReply>(
    requestFor: (id: string, owed: OwedCommits | undefined) => AcceptorRequest,
    need: number,
    isOk: (r: AcceptorReply) => r is R,
    {
      targets,
      carriesCommits = false,
      onNotTaken,
    }: {
      targets?: readonly string[] | undefined;
      carriesCommits?: boolean;
      /** Called for each acceptor whose call fails or whose reply does not pass `isOk`, even after settling. */
      onNotTaken?: (id: string) => void;
    } = {},
  ): Promise<QuorumResult<R>> {
    const total = this.env.acceptorIds.length;
    const started_ms = this.env.now_ms();
    const first = targets ?? this.env.acceptorIds;
    // No wait runs past the attempt's deadline; only a wait of the whole timeout counts the silent
    // acceptors as unreachable (a wait cut short by the deadline says nothing about them).
    const fullTimeout_ms = this.quorumTimeout_ms();
    const timeout_ms = Math.max(0, Math.min(fullTimeout_ms, this.attemptDeadline_ms - started_ms));
    /** Acceptors sent to that have neither answered nor failed yet. */
    const silent = new Set<string>();
    return new Promise((resolve) => {
      const ok: R[] = [];
      const all: AcceptorReply[] = [];
      let failed = 0;
      let sent = 0;
      let escalated = targets === undefined;
      let settled = false;
      const settle = (result: QuorumResult<R>) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const escalate = () => {
        if (escalated || settled) return;
        escalated = true;
        this.acceptTargets = undefined;
        for (const id of this.env.acceptorIds) if (!first.includes(id)) sendTo(id);
      };
      // Commits carried to acceptors that have not answered yet: owed again if the call fails or is
      // still unanswered at the quorum timeout (the timer below, not one more per message).
      const unacknowledged = new Map<string, OwedCommits>();
      const lost = (id: string) => {
        const owed = unacknowledged.get(id);
        unacknowledged.delete(id);
        if (owed !== undefined) this.oweAgain(id, owed);
      };
      const fail = () => {
        failed++;
        if (!escalated && sent - failed < need) escalate();
        if (total - failed < need) settle({ ok: false, replies: all });
      };
      const sendTo = (id: string) => {
        this.stats.messages_sent++;
        sent++;
        const sent_ms = this.env.now_ms();
        const owed = carriesCommits ? this.takeOwed(id) : undefined;
        if (owed !== undefined && owed.items.length > 0) unacknowledged.set(id, owed);
        silent.add(id);
        this.env.send(id, requestFor(id, owed)).then(
          (reply) => {
            unacknowledged.delete(id);
            silent.delete(id);
            this.markAnswered(id);
            this.noteLatency(id, this.env.now_ms() - sent_ms);
            all.push(reply);
            this.noteReply(reply);
            if (isOk(reply)) {
              ok.push(reply);
              // A quorum that answers after the wait gave up is measured too: otherwise a cluster
              // that became slower than the timeout would never be waited for long enough again.
              if (ok.length === need) this.noteQuorumRoundTrip(this.env.now_ms() - started_ms);
              if (ok.length >= need && !settled) settle({ ok: true, replies: ok });
            } else {
              onNotTaken?.(id);
              fail();
            }
          },
          (error: unknown) => {
            silent.delete(id);
            lost(id);
            this.noteCallFailed(id, error);
            onNotTaken?.(id);
            fail();
          },
        );
      };
      for (const id of first) sendTo(id);
      if (!escalated) {
        const slowest_ms = Math.max(...first.map((id) => this.acceptorLatency_ms.get(id) ?? 0));
        void this.env.sleep(Math.max(this.limits.thrifty_escalate_floor_ms, 2 * slowest_ms)).then(escalate);
      }
      const timeout = this.env.sleep(timeout_ms).then(() => {
        for (const id of [...unacknowledged.keys()]) lost(id);
        if (timeout_ms >= fullTimeout_ms) {
          for (const id of silent) this.markFailed(id, `did not answer within ${Math.round(fullTimeout_ms)} ms`);
          // A whole wait without a quorum counts as a round trip at least that long: the next wait
          // is longer (up to the cap), so a slowed cluster is waited for, and a dead one still is
          // answered within `quorum_timeout_ms`.
          if (!settled) this.noteQuorumRoundTrip(timeout_ms);
        }
        settle({ ok: false, replies: all });
      });
      // Kept alive after the answer (a Worker's waitUntil) while it may still owe commits again.
      if (unacknowledged.size > 0) (this.background ?? this.env.background)?.(timeout);
    });
  }
}
