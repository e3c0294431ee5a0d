/**
 * The typed client of Quorum Ledger's v1 API (the package's `./client` entry). Runs unchanged in
 * Node >= 22, browsers and Workers: it needs only `fetch` and web-standard APIs.
 */

export {
  type ChainCheck,
  type ChainLink,
  genesis_hash,
  type VerifyEntriesOptions,
  verifyEntries,
  verifyEntry,
} from "./chain.js";
export { entries_pages_max, list_limit_max, QuorumLedgerClient, verified_links_max } from "./client.js";
export {
  type ChainProblem,
  ChainVerificationError,
  ConflictError,
  DeadlineExceededError,
  ForbiddenError,
  IdConflictError,
  InvalidReferenceError,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  OverloadedError,
  PayloadTooLargeError,
  QuorumLedgerError,
  type QuorumLedgerErrorInit,
  QuorumUnavailableError,
  StreamProtocolError,
  UnauthorizedError,
  UnexpectedResponseError,
} from "./errors.js";
export { call_deadline_ms_default, call_deadline_ms_max, request_timeout_ms_default } from "./request.js";
export { backoffDelay_ms, default_retry, parseRetryAfter_ms, type RetryPolicy, retry_attempts_max } from "./retry.js";
export { type SseEvent, SseParser, sse_event_data_chars_max, sse_line_chars_max } from "./sse.js";
export { stream_connection_ms_max, stream_idle_timeout_ms, stream_reconnect_attempts_max } from "./stream.js";
export type {
  AcceptorStatus,
  AppendResult,
  Consistency,
  Entry,
  EntryInput,
  EntryPage,
  Head,
  HeadResult,
  LedgerStatus,
  ListOptions,
  Position,
  PositionsResult,
  QuorumLedgerClientOptions,
  ReadOptions,
  Receipt,
  RequestOptions,
  StreamOptions,
  VerifyOptions,
  VerifyResult,
} from "./types.js";
