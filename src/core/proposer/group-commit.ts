/**
 * Group commit: requests queue; one of them drives. The driver runs group rounds (each commits one
 * slot, shared by every append request at the head of the queue that fits) until the queue is
 * empty or its tenure ends, in its own async context, kept alive after its own answer by its
 * `waitUntil`. Every waiting request checks on its own timer whether it has been decided, and
 * takes over driving when no one is. That is what a Worker needs: I/O belongs to the request that
 * started it, a request's own timers wake it in its own context, and a promise settled by another
 * request would resume it in that other request's context. In one I/O context (a Durable Object,
 * the coordinator: `requestsShareOneContext`) that rule does not hold, and waiters sleep until a
 * group round ends instead of polling.
 */
import { assert } from "../assert.js";
import type { EntryInput } from "../entry-schema.js";
import type { BatchOutcome, SlotOutcome } from "../ledger-types.js";
import type { CoreLimits } from "../limits.js";
import type { SlotValue } from "../slot-value.js";
import { CommitHistory } from "./commit-history.js";
import { type Deferred, deferred } from "./deferred.js";
import { ProposerOverloadedError, QuorumUnavailableError } from "./errors.js";
import { ownEntriesCreated } from "./own-entries.js";
import { RoundWindow } from "./round-window.js";
import type { Timers } from "./timers.js";
import type { ProposerStats, RecentCommits, RequestOptions } from "./types.js";

type Background = (work: Promise<unknown>) => void;

interface Waiting<T> {
  /** Settled when this request's slot is decided (by whichever request drove it). */
  readonly done: Deferred<T>;
  settled: boolean;
  /** The server's whole time for it, and when that ends on the proposer's clock: then 503. */
  readonly deadline_ms: number;
  readonly deadline_at_ms: number;
  /** Taken into a group round: its value may be chosen from now on. */
  proposed: boolean;
  /** This request's `waitUntil`: keeps a drive loop that this request starts alive after its answer. */
  readonly background: Background | undefined;
}

type AppendRequest = Waiting<BatchOutcome> & {
  readonly kind: "append";
  readonly entries: readonly EntryInput[];
  /** UTF-8 size of the entries' JSON: what the slot's row will hold. */
  readonly bytes: number;
};

type PendingRequest = AppendRequest | (Waiting<void> & { readonly kind: "sync" });

const utf8 = new TextEncoder();

/**
 * The polls after which a waiting request is answered as expired even if the clock says its deadline
 * has not passed. Each poll ends on its timer (the clock then has moved `driver_takeover_poll_ms`,
 * give or take one tick of a coarse clock), or at the end of a group round of the drive loop the
 * request started. The request answers at its deadline, so timer polls end after deadline / poll
 * interval; and every group round takes at least one request off the head of the FIFO queue the
 * request stands in, behind fewer than `proposer_queue_requests_max`, so the round-ended polls are at
 * most that many. Two spare: the first check, and a clock tick. With a clock that keeps time the
 * deadline always comes first, so this bound changes nothing then.
 */
export function takeoverPollsMax(deadline_ms: number, limits: CoreLimits): number {
  return Math.ceil(deadline_ms / limits.driver_takeover_poll_ms) + limits.proposer_queue_requests_max + 2;
}

/** What group rounds ask of the protocol (`Proposer`). */
export interface GroupRoundProtocol {
  /** Attempts until `value` is chosen in some slot, within `quorumCalls`; `proposedIn` gathers its slots. */
  commit(
    value: SlotValue,
    bytes: number,
    proposedIn: Set<number>,
    deadline_at_ms: number,
    underLoad: boolean,
    quorumCalls: number,
  ): Promise<SlotOutcome>;
  /** Attempts until a fresh phase 1 and the slots it recovers are chosen, within `quorumCalls`. */
  recover(deadline_at_ms: number, quorumCalls: number): Promise<void>;
  /** Why no attempt can reach a quorum now, or undefined. */
  quorumUnreachable(): string | undefined;
  /** Whether the proposer holds the leadership now: only then may further group rounds start beside one in flight. */
  leads(): boolean;
  /** For a 503's message: which acceptors failed just now, if any. */
  reachabilityNote(): string;
}

export interface GroupCommitEnv {
  readonly acceptorCount: number;
  now_ms(): number;
  subrequestsLeft?(): number;
}

export class GroupCommit {
  private readonly queue: PendingRequest[] = [];
  /** Drive loops running group rounds (more than one only with `roundsInFlightMax` above 1, while leading). */
  private drivers = 0;
  /** Group rounds in flight now, and how many may be (`round-window.ts`). */
  private roundsInFlight = 0;
  private readonly window: RoundWindow;
  /** The driving request's `waitUntil`, for background commits. */
  driverBackground: Background | undefined;
  /** UTF-8 bytes of the entries waiting in the queue (bounded by `proposer_queue_bytes_max`). */
  private queuedBytes = 0;
  /** Recent commits (at most `commit_history_max`): the status page's. */
  private readonly commitHistory: CommitHistory;
  /** The last append group round: how many requests it grouped and when it ended. */
  private lastGroupRound = { requests: 0, ended_ms: Number.NEGATIVE_INFINITY };

