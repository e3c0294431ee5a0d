/**
 * The request path of `QuorumLedgerClient`: one call to one ledger's API, retried on network failures
 * and 429/502/503/504 with full-jitter backoff, every attempt and wait inside the call's deadline;
 * and the opening of the entry stream. It knows HTTP, retries and deadlines, and nothing of the
 * answers' shapes (`answers.ts`) or of the hash chain (`chain.ts`).
 */
import { limits } from "../core/limits.js";
import { fail } from "./answers.js";
import { DeadlineExceededError, errorFromResponse, NetworkError, QuorumLedgerError } from "./errors.js";
import { abortReason, backoffDelay_ms, linkedSignal, parseRetryAfter_ms, type RetryPolicy, sleep } from "./retry.js";

/** One attempt of one request may take this long (then it counts as a network failure and is retried). */
export const request_timeout_ms_default = 30_000;
/**
 * One call, every attempt and wait included, takes at most this long by default: a front-end learns
 * within seconds that the ledger cannot commit (the server itself answers an append within 2 s).
 */
export const call_deadline_ms_default = 10_000;
/** The longest overall deadline a caller may set: the server's bound on `X-Deadline-Ms`. */
export const call_deadline_ms_max = limits.append_deadline_header_ms_max;
/** The shortest `X-Deadline-Ms` the server takes: with less time left, no further attempt is sent. */
const deadline_header_ms_min = limits.append_deadline_header_ms_min;
/** Of the time left, the share an append gives the server (`X-Deadline-Ms`): the rest carries its answer back. */
const deadline_header_share = 0.9;

/** Statuses that say "try again": the request may not have been handled, or nothing was done. */
function retryableStatus(status: number): boolean {
  // 429: the proposer's queue was full and nothing was proposed (README), so a retry is both safe
  // and what Retry-After asks for. 502 and 504: a proxy in front of the Worker lost the answer.
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Statuses after which an append may or may not have been applied. */
function outcomeUnknownStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

export function checkDeadline(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > call_deadline_ms_max) {
    throw new RangeError(`deadline_ms must be a whole number of milliseconds from 1 to ${call_deadline_ms_max}`);
  }
  return ms;
}

export type Query = Record<string, string | number | undefined>;

export interface SendOptions {
  readonly query?: Query;
  /** The exact body, serialized once: every attempt sends the same bytes (same ids). */
  readonly body?: string;
  readonly signal?: AbortSignal | undefined;
  /** An append: its outcome may be unknown after a failure. */
  readonly append?: boolean;
  /** This call's overall deadline (else the client's). */
  readonly deadline_ms?: number | undefined;
}

/** What a `LedgerRequests` sends with, already checked by the client's constructor. */
export interface RequestSettings {
  /** Without a trailing slash. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly ledger: string;
  readonly fetch: typeof fetch;
  readonly retry: RetryPolicy;
  readonly requestTimeout_ms: number;
  /** A call's overall deadline when the call names none. */
  readonly deadline_ms: number;
}

/** The requests of one client to one ledger's `/v1/ledgers/{ledger}/...` routes. */
export class LedgerRequests {
  constructor(private readonly settings: RequestSettings) {}

