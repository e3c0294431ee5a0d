/**
 * `QuorumLedgerClient`: the v1 API (README, "The API (v1)") as typed methods for one ledger.
 *
 * It uses only `fetch` and web-standard APIs (no `node:*`, no `cloudflare:*`), so the same code runs
 * in Node >= 22, browsers and Workers. Appends are safe to retry because ids are idempotency keys: a
 * request whose outcome is unknown (a network failure, a 503) is sent again byte for byte, and the
 * ledger answers the original receipts. Entries that reads and streams return are checked against
 * the hash chain unless `verifyChain: false`.
 */
import type { EntryInput } from "../core/entry-schema.js";
import type { Entry } from "../core/ledger-types.js";
import { genesis_hash, verifyEntries, verifyEntry, type ChainLink } from "./chain.js";
import {
  ChainVerificationError,
  DeadlineExceededError,
  NetworkError,
  QuorumLedgerError,
  UnexpectedResponseError,
  errorFromResponse,
  isRecord,
} from "./errors.js";
import { abortReason, backoffDelay_ms, checkRetryPolicy, default_retry, linkedSignal, parseRetryAfter_ms, sleep, type RetryPolicy } from "./retry.js";
import { stream_idle_timeout_ms, stream_reconnect_attempts_max, streamEntries, type StreamTransport } from "./stream.js";
import type {
  AppendResult,
  EntryPage,
  HeadResult,
  LedgerStatus,
  ListOptions,
  PositionsResult,
  QuorumLedgerClientOptions,
  ReadOptions,
  RequestOptions,
  StreamOptions,
  VerifyOptions,
  VerifyResult,
} from "./types.js";

/** One attempt of one request may take this long (then it counts as a network failure and is retried). */
export const request_timeout_ms_default = 30_000;
/**
 * One call, every attempt and wait included, takes at most this long by default: a front-end learns
 * within seconds that the ledger cannot commit (the server itself answers an append within 2 s).
 */
export const call_deadline_ms_default = 10_000;
/** The longest overall deadline a caller may set (the server's `X-Deadline-Ms` bound is the same). */
export const call_deadline_ms_max = 600_000;
/** The shortest `X-Deadline-Ms` the server takes: with less time left, no further attempt is sent. */
const deadline_header_ms_min = 10;
/** Of the time left, the share an append gives the server (`X-Deadline-Ms`): the rest carries its answer back. */
const deadline_header_share = 0.9;
/**
 * Verified (seq, hash) pairs remembered so that the next page's first entry can be linked to the
 * last one checked; the oldest are forgotten first. A chain never changes, so a remembered pair
 * stays true.
 */
export const verified_links_max = 1024;
/** Pages `entries()` reads at most: 100 million entries at 1,000 a page. */
export const entries_pages_max = 100_000;
/** The server's page limits (README: `limit` 1..1000). */
export const list_limit_max = 1000;

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

interface SendOptions {
  readonly query?: Record<string, string | number | undefined>;
  /** The exact body, serialized once: every attempt sends the same bytes (same ids). */
  readonly body?: string;
  readonly signal?: AbortSignal | undefined;
  /** An append: its outcome may be unknown after a failure. */
  readonly append?: boolean;
  /** This call's overall deadline (else the client's). */
  readonly deadline_ms?: number | undefined;
}

function checkDeadline(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > call_deadline_ms_max) {
    throw new RangeError(`deadline_ms must be a whole number of milliseconds from 1 to ${call_deadline_ms_max}`);
  }
  return ms;
}

function fail(what: string, body: unknown): never {
  throw new UnexpectedResponseError({
    code: "unexpected_response",
    message: `unexpected response: ${what} (${JSON.stringify(body)?.slice(0, 200)})`,
  });
}

function expectRecord(body: unknown, what: string): Record<string, unknown> {
  if (!isRecord(body)) fail(`${what} is not an object`, body);
  return body;
}

function expectHead(value: unknown, what: string): void {
  const h = expectRecord(value, what);
  if (typeof h["seq"] !== "number" || typeof h["hash"] !== "string") fail(`${what} lacks seq or hash`, value);
}

function isEntryArray(value: EntryInput | readonly EntryInput[]): value is readonly EntryInput[] {
  return Array.isArray(value);
}