  constructor(
    private readonly env: GroupCommitEnv,
    private readonly limits: CoreLimits,
    private readonly stats: ProposerStats,
    private readonly protocol: GroupRoundProtocol,
    private readonly timers: Timers,
    /**
     * Whether every request runs in one I/O context (a Durable Object: the coordinator), so that a
     * request may be resumed by another: then a waiting request sleeps until the end of the next group
     * round (`roundEnded`) or its deadline, with no poll timer. A Worker (false) must poll: there each
     * request has its own context. Measured under `wrangler dev`: 64 requests polling every 5 ms in one
     * Durable Object delayed its timers by 0.5 to 1.5 s.
     */
    private readonly oneContext = false,
    /**
     * Group rounds in flight at once while the proposer leads (one context only): a request that finds
     * fewer drive loops running, requests queued and the leadership held starts one more drive loop in
     * its own context, so each round in flight runs on its own request's budget and connections.
     */
    private readonly roundsInFlightMax = 1,
  ) {
    assert(roundsInFlightMax >= 1 && (roundsInFlightMax === 1 || oneContext), "rounds in flight in one context only");
    this.window = new RoundWindow(roundsInFlightMax, limits);
    this.commitHistory = new CommitHistory(limits.commit_history_max);
  }

  /** One context only: resolved (and replaced) at the end of each group round and of each tenure. */
  private roundEnded = deferred<void>();

  private wakeWaiters(): void {
    if (!this.oneContext) return;
    const ended = this.roundEnded;
    this.roundEnded = deferred<void>();
    ended.resolve();
  }

  /** The commits of the last `window_ms` (at most `commit_history_max` of them). */
  recentCommits(window_ms: number): RecentCommits {
    return this.commitHistory.recent(this.env.now_ms(), window_ms);
  }

  append(
    entries: readonly EntryInput[],
    background: Background | undefined,
    options: RequestOptions,
  ): Promise<BatchOutcome> {
    assert(entries.length >= 1 && entries.length <= this.limits.request_entries_max, "request size within limits");
    const bytes = utf8.encode(JSON.stringify(entries)).length;
    assert(bytes <= this.limits.slot_value_bytes_max, "a request fits in one slot");
    return this.enqueue<BatchOutcome>({
      kind: "append",
      entries,
      bytes,
      ...this.waiting<BatchOutcome>(background, options),
    });
  }

  sync(background: Background | undefined, options: RequestOptions): Promise<void> {
    return this.enqueue<void>({ kind: "sync", ...this.waiting<void>(background, options) });
  }

