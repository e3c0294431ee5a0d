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
 *
 * The parts, under `stream/`: `limits.ts` (the named limits), `stream-io.ts` (what a stream's own
 * request provides), `sse-events.ts` (the SSE text written), `subscriber.ts` (one stream's cursor,
 * queue and budget), `ledger-hub.ts` (one ledger's shared tail and its poll), `hubs.ts` (places and
 * one hub per ledger), `serve.ts` (one stream's loop). This file is the entry the app imports.
 */
import { ApiError } from "./errors.js";
import { type Admission, StreamHubs } from "./stream/hubs.js";
import type { StreamLimits } from "./stream/limits.js";

export { type Admission, StreamHubs } from "./stream/hubs.js";
export { type HubStats, LedgerStreamHub } from "./stream/ledger-hub.js";
export { type StreamLimits, stream_limits } from "./stream/limits.js";
export type { StreamEnd, StreamIo, StreamPage, SubrequestBudget } from "./stream/stream-io.js";
export { StreamSubscriber } from "./stream/subscriber.js";

/** The 429 for a stream beyond a limit (`too_many_streams`, an additive code of the v1 API). */
export function tooManyStreams(
  refusal: Extract<Admission, { admitted: false }>,
  limits: StreamLimits = streamHubs.limits,
): ApiError {
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