export class QuorumLedgerClient {
  readonly baseUrl: string;
  readonly ledger: string;
  readonly retry: RetryPolicy;
  readonly verifyChain: boolean;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeout_ms: number;
  /** The whole time of one call by default (`deadline_ms`). */
  readonly deadline_ms: number;
  /** seq -> hash of entries already verified; bounded by `verified_links_max`. */
  private readonly verifiedLinks = new Map<number, string>();

  constructor(options: QuorumLedgerClientOptions) {
    if (options.apiKey === "" || /[\r\n]/.test(options.apiKey)) throw new TypeError("apiKey must be a non-empty single-line string");
    if (options.ledger === "") throw new TypeError("ledger must not be empty");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    new URL(this.baseUrl); // throws a TypeError now, not on the first request, for a malformed URL
    this.apiKey = options.apiKey;
    this.ledger = options.ledger;
    // Called through a closure: a bare reference to the global fetch, called as a method of this
    // object, throws "Illegal invocation" in browsers and Workers.
    const given = options.fetch;
    this.fetchImpl = given ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = checkRetryPolicy(options.retry ?? default_retry);
    this.verifyChain = options.verifyChain ?? true;
    this.requestTimeout_ms = options.requestTimeout_ms ?? request_timeout_ms_default;
    this.deadline_ms = checkDeadline(options.deadline_ms ?? call_deadline_ms_default);
  }

  // ---- appends ----

  /**
   * Appends one entry (sent as the entry) or a batch (sent as `{"entries": [...]}`, atomic: all or
   * none). `created` is false when every entry already existed (a retry of an applied request).
   */
  async append(entries: EntryInput | readonly EntryInput[], options: RequestOptions = {}): Promise<AppendResult> {
    const batch = isEntryArray(entries);
    const sent: readonly EntryInput[] = batch ? entries : [entries];
    const body = JSON.stringify(batch ? { entries } : entries);
    const { status, body: answer } = await this.send("POST", "entries", {
      body,
      signal: options.signal,
      append: true,
      deadline_ms: options.deadline_ms,
    });
    const r = expectRecord(answer, "the append's answer");
    const results = r["results"];
    if (!Array.isArray(results) || results.length !== sent.length) fail(`expected ${sent.length} receipts`, answer);
    results.forEach((receipt: unknown, i) => {
      const rec = expectRecord(receipt, "a receipt");
      if (rec["id"] !== sent[i]!.id || typeof rec["seq"] !== "number" || (rec["status"] !== "created" && rec["status"] !== "exists")) {
        fail(`receipt ${i} is not one for id ${sent[i]!.id}`, receipt);
      }
    });
    return { ...(r as unknown as Omit<AppendResult, "created">), created: status === 201 };
  }

  // ---- reads ----

