/**
 * Server-Sent Event streams (`GET /v1/ledgers/:ledger/stream`), bounded and shared per isolate:
 *
 * - Places: an isolate serves at most `streams_per_ledger_max` streams of one ledger,
 *   `streams_per_key_max` of one API key and `streams_per_isolate_max` in all; beyond them the
 *   request is refused (429 `too_many_streams`, Retry-After). A stream frees its place when it ends
 *   for any reason: the client went away (abort), its time is up, its request's subrequest budget
 *   is nearly spent, it fell too far behind, or it failed; a stream whose request vanished without
 *   any of these running is swept after `subscriber_lease_ms` without a sign of life.
 * - One poll per ledger: all of one ledger's streams in the isolate are fed by ONE poll of the
 *   nearest replica every `poll_interval_ms` (a hub), not one poll per stream.
 *
 * Workers' I/O context shapes the hub: I/O started by one request (an acceptor call, a timer, a write
 * to its response) belongs to that request, and a promise another request settles would resume the
 * waiter in the wrong context. So the hub holds only plain data (entries already fetched, already
 * formatted as SSE text), and every await of a stream is its own: its own timer, its own writes, and,
 * when it is the one that polls, its own acceptor call. The poll is run by one subscriber request at
 * a time (`poller`); the others wake on their own timers just after the poll should have finished
 * and copy what it published. When the poller leaves, runs out of budget or stalls, the next
 * subscriber to find the poll overdue takes it over.
 *
 * A subscriber has its own cursor and a bounded queue. It starts by catching up: when the hub's
 * recent entries reach back to its cursor it joins the live tail with them at once (no I/O);
 * otherwise it reads its own pages (bounded) until it does. A live subscriber whose queue would
 * exceed `subscriber_buffer_entries_max` (its client reads too slowly) is ended: it reconnects with
 * Last-Event-ID and catches up from there, missing nothing.
 */
import type { Entry, LedgerHead } from "../core/ledger-types.js";
import { ApiError } from "./errors.js";
import { read_timeout_ms } from "./ledger-service.js";

/** The platform-side limits of streams (per isolate). */
export interface StreamLimits {
  /** Open streams of one ledger in one isolate. */
  readonly streams_per_ledger_max: number;
  /** Open streams of one API key in one isolate. */
  readonly streams_per_key_max: number;
  /** Open streams in one isolate, all ledgers and keys together (bounds the hubs kept). */
  readonly streams_per_isolate_max: number;
  /** The Retry-After of a 429 `too_many_streams`, in seconds. */
  readonly too_many_streams_retry_after_s: number;
  /** How often the hub polls the nearest replica for new entries. */
  readonly poll_interval_ms: number;
  /** A stream that wrote nothing for this long sends a heartbeat (with the head). */
  readonly heartbeat_ms: number;
  /** A stream lives this long, then ends; the client reconnects with Last-Event-ID and misses nothing. */
  readonly duration_ms_max: number;
  /** Entries waiting in one subscriber's queue at most; beyond it the subscriber is ended. */
  readonly subscriber_buffer_entries_max: number;
  /** The hub's most recent entries kept for joiners (no more than a subscriber's queue holds). */
  readonly hub_recent_entries_max: number;
  /** Entries one replica read asks for (a page of the poll or of a catch-up). */
  readonly page_entries_max: number;
  /** Catch-up pages one stream reads at most before it ends (and is resumed by its client). */
  readonly catch_up_pages_max: number;
  /** Entries written to the response in one write. */
  readonly write_batch_entries_max: number;
  /**
   * Subrequests a stream's request keeps unspent: it stops reading when one more read (which may try
   * every region) could bring it within this margin of `subrequests_per_request_max`.
   */
  readonly subrequest_margin: number;
  /** While a poll is in flight, how often waiting subscribers look whether it has been published. */
  readonly poll_recheck_ms: number;
  /** A poll overdue by this long is taken over from the subscriber that polls (it may be stuck). */
  readonly poll_handover_ms: number;
  /** A subscriber not seen awake for this long has lost its request: its place is swept. */
  readonly subscriber_lease_ms: number;
}

export const stream_limits: StreamLimits = {
  streams_per_ledger_max: 256,
  streams_per_key_max: 128,
  streams_per_isolate_max: 1024,
  too_many_streams_retry_after_s: 5,
  poll_interval_ms: 250,
  heartbeat_ms: 15_000,
  duration_ms_max: 5 * 60_000,
  subscriber_buffer_entries_max: 2000,
  hub_recent_entries_max: 1000,
  page_entries_max: 1000,
  catch_up_pages_max: 1000,
  write_batch_entries_max: 100,
  subrequest_margin: 10,
  poll_recheck_ms: 20,
  poll_handover_ms: 250,
  subscriber_lease_ms: 60_000,
};

