/** The platform-side limits of streams (per isolate), and their values in production. */

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