  /**
   * One page of entries after `after`, in seq order. With verification on, each entry's hash and the
   * links between them are checked, and the first entry's link too when the entry before it is known
   * (`after` = 0, or a page this client verified before, so paging with `next` checks the whole chain).
   */
  async list(options: ListOptions = {}): Promise<EntryPage> {
    const after = options.after ?? 0;
    const { body } = await this.send("GET", "entries", {
      query: { after, limit: options.limit, consistency: options.consistency, minSeq: options.minSeq },
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const page = expectRecord(body, "the page");
    if (!Array.isArray(page["entries"])) fail("the page has no entries", body);
    expectHead(page["head"], "the page's head");
    const result = page as unknown as EntryPage;
    if (this.verifyChain) {
      const prevHash = after === 0 ? genesis_hash : this.verifiedLinks.get(after);
      const check = verifyEntries(result.entries, { afterSeq: after, ...(prevHash === undefined ? {} : { prevHash }) });
      if (check.last !== undefined && check.last.seq === result.head.seq && check.last.hash !== result.head.hash) {
        throw new ChainVerificationError({
          seq: check.last.seq,
          problem: "hash",
          expected: result.head.hash,
          actual: check.last.hash,
          message: `entry ${check.last.seq}: its hash is not the head hash the same answer reports (${result.head.hash})`,
        });
      }
      this.remember(check.last);
    }
    return result;
  }

  /**
   * Every entry after `after`, page by page (each page verified and linked to the one before), as an
   * AsyncIterable. It ends at the head as it was when the last page was read.
   */
  async *entries(options: Omit<ListOptions, "limit"> & { readonly pageLimit?: number } = {}): AsyncGenerator<Entry, void, undefined> {
    let after = options.after ?? 0;
    for (let pages = 0; pages < entries_pages_max; pages++) {
      const page = await this.list({ ...options, after, limit: options.pageLimit ?? list_limit_max });
      for (const entry of page.entries) yield entry;
      if (page.next === null) return;
      if (page.next <= after) fail(`the next page (${page.next}) does not advance past ${after}`, page.next);
      after = page.next;
    }
    throw new QuorumLedgerError({ code: "too_many_pages", message: `entries() read ${entries_pages_max} pages; narrow the range with after` });
  }

  /** The entry at `seq`; a `NotFoundError` when there is none. */
  async entry(seq: number, options: ReadOptions = {}): Promise<Entry> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError("seq must be a whole number >= 1");
    const { body } = await this.send("GET", `entries/${seq}`, { query: this.consistencyQuery(options), signal: options.signal, deadline_ms: options.deadline_ms });
    const entry = this.checkedEntry(body);
    if (entry.seq !== seq) fail(`asked for seq ${seq}, got seq ${entry.seq}`, body);
    return entry;
  }

  /** The entry with this id; a `NotFoundError` when there is none. */
  async entryById(id: string, options: ReadOptions = {}): Promise<Entry> {
    const { body } = await this.send("GET", `ids/${encodeURIComponent(id)}`, { query: this.consistencyQuery(options), signal: options.signal, deadline_ms: options.deadline_ms });
    const entry = this.checkedEntry(body);
    if (entry.id !== id) fail(`asked for id ${id}, got id ${entry.id}`, body);
    return entry;
  }

  async head(options: ReadOptions = {}): Promise<HeadResult> {
    const { body } = await this.send("GET", "head", { query: this.consistencyQuery(options), signal: options.signal, deadline_ms: options.deadline_ms });
    expectHead(body, "the head");
    return body as HeadResult;
  }

  async positions(account: string, options: ReadOptions = {}): Promise<PositionsResult> {
    const { body } = await this.send("GET", "positions", { query: { account, ...this.consistencyQuery(options) }, signal: options.signal, deadline_ms: options.deadline_ms });
    const r = expectRecord(body, "the positions");
    if (!Array.isArray(r["positions"])) fail("no positions array", body);
    return r as unknown as PositionsResult;
  }

  /** Per acceptor: reachable, latency, ballot, chosen and applied seq, head hash (admin scope). */
  async status(options: RequestOptions = {}): Promise<LedgerStatus> {
    const { body } = await this.send("GET", "status", { signal: options.signal, deadline_ms: options.deadline_ms });
    const r = expectRecord(body, "the status");
    if (!Array.isArray(r["acceptors"])) fail("no acceptors array", body);
    return r as unknown as LedgerStatus;
  }

  /** The server recomputes the hash chain on one replica (admin scope). */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const { body } = await this.send("GET", "verify", { query: { region: options.region }, signal: options.signal, deadline_ms: options.deadline_ms });
    const r = expectRecord(body, "the verify answer");
    if (typeof r["verified"] !== "boolean") fail("no verified flag", body);
    return r as unknown as VerifyResult;
  }

  /**
   * The entries after `after`: the ledger's replay, then live entries as they are committed, for as
   * long as the caller iterates. Reconnects (with `Last-Event-ID`) after the server's 5-minute end or
   * a dropped connection, without a gap or a duplicate. Ends when `signal` aborts or the loop breaks.
   */
  stream(options: StreamOptions = {}): AsyncGenerator<Entry, void, undefined> {
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new RangeError("after must be a whole number >= 0");
    const transport: StreamTransport = {
      open: (from, signal) => this.openStream(from, signal),
      errorOf: async (response) =>
        errorFromResponse(response.status, await response.text().catch(() => ""), {
          outcomeUnknown: false,
          attempts: 1,
          retryAfter_ms: parseRetryAfter_ms(response.headers.get("retry-after")),
        }),
      hashOf: async (seq, signal) => (await this.entry(seq, signal === undefined ? {} : { signal })).hash,
      verifyChain: this.verifyChain,
      retry: this.retry,
    };
    return streamEntries(transport, {
      after,
      prevHash: options.prevHash,
      signal: options.signal,
      reconnectAttempts_max: options.reconnectAttempts_max ?? stream_reconnect_attempts_max,
      idleTimeout_ms: options.idleTimeout_ms ?? stream_idle_timeout_ms,
    });
  }

  // ---- the request path ----

