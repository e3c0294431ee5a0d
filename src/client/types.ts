/**
 * What the client sends and what the API (README, "The API (v1)") answers, as TypeScript types.
 *
 * Every answer's type is the output of its zod schema in `src/api/responses.ts`, the schemas the
 * server documents `/openapi.json` with: one definition of each shape, so the SDK cannot drift from
 * the API (test/worker/api-shapes.test-d.ts checks that it does not, and that the core's own entry,
 * receipt and position types agree). The imports are type-only: no zod reaches the SDK's runtime.
 */
import type { z } from "zod";
import type {
  acceptorStatusSchema,
  appendResponseSchema,
  entryResponseSchema,
  entrySchema,
  errorSchema,
  headResponseSchema,
  headSchema,
  listResponseSchema,
  positionSchema,
  positionsResponseSchema,
  receiptSchema,
  statusResponseSchema,
  verifyResponseSchema,
} from "../api/responses.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { RetryPolicy } from "./retry.js";

export type { EntryInput, RetryPolicy };

/**
 * An answer as the client hands it out: the schema's output with every field read-only, at every
 * depth. Arrays stay plain arrays (of read-only elements), as they were before the types came from
 * the schemas, so callers may keep passing them where a mutable array is expected.
 */
export type Answer<T> = T extends readonly (infer E)[]
  ? Answer<E>[]
  : T extends object
    ? { readonly [K in keyof T]: Answer<T[K]> }
    : T;

/** A committed entry: the fields the client sent plus the server's `seq`, `slot`, `committedAt`, `prevHash` and `hash`. */
export type Entry = Answer<z.output<typeof entrySchema>>;
/** One appended entry's outcome: `created`, or `exists` when the id was in the ledger before the request. */
export type Receipt = Answer<z.output<typeof receiptSchema>>;
/** An (account, symbol) position; `quantity` is signed (positive long, negative short), `realizedPnl` is net of fees. */
export type Position = Answer<z.output<typeof positionSchema>>;
/** The HEAD of a ledger: `committedAt` is null before the first entry. */
export type Head = Answer<z.output<typeof headSchema>>;
/** The API's error body, `{"error": {"code", "message", "details"}}`; `errors.ts` turns it into a typed error. */
export type ErrorBody = Answer<z.output<typeof errorSchema>>;

/** The append's answer as the server sends it: one receipt per entry sent, in order. */
export type AppendResponse = Answer<z.output<typeof appendResponseSchema>>;
export type AppendResult = AppendResponse & {
  /**
   * True when the answer was 201 (the attempt that answered created at least one entry); false on 200
   * (all existed). After a retry whose lost first attempt had applied the entries, this is false
   * although this call created them: the receipts are the same either way.
   */
  readonly created: boolean;
};

/** One page of entries, in seq order; `next` is the `after` of the next page, or null on the last page. */
export type EntryPage = Answer<z.output<typeof listResponseSchema>>;
/** The answer to a read of one entry (by seq or by id). */
export type EntryResult = Answer<z.output<typeof entryResponseSchema>>;
export type HeadResult = Answer<z.output<typeof headResponseSchema>>;
/** An account's positions; `asOf` is the head they are as of. */
export type PositionsResult = Answer<z.output<typeof positionsResponseSchema>>;
/** One replica as the status probe found it; `promised` is its ballot as `round.proposerId`. */
export type AcceptorStatus = Answer<z.output<typeof acceptorStatusSchema>>;
/** Per acceptor: reachable, latency, ballot, chosen and applied seq, head hash; `commits` is the ledger's recent commits (its coordinator's). */
export type LedgerStatus = Answer<z.output<typeof statusResponseSchema>>;
/** The server's check of one replica's hash chain; `brokenAt` is the first seq whose hash did not check, when `verified` is false. */
export type VerifyResult = Answer<z.output<typeof verifyResponseSchema>>;

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

export interface VerifyOptions extends RequestOptions {
  /** The replica to verify; the nearest by default. */
  readonly region?: string;
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
