/**
 * What a stream's own request provides (its clock, timer, writes and replica reads; its subrequest
 * budget) and the reasons a stream ends. The hub never does I/O itself: see `../stream-hub.ts`.
 */
import type { Entry, LedgerHead } from "../../core/ledger-types.js";

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
