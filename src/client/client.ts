/**
 * `QuorumLedgerClient`: the v1 API (README, "The API (v1)") as typed methods for one ledger.
 *
 * It uses only `fetch` and web-standard APIs (no `node:*`, no `cloudflare:*`), so the same code runs
 * in Node >= 22, browsers and Workers. Appends are safe to retry because ids are idempotency keys: a
 * request whose outcome is unknown (a network failure, a 503) is sent again byte for byte, and the
 * ledger answers the original receipts. Entries that reads and streams return are checked against
 * the hash chain unless `verifyChain: false`.
 */
import { expectHead, expectRecord, fail } from "./answers.js";
import { type ChainLink, genesis_hash, verifyEntries, verifyEntry } from "./chain.js";
import { ChainVerificationError, errorFromResponse, QuorumLedgerError } from "./errors.js";
import {
  call_deadline_ms_default,
  checkDeadline,
  LedgerRequests,
  type Query,
  request_timeout_ms_default,
} from "./request.js";
import { checkRetryPolicy, default_retry, parseRetryAfter_ms, type RetryPolicy } from "./retry.js";
import {
  type StreamTransport,
  stream_idle_timeout_ms,
  stream_reconnect_attempts_max,
  streamEntries,
} from "./stream.js";
import type {
  AppendResponse,
  AppendResult,
  Entry,
  EntryInput,
  EntryPage,
  EntryResult,
  HeadResult,
  LedgerStatus,
  ListOptions,
  PositionsResult,
  QuorumLedgerClientOptions,
  ReadOptions,
  Receipt,
  RequestOptions,
  StreamOptions,
  VerifyOptions,
  VerifyResult,
} from "./types.js";

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

function isEntryArray(value: EntryInput | readonly EntryInput[]): value is readonly EntryInput[] {
  return Array.isArray(value);
}

export class QuorumLedgerClient {
  readonly baseUrl: string;
  readonly ledger: string;
  readonly retry: RetryPolicy;
  readonly verifyChain: boolean;
  /** Sends this client's requests: retries, deadlines, the stream's connection. */
  private readonly requests: LedgerRequests;
  /** The whole time of one call by default (`deadline_ms`). */
  readonly deadline_ms: number;
  /** seq -> hash of entries already verified; bounded by `verified_links_max`. */
  private readonly verifiedLinks = new Map<number, string>();

  constructor(options: QuorumLedgerClientOptions) {
    if (options.apiKey === "" || /[\r\n]/.test(options.apiKey))
      throw new TypeError("apiKey must be a non-empty single-line string");
    if (options.ledger === "") throw new TypeError("ledger must not be empty");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    new URL(this.baseUrl); // throws a TypeError now, not on the first request, for a malformed URL
    this.ledger = options.ledger;
    this.retry = checkRetryPolicy(options.retry ?? default_retry);
    this.verifyChain = options.verifyChain ?? true;
    this.deadline_ms = checkDeadline(options.deadline_ms ?? call_deadline_ms_default);
    this.requests = new LedgerRequests({
      baseUrl: this.baseUrl,
      apiKey: options.apiKey,
      ledger: this.ledger,
      // Called through a closure: a bare reference to the global fetch, called as a method of
      // another object, throws "Illegal invocation" in browsers and Workers.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      retry: this.retry,
      requestTimeout_ms: options.requestTimeout_ms ?? request_timeout_ms_default,
      deadline_ms: this.deadline_ms,
    });
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
    const { status, body: answer } = await this.requests.send("POST", "entries", {
      body,
      signal: options.signal,
      append: true,
      deadline_ms: options.deadline_ms,
    });
    const r = expectRecord<AppendResponse>(answer, "the append's answer");
    const results = r.results;
    if (!Array.isArray(results) || results.length !== sent.length) fail(`expected ${sent.length} receipts`, answer);
    results.forEach((receipt: unknown, i) => {
      const rec = expectRecord<Receipt>(receipt, "a receipt");
      if (
        rec.id !== sent[i]!.id ||
        typeof rec.seq !== "number" ||
        (rec.status !== "created" && rec.status !== "exists")
      ) {
        fail(`receipt ${i} is not one for id ${sent[i]!.id}`, receipt);
      }
    });
    return { ...(r as AppendResponse), created: status === 201 };
  }