/** One replica read: entries after `after` (in seq order, at most `limit`) and that replica's head. */
export interface StreamPage {
  readonly entries: readonly Entry[];
  readonly head: LedgerHead;
}

/**
 * A stream request's subrequest budget: Cloudflare's per-request limit (`SUBREQUESTS_PER_REQUEST_MAX`,
 * lowered per request only by the test header of `request-budget.ts`) and what the request has used,
 * as the transport counts it for the request's async context.
 */
export interface SubrequestBudget {
  readonly max: number;
  used(): number;
}

/** What one stream's request does itself: its clock, its timer, its writes, its replica reads. */
export interface StreamIo {
  now_ms(): number;
  sleep(ms: number): Promise<void>;
  /** Writes SSE text to this stream's own response. */
  write(text: string): Promise<void>;
  /**
   * Reads a page from the nearest replica that answers, in this request's context; calls
   * `onSubrequest` once per acceptor call it makes (one per region tried).
   */
  readPage(after: number, limit: number, onSubrequest: () => void): Promise<StreamPage>;
}

export type StreamEnd =
  | "aborted"
  | "duration"
  | "overflow"
  | "subrequest_budget"
  | "catch_up_pages"
  | "swept"
  | "error";

/** An entry as the hub keeps it: its seq and its SSE event, formatted once for every subscriber. */
interface TailEntry {
  readonly seq: number;
  readonly sse: string;
}

function sseOf(e: Entry): TailEntry {
  // The same lines Hono's writeSSE writes; an entry's JSON has no line break.
  return { seq: e.seq, sse: `event: entry\ndata: ${JSON.stringify(e)}\nid: ${e.seq}\n\n` };
}

function heartbeatOf(head: LedgerHead | undefined): string {
  const h = head ?? { seq: 0, hash: "0".repeat(64), committedAt_ms: 0 };
  const body = { head: { seq: h.seq, hash: h.hash, committedAt: h.seq === 0 ? null : new Date(h.committedAt_ms).toISOString() } };
  return `event: heartbeat\ndata: ${JSON.stringify(body)}\n\n`;
}

let nextSubscriberId = 1;

export class StreamSubscriber {
  readonly id = nextSubscriberId++;
  /** The last seq written to (or skipped by) this stream. */
  cursor: number;
  /** Entries published by the hub and not yet written (live subscribers only). */
  queue: TailEntry[] = [];
  live = false;
  /** Set when its queue overflowed or it was swept: it ends at its next wake. */
  ended: StreamEnd | undefined;
  /** The place is given back (idempotent: abort, loop end and sweep may all try). */
  released = false;
  /** Acceptor calls this stream made (its request's whole count is `budget.used()`). */
  subrequests = 0;
  catchUpPages = 0;
  lastSeen_ms: number;

  constructor(
    readonly hub: LedgerStreamHub,
    readonly keyName: string,
    after: number,
    now_ms: number,
    readonly budget: SubrequestBudget,
    /** Acceptor calls one read may make at most (it may try every region). */
    readonly subrequestsPerRead_max: number,
  ) {
    this.cursor = after;
    this.lastSeen_ms = now_ms;
  }

  /** True when one more read cannot bring this request within the margin of its budget. */
  canRead(margin: number): boolean {
    return Math.max(this.subrequests, this.budget.used()) + this.subrequestsPerRead_max + margin <= this.budget.max;
  }
}

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
    return this.polledThrough === undefined && this.inFlight !== undefined && this.inFlight.by !== sub && now_ms - this.inFlight.started_ms < this.pollLease_ms;
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
    this.recent = this.recent.length + added.length <= this.limits.hub_recent_entries_max
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
    return Math.max(now_ms + 1, Math.min(due_ms + this.limits.poll_handover_ms, now_ms + Math.max(this.limits.poll_recheck_ms, late_ms)));
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

export type Admission =
  | { readonly admitted: true; readonly subscriber: StreamSubscriber }
  | { readonly admitted: false; readonly limit: "ledger" | "key" | "isolate"; readonly max: number; readonly open: number };

