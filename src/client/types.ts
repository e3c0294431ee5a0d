/**
 * What the client sends and what the API (README, "The API (v1)") answers, as TypeScript types.
 * The entry, receipt and position shapes are the core's own (type-only imports: no runtime code).
 */
import type { EntryInput } from "../core/entry-schema.js";
import type { Entry, Position, Receipt } from "../core/ledger-types.js";
import type { RetryPolicy } from "./retry.js";

export type { EntryInput, Entry, Position, Receipt, RetryPolicy };

export interface QuorumLedgerClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:8787` (a path prefix is kept). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey: string;
  /** The ledger this client reads and appends to. */
  readonly ledger: string;
  /** Defaults to the global `fetch`; pass another to route requests (a service binding, a test). */
  readonly fetch?: typeof fetch;
  /** Retries of network failures, 503 and 429; defaults to `default_retry`. */
  readonly retry?: RetryPolicy;
  /** Recompute the hash chain of the entries that reads and streams return (default true). */
  readonly verifyChain?: boolean;
  /** One attempt of one request may take this long before it counts as a network failure (default 30 s). */
  readonly requestTimeout_ms?: number;
  /**
   * The whole time one call may take, every attempt and wait included (default
   * `call_deadline_ms_default`, 10 s; at most `call_deadline_ms_max`). An append also tells the server
   * how long it may take, with `X-Deadline-Ms`: most of the time left.
   */
  readonly deadline_ms?: number;
}

/** The HEAD of a ledger: `committedAt` is null before the first entry. */
export interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly committedAt: string | null;
}

export interface AppendResult {
  readonly ledger: string;
  /** One receipt per entry sent, in order. */
  readonly results: Receipt[];
  /**
   * True when the answer was 201 (the attempt that answered created at least one entry); false on 200
   * (all existed). After a retry whose lost first attempt had applied the entries, this is false
   * although this call created them: the receipts are the same either way.
   */
  readonly created: boolean;
}

export type Consistency = "linearizable" | "local";

export interface RequestOptions {
  /** Aborts the request (and its retries); the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** This call's overall deadline, instead of the client's `deadline_ms`. */
  readonly deadline_ms?: number;
}

export interface ReadOptions extends RequestOptions {
  /** `linearizable` (the default) or `local` (the nearest replica). */
  readonly consistency?: Consistency;
  /** Read-your-writes: the nearest replica whose head has reached this seq. */
  readonly minSeq?: number;
}

export interface ListOptions extends ReadOptions {
  /** Entries after this seq (default 0: from the first). */
  readonly after?: number;
  /** 1 to 1,000 (the server's default is 100). */
  readonly limit?: number;
}

export interface EntryPage {
  readonly ledger: string;
  /** In seq order. */
  readonly entries: Entry[];
  /** The `after` of the next page, or null on the last page. */
  readonly next: number | null;
  readonly head: Head;
}

export interface EntryResult {
  readonly ledger: string;
  readonly entry: Entry;
}

export interface HeadResult extends Head {
  readonly ledger: string;
}

export interface PositionsResult {
  readonly ledger: string;
  readonly account: string;
  readonly positions: Position[];
  /** The head the positions are as of. */
  readonly asOf: Head;
}

export interface AcceptorStatus {
  readonly region: string;
  readonly reachable: boolean;
  readonly latency_ms: number | null;
  /** The promised ballot as `round.proposerId`. */
  readonly promised: string | null;
  readonly chosenThrough: number | null;
  readonly appliedSeq: number | null;
  readonly headHash: string | null;
  readonly error?: string;
}

export interface LedgerStatus {
  readonly ledger: string;
  readonly quorum: { readonly acceptors: number; readonly prepare: number; readonly accept: number };
  readonly acceptors: AcceptorStatus[];
  readonly headsAgree: boolean;
  /** The answering Worker isolate's recent commits (another isolate has its own). */
  readonly commits?: {
    readonly window_s: number;
    readonly commits: number;
    readonly entries: number;
    readonly latency_ms: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number } | null;
  };
}

export interface VerifyOptions extends RequestOptions {
  /** The replica to verify; the nearest by default. */
  readonly region?: string;
}

export interface VerifyResult {
  readonly ledger: string;
  readonly region: string;
  readonly verified: boolean;
  readonly checkedThrough: number;
  readonly head: Head;
  readonly complete: boolean;
  /** The first seq whose hash did not check, when `verified` is false. */
  readonly brokenAt?: number;
}

export interface StreamOptions {
  /** Entries after this seq (default 0: from the first). */
  readonly after?: number;
  /**
   * The hash of the entry at `after`, to check the first streamed entry's link. Without it (and
   * `after` > 0, and verification on) the client reads entry `after` once to learn it.
   */
  readonly prevHash?: string;
  /** Ends the iteration (quietly: the loop just stops). */
  readonly signal?: AbortSignal;
  /** Failed connections in a row before the stream gives up (default `stream_reconnect_attempts_max`). */
  readonly reconnectAttempts_max?: number;
  /** No bytes (not even a heartbeat) for this long counts as a dead connection (default `stream_idle_timeout_ms`). */
  readonly idleTimeout_ms?: number;
}