  // ---- reads ----

  /**
   * One page of entries after `after`, in seq order. With verification on, each entry's hash and the
   * links between them are checked, and the first entry's link too when the entry before it is known
   * (`after` = 0, or a page this client verified before, so paging with `next` checks the whole chain).
   */
  async list(options: ListOptions = {}): Promise<EntryPage> {
    const after = options.after ?? 0;
    const { body } = await this.requests.send("GET", "entries", {
      query: { after, limit: options.limit, consistency: options.consistency, minSeq: options.minSeq },
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const page = expectRecord<EntryPage>(body, "the page");
    if (!Array.isArray(page.entries)) fail("the page has no entries", body);
    expectHead(page.head, "the page's head");
    const result = page as EntryPage;
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
  async *entries(
    options: Omit<ListOptions, "limit"> & { readonly pageLimit?: number } = {},
  ): AsyncGenerator<Entry, void, undefined> {
    let after = options.after ?? 0;
    for (let pages = 0; pages < entries_pages_max; pages++) {
      const page = await this.list({ ...options, after, limit: options.pageLimit ?? list_limit_max });
      for (const entry of page.entries) yield entry;
      if (page.next === null) return;
      if (page.next <= after) fail(`the next page (${page.next}) does not advance past ${after}`, page.next);
      after = page.next;
    }
    throw new QuorumLedgerError({
      code: "too_many_pages",
      message: `entries() read ${entries_pages_max} pages; narrow the range with after`,
    });
  }

  /** The entry at `seq`; a `NotFoundError` when there is none. */
  async entry(seq: number, options: ReadOptions = {}): Promise<Entry> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError("seq must be a whole number >= 1");
    const { body } = await this.requests.send("GET", `entries/${seq}`, {
      query: this.consistencyQuery(options),
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const entry = this.checkedEntry(body);
    if (entry.seq !== seq) fail(`asked for seq ${seq}, got seq ${entry.seq}`, body);
    return entry;
  }

  /** The entry with this id; a `NotFoundError` when there is none. */
  async entryById(id: string, options: ReadOptions = {}): Promise<Entry> {
    const { body } = await this.requests.send("GET", `ids/${encodeURIComponent(id)}`, {
      query: this.consistencyQuery(options),
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const entry = this.checkedEntry(body);
    if (entry.id !== id) fail(`asked for id ${id}, got id ${entry.id}`, body);
    return entry;
  }

  async head(options: ReadOptions = {}): Promise<HeadResult> {
    const { body } = await this.requests.send("GET", "head", {
      query: this.consistencyQuery(options),
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    expectHead(body, "the head");
    return body as HeadResult;
  }

  async positions(account: string, options: ReadOptions = {}): Promise<PositionsResult> {
    const { body } = await this.requests.send("GET", "positions", {
      query: { account, ...this.consistencyQuery(options) },
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const r = expectRecord<PositionsResult>(body, "the positions");
    if (!Array.isArray(r.positions)) fail("no positions array", body);
    return r as PositionsResult;
  }

  /** Per acceptor: reachable, latency, ballot, chosen and applied seq, head hash (admin scope). */
  async status(options: RequestOptions = {}): Promise<LedgerStatus> {
    const { body } = await this.requests.send("GET", "status", {
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const r = expectRecord<LedgerStatus>(body, "the status");
    if (!Array.isArray(r.acceptors)) fail("no acceptors array", body);
    return r as LedgerStatus;
  }

  /** The server recomputes the hash chain on one replica (admin scope). */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const { body } = await this.requests.send("GET", "verify", {
      query: { region: options.region },
      signal: options.signal,
      deadline_ms: options.deadline_ms,
    });
    const r = expectRecord<VerifyResult>(body, "the verify answer");
    if (typeof r.verified !== "boolean") fail("no verified flag", body);
    return r as VerifyResult;
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
      open: (from, signal) => this.requests.openStream(from, signal),
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

  // ---- helpers ----

  private consistencyQuery(options: ReadOptions): Query {
    return { consistency: options.consistency, minSeq: options.minSeq };
  }

  private checkedEntry(body: unknown): Entry {
    const r = expectRecord<EntryResult>(body, "the answer");
    const entry = expectRecord<Entry>(r.entry, "the entry") as Entry;
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