  private waiting<T>(background: Background | undefined, options: RequestOptions): Waiting<T> {
    const deadline_ms = Math.min(options.deadline_ms ?? this.limits.commit_deadline_ms, this.limits.commit_deadline_ms);
    assert(deadline_ms >= 0, "a deadline is not negative");
    const deadline_at_ms = this.env.now_ms() + deadline_ms;
    return { done: deferred<T>(), settled: false, proposed: false, deadline_ms, deadline_at_ms, background };
  }

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
    // end-of-group-round signal may wake this request at once instead of at the next poll.
    const polls_max = takeoverPollsMax(request.deadline_ms, this.limits);
    let wake: Deferred<void> | undefined;
    // One context: the request's one timer, at its deadline (the wait below also ends at every group round's end).
    const deadline = this.oneContext
      ? this.timers.wait("request_deadline", Math.max(0, request.deadline_at_ms - this.env.now_ms()))
      : undefined;
    // One context: a request whose tenure ended before its first round (its subrequest budget could
    // not cover one) never drives again; its budget only shrinks. Otherwise requests with spent budgets
    // would wake one another at every tenure's end with no timer between, spinning until their bound.
    let mayDrive = true;
    // Rounds in flight: the end of other requests' rounds wakes this one long after it was proposed.
    // Those wakes are not bounded by the queue ahead of it, so only the wakes while it is still queued
    // count (at most the requests ahead of it), and every wake once its deadline timer has fired.
    let deadlineFired = false;
    if (this.roundsInFlightMax > 1) void deadline?.then(() => (deadlineFired = true));
    for (let polls = 0; !request.settled; ) {
      if (this.roundsInFlightMax === 1 || !request.proposed || deadlineFired) polls++;
      if (this.mayStartDriving() && mayDrive) {
        const driversBefore = this.drivers;
        wake = deferred<void>();
        this.startDriving(request.background, () => wake?.resolve());
        if (this.oneContext && this.drivers === driversBefore && this.queue.length > 0) mayDrive = false;
      }
      if (request.settled) break;
      // The bound holds on its own, whatever the clock does: with a clock that keeps time the
      // deadline ends the wait first; one that runs behind the timers (a wall clock stepped back)
      // must not keep a request waiting, nor fail it with an invariant error while it stays queued
      // to be committed later with its client told nothing was applied. It is answered as expired.
      if (this.env.now_ms() >= request.deadline_at_ms || polls > polls_max) {
        this.expire(request);
        break;
      }
      if (deadline !== undefined) {
        await Promise.race([this.roundEnded.promise, deadline]);
        continue;
      }
      const poll = this.timers.wait("takeover_poll", this.limits.driver_takeover_poll_ms);
      await (wake === undefined ? poll : Promise.race([wake.promise, poll]));
      if (wake !== undefined) wake = deferred<void>();
    }
    return request.done.promise;
  }

  /**
   * Answers a request whose deadline has passed: 503. One still queued is taken out, so nothing of it
   * is ever proposed (its outcome is known: not applied); one already in a group round may still be chosen.
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
          `of ${request.deadline_ms} ms (waited ${Math.round(waited_ms)} ms)${this.protocol.reachabilityNote()}`,
        { proposed: request.proposed },
      ),
    );
  }

  /** No drive loop runs; or, with rounds in flight, fewer than the window allows run, requests wait and the proposer leads. */
  private mayStartDriving(): boolean {
    if (this.drivers === 0) return true;
    return this.drivers < this.window.allowed && this.queue.length > 0 && this.protocol.leads();
  }

  private startDriving(background: Background | undefined, afterGroupRound: () => void): void {
    this.drivers++;
    this.driverBackground = background;
    const loop = this.driveLoop(afterGroupRound);
    background?.(loop);
  }

  /** Group rounds until the queue is empty or the driver's tenure is over; then someone else takes over. */
  private async driveLoop(afterGroupRound: () => void): Promise<void> {
    const started_ms = this.env.now_ms();
    try {
      for (let groupRounds = 0; this.queue.length > 0 && groupRounds < this.limits.driver_rounds_max; groupRounds++) {
        if (this.env.now_ms() - started_ms >= this.limits.driver_tenure_ms) break;
        // Without the leadership, one drive loop is enough: the others' rounds would wait for its phase 1.
        // And no more loops than the window allows: a closed window returns to batching.
        if (this.drivers > 1 && (!this.protocol.leads() || this.drivers > this.window.allowed)) break;
        const calls = this.quorumCallsAffordable(groupRounds === 0);
        if (calls === undefined) {
          // Hand over: a waiting request, with its own budget, takes over at its next poll.
          this.stats.budget_handovers++;
          break;
        }
        this.roundsInFlight++;
        this.stats.rounds_in_flight_peak = Math.max(this.stats.rounds_in_flight_peak, this.roundsInFlight);
        try {
          await this.runGroupRound(calls);
        } finally {
          this.roundsInFlight--;
        }
        afterGroupRound();
        this.wakeWaiters();
      }
    } finally {
      this.drivers--;
      // A tenure that ended with requests queued hands over to them at once (one context only).
      this.wakeWaiters();
    }
  }

  /**
   * The quorum calls the next group round may make within the driving request's subrequest budget,
   * or undefined when it must hand over. A group round needs at most `round_quorum_calls_max` calls
   * of one message per acceptor, plus `round_background_messages_per_acceptor` commits per acceptor;
   * a tenure's first group round may run on less (the request has nothing else to spend it on), if
   * that still allows `round_quorum_calls_min` calls.
   */
  private quorumCallsAffordable(firstOfTenure: boolean): number | undefined {
    const left = this.env.subrequestsLeft?.();
    if (left === undefined) return this.limits.round_quorum_calls_max;
    const n = this.env.acceptorCount;
    const calls = Math.floor((left - this.limits.round_background_messages_per_acceptor * n) / n);
    if (calls >= this.limits.round_quorum_calls_max) return this.limits.round_quorum_calls_max;
    if (firstOfTenure && calls >= this.limits.round_quorum_calls_min) return calls;
    return undefined;
  }

  /** One group round for the requests at the head of the queue. */
  private async runGroupRound(quorumCalls: number): Promise<void> {
    // Requests whose deadline passed while queued are answered now, never proposed.
    for (
      let first = this.queue[0];
      first !== undefined && this.env.now_ms() >= first.deadline_at_ms;
      first = this.queue[0]
    ) {
      this.expire(first);
    }
    const head = this.queue[0];
    if (head === undefined) return;
    if (head.kind === "sync") {
      // The recoveries queued together are one: each asks that every slot undecided when it was
      // queued be decided, and one phase 1 from now does that for all of them (a burst of stuck reads
      // from many Workers costs the ledger one phase 1, not one each).
      const syncs: PendingRequest[] = [];
      for (let next = this.queue[0]; next !== undefined && next.kind === "sync"; next = this.queue[0]) {
        syncs.push(this.queue.shift()!);
      }
      for (const r of syncs) r.proposed = true;
      try {
        await this.protocol.recover(Math.max(...syncs.map((r) => r.deadline_at_ms)), quorumCalls);
        for (const r of syncs) {
          if (!r.settled) r.done.resolve(undefined as never);
          r.settled = true;
        }
      } catch (error) {
        for (const r of syncs) {
          if (!r.settled) r.done.reject(error);
          r.settled = true;
        }
        this.failQueuedIfUnreachable();
      }
      return;
    }
    const group = this.takeGroup();
    for (const r of group) r.proposed = true;
    const value: SlotValue = { kind: "append", proposedAt_ms: this.env.now_ms(), batches: group.map((r) => r.entries) };
    // A round that must run phase 1 first takes longer for that alone: it says nothing of congestion.
    const led = this.protocol.leads();
    /** Every slot this group round's attempts proposed `value` in: its own entries there are `created`. */
    const proposedIn = new Set<number>();
    try {
      const bytes = group.reduce((n, r) => n + r.bytes, 0);
      const recentlyBusy =
        this.lastGroupRound.requests > 1 &&
        this.env.now_ms() - this.lastGroupRound.ended_ms < this.limits.thrifty_load_window_ms;
      const underLoad = group.length > 1 || this.queue.length > 0 || recentlyBusy;
      const deadline_at_ms = Math.max(...group.map((r) => r.deadline_at_ms));
      const chosen = await this.protocol.commit(value, bytes, proposedIn, deadline_at_ms, underLoad, quorumCalls);
      const outcome = ownEntriesCreated(chosen, value, proposedIn);
      assert(outcome.batches.length === group.length, "one outcome per batch of the slot");
      this.stats.requests_committed += group.length;
      const entries = group.reduce((n, r) => n + r.entries.length, 0);
      this.stats.entries_committed += entries;
      const now_ms = this.env.now_ms();
      this.commitHistory.record({ at_ms: now_ms, latency_ms: now_ms - value.proposedAt_ms, entries });
      if (led) this.window.roundEnded(now_ms - value.proposedAt_ms, true);
      group.forEach((r, i) => {
        // One already answered 503 at its deadline keeps that answer; its client retries the same
        // ids and gets these receipts.
        if (!r.settled) r.done.resolve(outcome.batches[i]!);
        r.settled = true;
      });
    } catch (error) {
      if (led) this.window.roundEnded(this.env.now_ms() - value.proposedAt_ms, false);
      for (const r of group) {
        if (!r.settled) r.done.reject(error);
        r.settled = true;
      }
      this.failQueuedIfUnreachable();
    } finally {
      this.lastGroupRound = { requests: group.length, ended_ms: this.env.now_ms() };
    }
  }

  /** Consecutive append requests from the head of the queue, within a slot's entry and byte limits. */
  private takeGroup(): AppendRequest[] {
    const group: AppendRequest[] = [];
    let entries = 0;
    let bytes = 0;
    for (let next = this.queue[0]; next !== undefined && next.kind === "append"; next = this.queue[0]) {
      if (this.env.now_ms() >= next.deadline_at_ms) {
        this.expire(next); // out of the queue, never proposed
        continue;
      }
      const fits =
        entries + next.entries.length <= this.limits.slot_entries_max &&
        bytes + next.bytes <= this.limits.slot_value_bytes_max;
      if (group.length > 0 && !fits) break;
      this.queue.shift();
      group.push(next);
      entries += next.entries.length;
      bytes += next.bytes;
    }
    assert(
      group.length > 0 || this.queue.length === 0 || this.queue[0]!.kind === "sync",
      "a group holds the first live append",
    );
    this.queuedBytes -= bytes;
    return group;
  }

  /**
   * After a group round found fewer than a quorum reachable, the requests queued behind it would
   * meet the same: answer them now (never proposed, so nothing of them is applied) rather than after
   * one more quorum timeout each.
   */
  private failQueuedIfUnreachable(): void {
    const unreachable = this.protocol.quorumUnreachable();
    if (unreachable === undefined) return;
    this.stats.fail_fast += this.queue.length;
    for (const r of this.queue.splice(0)) {
      if (r.kind === "append") this.queuedBytes -= r.bytes;
      if (!r.settled) r.done.reject(new QuorumUnavailableError(`not proposed: ${unreachable}`, { proposed: false }));
      r.settled = true;
    }
  }
}
