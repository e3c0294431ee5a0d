/** One stream as its hub sees it: its cursor, its queue of entries to write, its budget, its end. */
import type { LedgerStreamHub } from "./ledger-hub.js";
import type { TailEntry } from "./sse-events.js";
import type { StreamEnd, SubrequestBudget } from "./stream-io.js";

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
