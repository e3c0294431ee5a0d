/**
 * One ledger's hub in this isolate: the shared tail that ONE poll of the nearest replica feeds every
 * `poll_interval_ms` for all of the ledger's streams, and who runs that poll. The hub holds plain data
 * only (entries already fetched and formatted as SSE text): it is run by one subscriber request at a
 * time (`poller`), taken over by the next subscriber to find the poll overdue (see `../stream-hub.ts`).
 */
import type { LedgerHead } from "../../core/ledger-types.js";
import type { StreamLimits } from "./limits.js";
import { sseOf, type TailEntry } from "./sse-events.js";
import type { StreamEnd, StreamPage } from "./stream-io.js";
import type { StreamSubscriber } from "./subscriber.js";

interface PollTicket {
  readonly generation: number;
  readonly after: number;
  readonly initial: boolean;
}

export interface HubStats {
  /** Replica reads made for the hub (each one poll of the shared tail). */
  polls: number;
  pollFailures: number;
  /** Replica reads made by subscribers catching up on their own. */
  catchUpReads: number;
  /** Subscribers that joined the live tail. */
  joins: number;
  ends: Partial<Record<StreamEnd, number>>;
}

/** One ledger's streams in this isolate. */
export class LedgerStreamHub {
  readonly subscribers = new Set<StreamSubscriber>();
  /** The highest seq the hub has published; undefined until its first poll. */
  polledThrough: number | undefined;
  /** The newest published entries, contiguous, ending at `polledThrough`. */
  private recent: TailEntry[] = [];
  head: LedgerHead | undefined;
  private lastPollStarted_ms = Number.NEGATIVE_INFINITY;
  private inFlight: { generation: number; by: StreamSubscriber; started_ms: number } | undefined;
  private generation = 0;
  /** The subscriber that runs the poll, until it leaves or cannot. */
  private poller: StreamSubscriber | undefined;
  private pollDuration_ms_avg = 10;
  readonly stats: HubStats = { polls: 0, pollFailures: 0, catchUpReads: 0, joins: 0, ends: {} };

  constructor(
    readonly ledger: string,
    private readonly limits: StreamLimits,
    /** A poll in flight longer than this is presumed lost (its request may be gone). */
    private readonly pollLease_ms: number,
  ) {}

  /** Joins the live tail when the hub's recent entries reach back to the subscriber's cursor. */
  tryJoin(sub: StreamSubscriber): boolean {
    if (this.polledThrough === undefined || sub.live) return sub.live;
    const through = this.polledThrough;
    const first = through - this.recent.length + 1;
    if (sub.cursor < first - 1 || through - sub.cursor > this.limits.subscriber_buffer_entries_max) return false;
    // Ahead of the hub (it read a replica further along): later entries are skipped up to its cursor.
    sub.queue = sub.cursor >= through ? [] : this.recent.slice(sub.cursor - first + 1);
    sub.live = true;
    this.stats.joins++;
    return true;
  }

  /** True while the hub has not been started and another subscriber is starting it. */
  startingByAnother(sub: StreamSubscriber, now_ms: number): boolean {
    return (
      this.polledThrough === undefined &&
      this.inFlight !== undefined &&
      this.inFlight.by !== sub &&
      now_ms - this.inFlight.started_ms < this.pollLease_ms
    );
  }

  /** The first read of an idle hub: the subscriber reads from its own cursor and starts the hub with what it got. */
  claimStart(sub: StreamSubscriber, now_ms: number): PollTicket | undefined {
    if (this.polledThrough !== undefined || this.startingByAnother(sub, now_ms)) return undefined;
    this.inFlight = { generation: ++this.generation, by: sub, started_ms: now_ms };
    this.lastPollStarted_ms = now_ms;
    return { generation: this.generation, after: sub.cursor, initial: true };
  }

  /**
   * The live poll, when it is due and this subscriber is the one to run it. `"out_of_budget"` when it
   * would be, but its request cannot afford another read and nobody else has taken the poll over.
   */
  claimPoll(sub: StreamSubscriber, now_ms: number): PollTicket | "out_of_budget" | undefined {
    if (this.polledThrough === undefined) return undefined;
    if (this.inFlight !== undefined && now_ms - this.inFlight.started_ms < this.pollLease_ms) return undefined;
    const due_ms = this.lastPollStarted_ms + this.limits.poll_interval_ms;
    if (now_ms < due_ms) return undefined;
    const overdue = now_ms >= due_ms + this.limits.poll_handover_ms;
    if (!sub.canRead(this.limits.subrequest_margin)) {
      if (this.poller === sub) this.poller = undefined; // hand the poll over
      return overdue ? "out_of_budget" : undefined;
    }
    const otherPoller = this.poller !== undefined && this.poller !== sub && !this.poller.released;
    if (otherPoller && !overdue) return undefined; // the poller's own timer is about to run it
    this.poller = sub;
    this.inFlight = { generation: ++this.generation, by: sub, started_ms: now_ms };
    this.lastPollStarted_ms = now_ms;
    return { generation: this.generation, after: this.polledThrough, initial: false };
  }