/** Every stream of this isolate: places per ledger, per key and in all, and one hub per ledger. */
export class StreamHubs {
  private readonly hubs = new Map<string, LedgerStreamHub>();
  private readonly byKey = new Map<string, Set<StreamSubscriber>>();
  private open = 0;
  /** Ends by reason, over every hub this isolate has had. */
  readonly ends: Partial<Record<StreamEnd, number>> = {};

  constructor(public limits: StreamLimits = stream_limits) {}

  hub(ledger: string): LedgerStreamHub | undefined {
    return this.hubs.get(ledger);
  }

  openStreams(): number {
    return this.open;
  }

  /** Takes a place for a new stream, or says which limit refuses it. */
  admit(
    ledger: string,
    keyName: string,
    after: number,
    now_ms: number,
    request: { readonly budget: SubrequestBudget; readonly regions: number },
  ): Admission {
    const hub = this.hubs.get(ledger);
    const keyed = this.byKey.get(keyName);
    if (hub !== undefined && hub.subscribers.size >= this.limits.streams_per_ledger_max) this.sweep(hub.subscribers, now_ms);
    if (keyed !== undefined && keyed.size >= this.limits.streams_per_key_max) this.sweep(keyed, now_ms);
    if (this.open >= this.limits.streams_per_isolate_max) for (const h of [...this.hubs.values()]) this.sweep(h.subscribers, now_ms);
    const onLedger = this.hubs.get(ledger)?.subscribers.size ?? 0;
    const ofKey = this.byKey.get(keyName)?.size ?? 0;
    if (onLedger >= this.limits.streams_per_ledger_max) return { admitted: false, limit: "ledger", max: this.limits.streams_per_ledger_max, open: onLedger };
    if (ofKey >= this.limits.streams_per_key_max) return { admitted: false, limit: "key", max: this.limits.streams_per_key_max, open: ofKey };
    if (this.open >= this.limits.streams_per_isolate_max) return { admitted: false, limit: "isolate", max: this.limits.streams_per_isolate_max, open: this.open };
    let h = this.hubs.get(ledger);
    if (h === undefined) {
      // A local read tries each region for up to read_timeout_ms: a poll in flight longer than that is lost.
      h = new LedgerStreamHub(ledger, this.limits, read_timeout_ms * request.regions + this.limits.poll_interval_ms);
      this.hubs.set(ledger, h);
    }
    const sub = new StreamSubscriber(h, keyName, after, now_ms, request.budget, request.regions);
    h.subscribers.add(sub);
    let set = this.byKey.get(keyName);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(keyName, set);
    }
    set.add(sub);
    this.open++;
    return { admitted: true, subscriber: sub };
  }

  /** Gives a stream's place back (once; later calls do nothing). */
  release(sub: StreamSubscriber, why: StreamEnd): void {
    if (sub.released) return;
    sub.released = true;
    sub.ended ??= why;
    const reason = sub.ended;
    this.ends[reason] = (this.ends[reason] ?? 0) + 1;
    sub.hub.stats.ends[reason] = (sub.hub.stats.ends[reason] ?? 0) + 1;
    sub.hub.leave(sub);
    if (sub.hub.subscribers.size === 0 && this.hubs.get(sub.hub.ledger) === sub.hub) this.hubs.delete(sub.hub.ledger);
    const set = this.byKey.get(sub.keyName);
    set?.delete(sub);
    if (set !== undefined && set.size === 0) this.byKey.delete(sub.keyName);
    this.open--;
    if (!(this.open >= 0)) throw new Error("more stream places released than taken");
  }

  /** Frees the places of subscribers whose request has shown no sign of life for the lease. */
  private sweep(subs: ReadonlySet<StreamSubscriber>, now_ms: number): void {
    for (const sub of [...subs]) {
      if (now_ms - sub.lastSeen_ms > this.limits.subscriber_lease_ms) this.release(sub, "swept");
    }
  }

  /**
   * Serves one admitted stream until it ends, doing only its own I/O (see the file's comment), and
   * gives its place back. Returns why it ended.
   */
  async serve(sub: StreamSubscriber, io: StreamIo): Promise<StreamEnd> {
    const limits = this.limits;
    const hub = sub.hub;
    const started_ms = io.now_ms();
    let lastWrite_ms = started_ms;
    let ownHead: LedgerHead | undefined;
    const count = () => {
      sub.subrequests++;
    };
    const writeEntries = async (entries: readonly TailEntry[]) => {
      for (let i = 0; i < entries.length; i += limits.write_batch_entries_max) {
        const batch = entries.slice(i, i + limits.write_batch_entries_max);
        await io.write(batch.map((e) => e.sse).join(""));
        sub.cursor = Math.max(sub.cursor, batch[batch.length - 1]!.seq);
        lastWrite_ms = io.now_ms();
      }
    };
    const end = (why: StreamEnd): StreamEnd => {
      this.release(sub, why);
      return sub.ended ?? why;
    };
    try {
      // Bounded: by duration_ms_max, and every pass either writes, reads (bounded by the budget and
      // catch_up_pages_max) or sleeps on its own timer.
      for (;;) {
        const now_ms = io.now_ms();
        sub.lastSeen_ms = now_ms;
        if (sub.released) return sub.ended ?? "aborted";
        if (sub.ended !== undefined) return end(sub.ended);
        if (now_ms - started_ms >= limits.duration_ms_max) return end("duration");

        if (sub.live && sub.queue.length > 0) {
          const batch = sub.queue.splice(0, limits.write_batch_entries_max);
          await writeEntries(batch);
          continue;
        }
        if (!sub.live && !hub.tryJoin(sub)) {
          if (hub.startingByAnother(sub, now_ms)) {
            await io.sleep(Math.max(1, hub.afterInFlight_ms(now_ms) - now_ms));
            continue;
          }
          if (!sub.canRead(limits.subrequest_margin)) return end("subrequest_budget");
          if (sub.catchUpPages >= limits.catch_up_pages_max) return end("catch_up_pages");
          const ticket = hub.claimStart(sub, now_ms);
          sub.catchUpPages++;
          hub.stats.catchUpReads++;
          let page: StreamPage;
          try {
            page = await io.readPage(sub.cursor, limits.page_entries_max, count);
          } catch {
            if (ticket !== undefined) hub.failed(ticket);
            await io.sleep(limits.poll_interval_ms);
            continue;
          }
          // Published before this stream writes, so that a slow client does not hold the others back.
          if (ticket !== undefined) hub.publish(ticket, page, io.now_ms());
          if (sub.released) return sub.ended ?? "aborted";
          ownHead = page.head;
          const from = sub.cursor;
          const fresh = page.entries.filter((e) => e.seq > from);
          for (let i = 0; i < fresh.length; i++) {
            if (fresh[i]!.seq !== from + 1 + i) throw new Error(`a replica page skipped from seq ${from} to ${fresh[i]!.seq}`);
          }
          await writeEntries(fresh.map(sseOf));
          const more = fresh.length > 0 && fresh[fresh.length - 1]!.seq < page.head.seq;
          if (!more && !hub.tryJoin(sub)) await io.sleep(limits.poll_interval_ms);
          continue;
        }

        const claim = sub.live ? hub.claimPoll(sub, now_ms) : undefined;
        if (claim === "out_of_budget") return end("subrequest_budget");
        if (claim !== undefined) {
          try {
            const page = await io.readPage(claim.after, limits.page_entries_max, count);
            hub.publish(claim, page, io.now_ms());
          } catch {
            hub.failed(claim);
          }
          continue;
        }
        if (io.now_ms() - lastWrite_ms >= limits.heartbeat_ms) {
          await io.write(heartbeatOf(hub.head ?? ownHead));
          lastWrite_ms = io.now_ms();
          continue;
        }
        const wake_ms = Math.min(hub.nextWake_ms(sub, now_ms), lastWrite_ms + limits.heartbeat_ms, started_ms + limits.duration_ms_max);
        await io.sleep(Math.max(1, wake_ms - now_ms));
      }
    } catch (error) {
      this.release(sub, "error");
      throw error;
    } finally {
      this.release(sub, "aborted");
    }
  }
}

/** The 429 for a stream beyond a limit (`too_many_streams`, an additive code of the v1 API). */
export function tooManyStreams(refusal: Extract<Admission, { admitted: false }>, limits: StreamLimits = streamHubs.limits): ApiError {
  const what = refusal.limit === "ledger" ? "of this ledger" : refusal.limit === "key" ? "of this API key" : "in all";
  return new ApiError(
    429,
    "too_many_streams",
    `${refusal.open} streams ${what} are open on this server, the most it serves (${refusal.max}); close one, or retry after Retry-After`,
    { limit: refusal.limit, max: refusal.max, open: refusal.open },
    { "Retry-After": String(limits.too_many_streams_retry_after_s) },
  );
}

/** This isolate's streams. */
export const streamHubs = new StreamHubs();
