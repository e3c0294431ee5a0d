/**
 * The client's errors. Every error the client throws on purpose is a `QuorumLedgerError`: the API's
 * own errors (`{"error": {"code", "message", "details"}}`) keep their HTTP status, code and details;
 * what the client detects itself (a network failure, a broken hash chain, a malformed stream) has no
 * status. `instanceof` on the subclasses picks out the cases a caller usually handles.
 */
import type { Unchecked } from "./answers.js";
import type { ErrorBody } from "./types.js";

export interface QuorumLedgerErrorInit {
  /** The HTTP status of the final answer; undefined when there was none (network, client-side checks). */
  readonly status?: number | undefined;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
  /**
   * True when an append may or may not have been applied (a 503 or a network failure on the final
   * attempt). Retrying the same request, same ids, is safe: it answers the original receipts.
   */
  readonly outcomeUnknown?: boolean;
  /** Requests sent before giving up (1 when the first answer was final). */
  readonly attempts?: number;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfter_ms?: number | undefined;
  readonly cause?: unknown;
}

export class QuorumLedgerError extends Error {
  override name = "QuorumLedgerError";
  readonly status: number | undefined;
  readonly code: string;
  readonly details: unknown;
  readonly outcomeUnknown: boolean;
  readonly attempts: number;
  readonly retryAfter_ms: number | undefined;

  constructor(init: QuorumLedgerErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.attempts = init.attempts ?? 1;
    this.retryAfter_ms = init.retryAfter_ms;
  }
}

/** 400: `invalid_json`, `invalid_request` (details: `[{path, code, message}]`), `invalid_ledger_name`. */
export class InvalidRequestError extends QuorumLedgerError {
  override name = "InvalidRequestError";
}

/** 401 `unauthorized`: no key, a malformed header, an unknown key. */
export class UnauthorizedError extends QuorumLedgerError {
  override name = "UnauthorizedError";
}

/** 403 `forbidden`: the key lacks the scope, or the ledger. */
export class ForbiddenError extends QuorumLedgerError {
  override name = "ForbiddenError";
}

/** 404 `not_found`: no such entry (or route). */
export class NotFoundError extends QuorumLedgerError {
  override name = "NotFoundError";
}

/** 409: the batch applied nothing. */
export class ConflictError extends QuorumLedgerError {
  override name = "ConflictError";
  /** Index in the batch of the entry that caused it (`details.index`), when the server said. */
  get index(): number | undefined {
    const d = this.details;
    return isRecord(d) && typeof d["index"] === "number" ? d["index"] : undefined;
  }
  /** Id of the entry that caused it (`details.id`), when the server said. */
  get entryId(): string | undefined {
    const d = this.details;
    return isRecord(d) && typeof d["id"] === "string" ? d["id"] : undefined;
  }
}

/** 409 `id_conflict`: an id already in the ledger with another body. */
export class IdConflictError extends ConflictError {
  override name = "IdConflictError";
}

/** 409 `invalid_reference`: a correction or bust whose `refId` cannot be superseded. */
export class InvalidReferenceError extends ConflictError {
  override name = "InvalidReferenceError";
}

/** 413 `payload_too_large`, `too_many_entries`. */
export class PayloadTooLargeError extends QuorumLedgerError {
  override name = "PayloadTooLargeError";
}

/** 429 `overloaded`: the proposer's queue was full; nothing was proposed. */
export class OverloadedError extends QuorumLedgerError {
  override name = "OverloadedError";
}

/** 503 `quorum_unavailable`: for an append, `outcomeUnknown` is true. */
export class QuorumUnavailableError extends QuorumLedgerError {
  override name = "QuorumUnavailableError";
}

/** `fetch` threw (connection refused or reset, DNS, a per-attempt timeout) on every attempt. */
export class NetworkError extends QuorumLedgerError {
  override name = "NetworkError";
}

/**
 * The call's overall deadline (`deadline_ms`) ended while an attempt was still unanswered. For an
 * append, `outcomeUnknown` is true: retrying the same request, same ids, is safe.
 */
export class DeadlineExceededError extends QuorumLedgerError {
  override name = "DeadlineExceededError";
}

/** A response that is not what the API answers (not JSON, or a body of the wrong shape). */
export class UnexpectedResponseError extends QuorumLedgerError {
  override name = "UnexpectedResponseError";
}

export type ChainProblem =
  /** The entry's `hash` is not SHA-256 of its prevHash and its canonical JSON. */
  | "hash"
  /** The entry's `prevHash` is not the hash of the entry before it. */
  | "prevHash"
  /** Its seq is not the one after the entry before it (a gap or a duplicate). */
  | "seq"
  /** It lacks a server field the chain needs, or one of the wrong type. */
  | "shape";

/** An entry the client received does not continue the hash chain. `seq` names the first bad entry. */
export class ChainVerificationError extends QuorumLedgerError {
  override name = "ChainVerificationError";
  readonly seq: number | undefined;
  readonly problem: ChainProblem;
  readonly expected: string | number | undefined;
  readonly actual: unknown;

  constructor(init: {
    seq: number | undefined;
    problem: ChainProblem;
    expected?: string | number;
    actual?: unknown;
    message: string;
  }) {
    super({
      code: "chain_verification_failed",
      message: init.message,
      details: { seq: init.seq, problem: init.problem },
    });
    this.seq = init.seq;
    this.problem = init.problem;
    this.expected = init.expected;
    this.actual = init.actual;
  }
}

/** The event stream broke the Server-Sent Events format or one of the client's bounds. */
export class StreamProtocolError extends QuorumLedgerError {
  override name = "StreamProtocolError";
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type ErrorClass = new (init: QuorumLedgerErrorInit) => QuorumLedgerError;

const class_by_code: Readonly<Record<string, ErrorClass>> = {
  id_conflict: IdConflictError,
  invalid_reference: InvalidReferenceError,
};

const class_by_status: Readonly<Record<number, ErrorClass>> = {
  400: InvalidRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: OverloadedError,
  503: QuorumUnavailableError,
};

/** The longest response text quoted in an error message about a body that is not the API's. */
const quoted_body_chars_max = 200;

/**
 * The typed error for a non-2xx answer. `text` is the body as received; the API's error shape is
 * used when it is there, otherwise (a proxy's HTML page, say) the status alone decides the class.
 */
export function errorFromResponse(
  status: number,
  text: string,
  extra: { outcomeUnknown: boolean; attempts: number; retryAfter_ms: number | undefined },
): QuorumLedgerError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // The API's error body (`ErrorBody`, from its schema) when there is one; its fields still unchecked.
  const error: Unchecked<ErrorBody["error"]> | undefined =
    isRecord(body) && isRecord(body["error"]) ? body["error"] : undefined;
  const code = typeof error?.code === "string" ? error.code : `http_${status}`;
  const message =
    typeof error?.message === "string"
      ? error.message
      : `HTTP ${status}: ${text.slice(0, quoted_body_chars_max) || "(empty body)"}`;
  const Class = class_by_code[code] ?? class_by_status[status] ?? QuorumLedgerError;
  return new Class({ status, code, message, details: error?.details, ...extra });
}