  /** The read of a claimed poll failed: the next one is due after the interval. */
  failed(ticket: PollTicket): void {
    this.stats.pollFailures++;
    if (this.inFlight?.generation === ticket.generation) this.inFlight = undefined;
  }

  /**
   * Publishes a claimed poll's page to every live subscriber. Ignored when the poll was taken over
   * meanwhile, or when the page does not continue the hub's tail exactly (then the next poll retries).
   */
  publish(ticket: PollTicket, page: StreamPage, now_ms: number): void {
    this.stats.polls++;
    if (this.inFlight?.generation !== ticket.generation) return;
    this.pollDuration_ms_avg = 0.8 * this.pollDuration_ms_avg + 0.2 * Math.max(0, now_ms - this.inFlight.started_ms);
    this.inFlight = undefined;
    const entries = page.entries;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.seq !== ticket.after + 1 + i) return; // not contiguous: never publish a gap
    }
    const more = entries.length > 0 && entries[entries.length - 1]!.seq < page.head.seq;
    if (ticket.initial) {
      // A first read that did not reach its replica's head is a catch-up read, not the hub's start.
      if (more) return;
      this.polledThrough = entries.length > 0 ? ticket.after + entries.length : Math.min(ticket.after, page.head.seq);
      this.recent = entries.slice(-this.limits.hub_recent_entries_max).map(sseOf);
      this.head = page.head;
      return;
    }
    if (this.head === undefined || page.head.seq >= this.head.seq) this.head = page.head;
    if (more) this.lastPollStarted_ms = now_ms - this.limits.poll_interval_ms; // due at once: read on
    if (entries.length === 0) return;
    const added = entries.map(sseOf);
    this.polledThrough = ticket.after + entries.length;
    this.recent =
      this.recent.length + added.length <= this.limits.hub_recent_entries_max
        ? this.recent.concat(added)
        : this.recent.concat(added).slice(-this.limits.hub_recent_entries_max);
    for (const sub of this.subscribers) {
      if (!sub.live || sub.ended !== undefined) continue;
      const fresh = sub.cursor >= ticket.after ? added.filter((e) => e.seq > sub.cursor) : added;
      if (sub.queue.length + fresh.length > this.limits.subscriber_buffer_entries_max) {
        sub.queue = [];
        sub.ended = "overflow";
        continue;
      }
      for (const e of fresh) sub.queue.push(e);
    }
  }

  /** When a live subscriber with nothing to write should wake next (absolute time, ms). */
  nextWake_ms(sub: StreamSubscriber, now_ms: number): number {
    if (this.inFlight !== undefined) return this.afterInFlight_ms(now_ms);
    const due_ms = this.lastPollStarted_ms + this.limits.poll_interval_ms;
    if (now_ms < due_ms) {
      const anotherPolls = this.poller !== undefined && this.poller !== sub && !this.poller.released;
      // The poller wakes when the poll is due; the others just after it should have been published.
      return anotherPolls ? due_ms + this.pollDuration_ms_avg + this.limits.poll_recheck_ms : due_ms;
    }
    // Due, but the poller has not started it: look again after as long as it is already late (no
    // herd of wakeups when the isolate is busy), and take it over once it is overdue.
    const late_ms = now_ms - due_ms;
    return Math.max(
      now_ms + 1,
      Math.min(due_ms + this.limits.poll_handover_ms, now_ms + Math.max(this.limits.poll_recheck_ms, late_ms)),
    );
  }

  /**
   * When to look again at a poll (or the hub's first read) in flight: just after its usual duration,
   * then after waits as long as it has already taken (so a slow read is not met by a herd of wakeups
   * from every waiting stream), at most a poll interval apart.
   */
  afterInFlight_ms(now_ms: number): number {
    const started_ms = this.inFlight?.started_ms ?? now_ms;
    const usual_ms = started_ms + this.pollDuration_ms_avg + this.limits.poll_recheck_ms;
    if (now_ms < usual_ms) return usual_ms;
    return now_ms + Math.min(this.limits.poll_interval_ms, Math.max(this.limits.poll_recheck_ms, now_ms - started_ms));
  }

  leave(sub: StreamSubscriber): void {
    this.subscribers.delete(sub);
    if (this.poller === sub) this.poller = undefined;
    if (this.inFlight?.by === sub) {
      // Its read may never come back (its request is gone): the next subscriber polls at once, and
      // that read's late result, if any, is ignored (another generation).
      this.lastPollStarted_ms = this.inFlight.started_ms - this.limits.poll_interval_ms; // due at once
      this.inFlight = undefined;
    }
    sub.live = false;
    sub.queue = [];
  }
}