  private url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, String(value));
    const search = params.size === 0 ? "" : `?${params.toString()}`;
    return `${this.settings.baseUrl}/v1/ledgers/${encodeURIComponent(this.settings.ledger)}/${path}${search}`;
  }

  async openStream(after: number, signal: AbortSignal): Promise<Response> {
    const { requestTimeout_ms } = this.settings;
    // The request timeout covers the wait for the response headers only: the body is a stream that
    // lasts minutes, watched by the iterator's idle timeout instead.
    const connection = linkedSignal([signal]);
    const timer = setTimeout(
      () => connection.abort(new DOMException(`no answer within ${requestTimeout_ms} ms`, "TimeoutError")),
      requestTimeout_ms,
    );
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.settings.apiKey}`,
        accept: "text/event-stream",
      };
      if (after > 0) headers["last-event-id"] = String(after);
      return await this.settings.fetch(this.url("stream", { after }), {
        method: "GET",
        headers,
        signal: connection.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one request, retrying network failures and 429/502/503/504 with full-jitter backoff (and
   * Retry-After as a floor, up to the cap) for at most `retry.attempts_max` attempts, all within the
   * call's overall deadline (`deadline_ms`): no attempt outlives it and no wait runs past it; an
   * append tells the server most of the time left (`X-Deadline-Ms`). Anything else that is not 2xx is
   * final: a typed `QuorumLedgerError` at once.
   */
  async send(method: "GET" | "POST", path: string, options: SendOptions): Promise<{ status: number; body: unknown }> {
    const { retry, requestTimeout_ms } = this.settings;
    const { signal } = options;
    const url = this.url(path, options.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.settings.apiKey}`,
      accept: "application/json",
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const append = options.append ?? false;
    const deadline_ms =
      options.deadline_ms === undefined ? this.settings.deadline_ms : checkDeadline(options.deadline_ms);
    const deadline_at_ms = Date.now() + deadline_ms;
    /** Some attempt of this append may have been applied. */
    let maybeApplied = false;
    /** Whether a wait of `delay_ms` still leaves time for one more attempt. */
    const timeAfter = (delay_ms: number) => deadline_at_ms - Date.now() - delay_ms >= deadline_header_ms_min;
    for (let attempt = 1; attempt <= retry.attempts_max; attempt++) {
      const left_ms = deadline_at_ms - Date.now();
      // The attempt's own timeout ends no later than the call's deadline.
      const attemptTimeout_ms = Math.max(1, Math.min(requestTimeout_ms, left_ms));
      const cutByDeadline = attemptTimeout_ms < requestTimeout_ms;
      if (append)
        headers["x-deadline-ms"] = String(
          Math.max(deadline_header_ms_min, Math.min(call_deadline_ms_max, Math.floor(left_ms * deadline_header_share))),
        );
      const linked = linkedSignal([signal], attemptTimeout_ms);
      let status: number;
      let text: string;
      let retryAfter_ms: number | undefined;
      try {
        const init: RequestInit = { method, headers, signal: linked.signal };
        if (options.body !== undefined) init.body = options.body;
        const response = await this.settings.fetch(url, init);
        text = await response.text();
        status = response.status;
        retryAfter_ms = parseRetryAfter_ms(response.headers.get("retry-after"));
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        if (error instanceof QuorumLedgerError) throw error; // a fetch wrapper's own typed error
        maybeApplied ||= append;
        if (cutByDeadline && Date.now() >= deadline_at_ms) {
          throw new DeadlineExceededError({
            code: "deadline_exceeded",
            message: `${method} ${url}: no answer within the call's deadline of ${deadline_ms} ms (${attempt} attempts)${append ? "; the append's outcome is unknown: retry the same request (same ids)" : ""}`,
            outcomeUnknown: append,
            attempts: attempt,
            cause: error,
          });
        }
        const delay_ms = backoffDelay_ms(retry, attempt, undefined);
        const last = attempt === retry.attempts_max || !timeAfter(delay_ms);
        if (last) {
          throw new NetworkError({
            code: "network_error",
            message: `${method} ${url} failed after ${attempt} attempts: ${String(error)}${append ? "; the append's outcome is unknown: retry the same request (same ids)" : ""}`,
            outcomeUnknown: append,
            attempts: attempt,
            cause: error,
          });
        }
        await sleep(delay_ms, signal);
        continue;
      } finally {
        linked.dispose();
      }
      if (status >= 200 && status < 300) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          fail(`a ${status} answer that is not JSON`, text.slice(0, 200));
        }
        return { status, body };
      }
      const retryable = retryableStatus(status);
      if (outcomeUnknownStatus(status)) maybeApplied ||= append;
      const delay_ms = backoffDelay_ms(retry, attempt, retryAfter_ms);
      const last = attempt === retry.attempts_max || !timeAfter(delay_ms);
      if (retryable && !last) {
        await sleep(delay_ms, signal);
        continue;
      }
      // After a 4xx other than 429 the server has decided; only a final "try again" leaves an
      // earlier attempt's effect in doubt.
      throw errorFromResponse(status, text, {
        outcomeUnknown: maybeApplied && retryable,
        attempts: attempt,
        retryAfter_ms,
      });
    }
    throw new Error("unreachable: the last attempt returns or throws");
  }
}