  private url(path: string, query: SendOptions["query"]): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, String(value));
    const search = params.size === 0 ? "" : `?${params.toString()}`;
    return `${this.baseUrl}/v1/ledgers/${encodeURIComponent(this.ledger)}/${path}${search}`;
  }

  private consistencyQuery(options: ReadOptions): Record<string, string | number | undefined> {
    return { consistency: options.consistency, minSeq: options.minSeq };
  }

  private async openStream(after: number, signal: AbortSignal): Promise<Response> {
    // The request timeout covers the wait for the response headers only: the body is a stream that
    // lasts minutes, watched by the iterator's idle timeout instead.
    const connection = linkedSignal([signal]);
    const timer = setTimeout(
      () => connection.abort(new DOMException(`no answer within ${this.requestTimeout_ms} ms`, "TimeoutError")),
      this.requestTimeout_ms,
    );
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: "text/event-stream" };
      if (after > 0) headers["last-event-id"] = String(after);
      return await this.fetchImpl(this.url("stream", { after }), { method: "GET", headers, signal: connection.signal });
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
  private async send(method: "GET" | "POST", path: string, options: SendOptions): Promise<{ status: number; body: unknown }> {
    const { signal } = options;
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const append = options.append ?? false;
    const deadline_ms = options.deadline_ms === undefined ? this.deadline_ms : checkDeadline(options.deadline_ms);
    const deadline_at_ms = Date.now() + deadline_ms;
    /** Some attempt of this append may have been applied. */
    let maybeApplied = false;
    /** Whether a wait of `delay_ms` still leaves time for one more attempt. */
    const timeAfter = (delay_ms: number) => deadline_at_ms - Date.now() - delay_ms >= deadline_header_ms_min;
    for (let attempt = 1; attempt <= this.retry.attempts_max; attempt++) {
      const left_ms = deadline_at_ms - Date.now();
      // The attempt's own timeout ends no later than the call's deadline.
      const attemptTimeout_ms = Math.max(1, Math.min(this.requestTimeout_ms, left_ms));
      const cutByDeadline = attemptTimeout_ms < this.requestTimeout_ms;
      if (append) headers["x-deadline-ms"] = String(Math.max(deadline_header_ms_min, Math.min(call_deadline_ms_max, Math.floor(left_ms * deadline_header_share))));
      const linked = linkedSignal([signal], attemptTimeout_ms);
      let status: number;
      let text: string;
      let retryAfter_ms: number | undefined;
      try {
        const init: RequestInit = { method, headers, signal: linked.signal };
        if (options.body !== undefined) init.body = options.body;
        const response = await this.fetchImpl(url, init);
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
        const delay_ms = backoffDelay_ms(this.retry, attempt, undefined);
        const last = attempt === this.retry.attempts_max || !timeAfter(delay_ms);
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
      const delay_ms = backoffDelay_ms(this.retry, attempt, retryAfter_ms);
      const last = attempt === this.retry.attempts_max || !timeAfter(delay_ms);
      if (retryable && !last) {
        await sleep(delay_ms, signal);
        continue;
      }
      // After a 4xx other than 429 the server has decided; only a final "try again" leaves an
      // earlier attempt's effect in doubt.
      throw errorFromResponse(status, text, { outcomeUnknown: maybeApplied && retryable, attempts: attempt, retryAfter_ms });
    }
    throw new Error("unreachable: the last attempt returns or throws");
  }

  private checkedEntry(body: unknown): Entry {
    const r = expectRecord(body, "the answer");
    const entry = expectRecord(r["entry"], "the entry") as unknown as Entry;
    if (this.verifyChain) {
      verifyEntry(entry);
      const known = this.verifiedLinks.get(entry.seq);
      if (known !== undefined && known !== entry.hash) {
        throw new ChainVerificationError({
          seq: entry.seq,
          problem: "hash",
          expected: known,
          actual: entry.hash,
          message: `entry ${entry.seq}: its hash differs from the one verified earlier in the chain (${known})`,
        });
      }
    }
    return entry;
  }

  private remember(link: ChainLink | undefined): void {
    if (link === undefined) return;
    this.verifiedLinks.delete(link.seq);
    this.verifiedLinks.set(link.seq, link.hash);
    if (this.verifiedLinks.size > verified_links_max) {
      const oldest = this.verifiedLinks.keys().next();
      if (!oldest.done) this.verifiedLinks.delete(oldest.value);
    }
  }
}
