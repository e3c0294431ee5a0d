/**
 * The client SDK (src/client) against the real Worker and Durable Objects inside workerd: every
 * request goes through the Worker's own fetch (`exports.default.fetch`) via a recording wrapper that
 * counts requests, keeps their bodies, and can fail, heal or alter them on the way. Covers typed
 * appends and errors, which failures are retried (with the same body) and which are not, reads,
 * client-side hash-chain verification, and the stream's replay, live delivery and resumption.
 */
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import {
  ChainVerificationError,
  call_deadline_ms_default,
  DeadlineExceededError,
  type Entry,
  type EntryInput,
  ForbiddenError,
  genesis_hash,
  IdConflictError,
  InvalidReferenceError,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  QuorumLedgerClient,
  QuorumLedgerError,
  QuorumUnavailableError,
  type RetryPolicy,
  type SseEvent,
  SseParser,
  StreamProtocolError,
  sse_line_chars_max,
  UnauthorizedError,
  verifyEntries,
} from "../../src/client/index.js";
import { limits } from "../../src/core/limits.js";
import { test_keys } from "./bindings.js";
import { setFaults } from "./cluster.js";
import { origin, uniqueLedger } from "./http.js";

/** Short waits, so that a test that retries stays fast; Retry-After (1 s) is capped at cap_ms. */
const fast_retry: RetryPolicy = { attempts_max: 4, base_ms: 20, cap_ms: 200 };
/** How long the stream gets to deliver an entry that is due (the server polls every 250 ms). */
const deliver_ms = 5_000;

interface Sent {
  readonly method: string;
  readonly url: URL;
  readonly body: string | undefined;
  readonly lastEventId: string | null;
}

type Forward = (request: Request) => Promise<Response>;
/** Sees every request (numbered from 1) and decides what the client gets back. */
type Hook = (request: Request, n: number, forward: Forward) => Promise<Response>;

/** A fetch for the client that goes to the Worker, recording every request on the way. */
class Wire {
  readonly sent: Sent[] = [];
  constructor(private readonly hook?: Hook) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? await request.clone().text() : undefined;
    this.sent.push({
      method: request.method,
      url: new URL(request.url),
      body,
      lastEventId: request.headers.get("last-event-id"),
    });
    const forward: Forward = (r) => exports.default.fetch(r);
    return this.hook === undefined ? forward(request) : this.hook(request, this.sent.length, forward);
  };

  posts(): Sent[] {
    return this.sent.filter((s) => s.method === "POST");
  }
  streams(): Sent[] {
    return this.sent.filter((s) => s.url.pathname.endsWith("/stream"));
  }
}

function client(
  ledger: string,
  wire: Wire,
  extra: { apiKey?: string; retry?: RetryPolicy; verifyChain?: boolean } = {},
): QuorumLedgerClient {
  return new QuorumLedgerClient({
    baseUrl: origin,
    apiKey: extra.apiKey ?? test_keys["test-all"],
    ledger,
    fetch: wire.fetch,
    retry: extra.retry ?? fast_retry,
    ...(extra.verifyChain === undefined ? {} : { verifyChain: extra.verifyChain }),
  });
}

function fill(id: string, overrides: Partial<EntryInput> = {}): EntryInput {
  return { id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "10", price: "100.5", ...overrides };
}

/** The rejection of `work`, which must reject (so that a test cannot pass by not throwing). */
async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/** The next `count` entries of a stream, each within `deliver_ms`. */
async function take(iterator: AsyncIterator<Entry>, count: number): Promise<Entry[]> {
  const got: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const next = await withTimeout(iterator.next(), deliver_ms, `stream entry ${i + 1} of ${count}`);
    if (next.done === true) throw new Error(`the stream ended after ${got.length} of ${count} entries`);
    got.push(next.value);
  }
  return got;
}

afterEach(async () => {
  await setFaults({});
});

describe("append", () => {
  it("one entry, then a batch: typed receipts; the same requests again answer exists with the original receipts", async () => {
    const ledger = uniqueLedger("client-append");
    const wire = new Wire();
    const c = client(ledger, wire);

    const one = await c.append(fill("a:1"));
    expect(one).toMatchObject({
      ledger,
      created: true,
      results: [{ id: "a:1", status: "created", seq: 1, slot: expect.any(Number) }],
    });
    expect(JSON.parse(wire.posts()[0]!.body!)).toEqual(fill("a:1")); // one entry is sent as the entry

    const batch = [
      fill("a:2"),
      fill("a:3", { symbol: "ABC", side: "sell" }),
      fill("a:4", { fee: "1.25", currency: "USD" }),
    ];
    const many = await c.append(batch);
    expect(many.created).toBe(true);
    expect(many.results.map((r) => [r.id, r.status, r.seq])).toEqual([
      ["a:2", "created", 2],
      ["a:3", "created", 3],
      ["a:4", "created", 4],
    ]);
    expect(JSON.parse(wire.posts()[1]!.body!)).toEqual({ entries: batch }); // a batch as {"entries": [...]}

    const again = await c.append(fill("a:1"));
    expect(again.created).toBe(false);
    expect(again.results).toEqual([{ ...one.results[0]!, status: "exists" }]);
    const batchAgain = await c.append(batch);
    expect(batchAgain.created).toBe(false);
    expect(batchAgain.results).toEqual(many.results.map((r) => ({ ...r, status: "exists" })));
    expect(wire.posts()).toHaveLength(4); // no retries on the way
    expect((await c.head()).seq).toBe(4);
  });

  it("409 id_conflict: an IdConflictError with status, code and details; not retried; nothing applied", async () => {
    const ledger = uniqueLedger("client-conflict");
    const wire = new Wire();
    const c = client(ledger, wire);
    await c.append(fill("c:1"));
    const before = wire.posts().length;

    const error = await rejection(c.append([fill("c:2"), fill("c:1", { price: "999" })]));
    expect(error).toBeInstanceOf(IdConflictError);
    const conflict = error as IdConflictError;
    expect(conflict).toMatchObject({ status: 409, code: "id_conflict", outcomeUnknown: false, attempts: 1 });
    expect(conflict.details).toEqual({ index: 1, id: "c:1" });
    expect([conflict.index, conflict.entryId]).toEqual([1, "c:1"]);
    expect(conflict.message).toMatch(/c:1/);
    expect(wire.posts().length - before).toBe(1);
    expect((await c.head()).seq).toBe(1); // the batch was atomic: c:2 was not applied either

    const badRef = await rejection(c.append(fill("c:3", { execType: "bust", refId: "c:missing" })));
    expect(badRef).toBeInstanceOf(InvalidReferenceError);
    expect(badRef).toMatchObject({ status: 409, code: "invalid_reference", details: { index: 0, id: "c:3" } });
    expect(wire.posts().length - before).toBe(2);
  });

  it("400, 401, 403 and 404 are typed errors and are never retried", async () => {
    const ledger = uniqueLedger("client-4xx");
    const wire = new Wire();

    const invalid = await rejection(client(ledger, wire).append(fill("x:1", { quantity: "-1" })));
    expect(invalid).toBeInstanceOf(InvalidRequestError);
    expect(invalid).toMatchObject({ status: 400, code: "invalid_request" });
    expect((invalid as InvalidRequestError).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "quantity" })]),
    );

    const unknownKey = await rejection(client(ledger, wire, { apiKey: "not-a-key" }).append(fill("x:2")));
    expect(unknownKey).toBeInstanceOf(UnauthorizedError);
    expect(unknownKey).toMatchObject({ status: 401, code: "unauthorized" });

    const readOnly = await rejection(client(ledger, wire, { apiKey: test_keys["test-read"] }).append(fill("x:3")));
    expect(readOnly).toBeInstanceOf(ForbiddenError);
    expect(readOnly).toMatchObject({ status: 403, code: "forbidden" });
    const otherLedger = await rejection(client(ledger, wire, { apiKey: test_keys["test-one-ledger"] }).head());
    expect(otherLedger).toBeInstanceOf(ForbiddenError);

    const missing = await rejection(client(ledger, wire).entry(42));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: "not_found" });

    // Five calls, five requests: not one retry.
    expect(wire.sent).toHaveLength(5);
    for (const e of [invalid, unknownKey, readOnly, otherLedger, missing]) {
      expect(e).toBeInstanceOf(QuorumLedgerError);
      expect((e as QuorumLedgerError).attempts).toBe(1);
    }
  });
});

describe("retries", () => {
  it("503 quorum_unavailable is retried with the same body; healed during the retries, the batch commits exactly once", async () => {
    const ledger = uniqueLedger("client-503");
    const statuses: number[] = [];
    let healed = false;
    const wire = new Wire(async (request, _n, forward) => {
      const response = await forward(request);
      if (request.method === "POST") statuses.push(response.status);
      if (response.status === 503 && !healed) {
        healed = true;
        await setFaults({}); // heals before the client sees the 503, so its retry can commit
      }
      return response;
    });
    const c = client(ledger, wire);
    await c.append(fill("r:0")); // warm: the failed request reaches an Accept (its outcome is truly unknown)

    await setFaults({ down: ["wnam", "weur"] });
    const batch = [fill("r:1"), fill("r:2", { account: "ACC-2" })];
    const result = await c.append(batch);
    expect(statuses).toEqual([201, 503, expect.any(Number)]);
    expect([200, 201]).toContain(statuses[2]);
    const posts = wire.posts();
    expect(posts).toHaveLength(3);
    expect(posts[2]!.body).toBe(posts[1]!.body); // the retry is the same request, byte for byte
    expect(result.results.map((r) => [r.id, r.seq])).toEqual([
      ["r:1", 2],
      ["r:2", 3],
    ]);
    // Created by the retry, or already chosen from the 503'd attempt: either way never a mix.
    expect(new Set(result.results.map((r) => r.status)).size).toBe(1);

    const page = await c.list();
    expect(page.entries.map((e) => e.id)).toEqual(["r:0", "r:1", "r:2"]); // exactly once each
  });

  it("503 on every attempt: a QuorumUnavailableError with outcomeUnknown; the same request later commits once", async () => {
    const ledger = uniqueLedger("client-503-final");
    const wire = new Wire();
    const c = client(ledger, wire, { retry: { attempts_max: 2, base_ms: 10, cap_ms: 50 } });
    await c.append(fill("u:0"));
    await setFaults({ down: ["wnam", "weur"] });
    const error = await rejection(c.append(fill("u:1")));
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      code: "quorum_unavailable",
      outcomeUnknown: true,
      attempts: 2,
      details: { outcome: "unknown" },
    });
    expect((error as QuorumUnavailableError).retryAfter_ms).toBeGreaterThan(0);
    expect(wire.posts()).toHaveLength(3);

    await setFaults({});
    const retried = await c.append(fill("u:1"));
    expect(retried.results[0]).toMatchObject({ id: "u:1", seq: 2 });
    expect((await c.list()).entries.map((e) => e.id)).toEqual(["u:0", "u:1"]);
  });

  it("a network error is retried with the same body; a lost answer's retry gets the original receipt (exists)", async () => {
    const ledger = uniqueLedger("client-network");
    // Request 1 never reaches the Worker; request 3 reaches it and is applied, but its answer is lost.
    const wire = new Wire(async (request, n, forward) => {
      if (n === 1) throw new TypeError("fetch failed: connection refused (test)");
      const response = await forward(request);
      if (n === 3) {
        await response.body?.cancel();
        throw new TypeError("fetch failed: connection reset (test)");
      }
      return response;
    });
    const c = client(ledger, wire);
    const first = await c.append(fill("n:1"));
    expect(first).toMatchObject({ created: true, results: [{ id: "n:1", status: "created", seq: 1 }] });
    expect(wire.posts()).toHaveLength(2);
    expect(wire.posts()[1]!.body).toBe(wire.posts()[0]!.body);

    const second = await c.append(fill("n:2"));
    // The retry found the entry the lost attempt had applied: the original receipt, status exists.
    expect(second).toMatchObject({ created: false, results: [{ id: "n:2", status: "exists", seq: 2 }] });
    expect(wire.posts()).toHaveLength(4);
    expect(wire.posts()[3]!.body).toBe(wire.posts()[2]!.body);
    expect((await c.list()).entries.map((e) => e.id)).toEqual(["n:1", "n:2"]);
  });

  it("network errors on every attempt: a NetworkError with outcomeUnknown after attempts_max requests", async () => {
    const ledger = uniqueLedger("client-network-final");
    const wire = new Wire(async () => {
      throw new TypeError("fetch failed (test)");
    });
    const error = await rejection(client(ledger, wire).append(fill("d:1")));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      code: "network_error",
      status: undefined,
      outcomeUnknown: true,
      attempts: fast_retry.attempts_max,
    });
    expect(wire.sent).toHaveLength(fast_retry.attempts_max);
    // A read that fails the same way has no outcome to be unsure of.
    const read = await rejection(client(ledger, wire).head());
    expect(read).toMatchObject({ code: "network_error", outcomeUnknown: false });
  });
});

/** A 503 as the server sends it, without the server: every attempt fails the same way, at once. */
function fake503(): Response {
  const body = {
    error: { code: "quorum_unavailable", message: "no quorum (test)", details: { outcome: "unknown", proposed: true } },
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": "0" },
  });
}

/** A healthy append's time through the Worker (the slowest of a few): the unit of the slack below. */
async function measuredAppend_ms(): Promise<number> {
  const c = client(uniqueLedger("client-rtt"), new Wire());
  let slowest = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await c.append(fill(`rtt:${i}`));
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
}

describe("overall deadline per call", () => {
  it(`defaults to ${call_deadline_ms_default} ms; a deadline that is not a whole number of ms in range is a RangeError`, () => {
    const wire = new Wire();
    expect(client("client-deadline-default", wire).deadline_ms).toBe(call_deadline_ms_default);
    for (const bad of [0, -1, 1.5, Number.NaN, 10 * 60_000 + 1]) {
      expect(() => new QuorumLedgerClient({ baseUrl: origin, apiKey: "k", ledger: "l", deadline_ms: bad })).toThrow(
        RangeError,
      );
    }
  });

  it("503 on every attempt: the retries stop at the call's deadline, not at attempts_max; each append tells the server the time left", async () => {
    const slack_ms = 50 + 4 * (await measuredAppend_ms());
    const deadlines: number[] = [];
    const sent_at_ms: number[] = [];
    const wire = new Wire(async (request) => {
      deadlines.push(Number(request.headers.get("x-deadline-ms")));
      sent_at_ms.push(Date.now());
      return fake503();
    });
    const many: RetryPolicy = { attempts_max: 100, base_ms: 50, cap_ms: 200 };
    const deadline_ms = 1000;
    const c = new QuorumLedgerClient({
      baseUrl: origin,
      apiKey: test_keys["test-all"],
      ledger: "client-deadline",
      fetch: wire.fetch,
      retry: many,
      deadline_ms,
    });
    const started = performance.now();
    const error = await rejection(c.append(fill("dl:1")));
    const took_ms = performance.now() - started;
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect(took_ms).toBeLessThanOrEqual(deadline_ms + slack_ms);
    expect(wire.posts().length).toBeGreaterThan(1);
    expect(wire.posts().length).toBeLessThan(many.attempts_max);
    // Every attempt carried X-Deadline-Ms: within the server's bounds, within what was left, shrinking
    // by the share of the time that passed since the attempt before (full-jitter backoff may wait
    // under a millisecond, and then the header may repeat: never grow), and lower at the end.
    expect(deadlines.length).toBe(wire.posts().length);
    expect(deadlines[0]!).toBeLessThanOrEqual(deadline_ms);
    for (const d of deadlines) expect(d).toBeGreaterThanOrEqual(limits.append_deadline_header_ms_min);
    for (let i = 1; i < deadlines.length; i++) {
      const waited_ms = sent_at_ms[i]! - sent_at_ms[i - 1]!;
      expect(deadlines[i]!).toBeLessThanOrEqual(deadlines[i - 1]! - Math.floor(0.9 * waited_ms) + 1);
    }
    expect(deadlines.at(-1)!).toBeLessThan(deadlines[0]!);
  });

  it("an attempt that hangs is cut at the call's deadline: DeadlineExceededError, outcome unknown for an append, false for a read", async () => {
    const slack_ms = 50 + 4 * (await measuredAppend_ms());
    const wire = new Wire(
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
        }),
    );
    const deadline_ms = 300;
    const c = new QuorumLedgerClient({
      baseUrl: origin,
      apiKey: test_keys["test-all"],
      ledger: "client-hang",
      fetch: wire.fetch,
      retry: fast_retry,
      deadline_ms,
    });
    const started = performance.now();
    const error = await withTimeout(
      rejection(c.append(fill("hang:1"))),
      10 * deadline_ms + slack_ms,
      "the append's deadline",
    );
    expect(performance.now() - started).toBeLessThanOrEqual(deadline_ms + slack_ms);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ code: "deadline_exceeded", outcomeUnknown: true });
    const read = await withTimeout(
      rejection(c.head({ deadline_ms: 100 })),
      10 * deadline_ms + slack_ms,
      "the read's deadline",
    );
    expect(read).toMatchObject({ code: "deadline_exceeded", outcomeUnknown: false });
  });

  it("two of three regions down, the real Worker: the call ends within its deadline with a QuorumUnavailableError", async () => {
    const slack_ms = 50 + 4 * (await measuredAppend_ms());
    const ledger = uniqueLedger("client-deadline-real");
    const wire = new Wire();
    const deadline_ms = 1500;
    // The default retry policy (6 attempts, waits up to 5 s): the deadline, not the policy, ends it.
    const c = new QuorumLedgerClient({
      baseUrl: origin,
      apiKey: test_keys["test-all"],
      ledger,
      fetch: wire.fetch,
      deadline_ms,
    });
    await c.append(fill("real:0"));
    await setFaults({ down: ["wnam", "weur"] });
    const started = performance.now();
    const error = await rejection(c.append(fill("real:1")));
    expect(performance.now() - started).toBeLessThanOrEqual(deadline_ms + slack_ms);
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect(error).toMatchObject({ status: 503, outcomeUnknown: true });
    await setFaults({});
  });
});

describe("reads", () => {
  it("list, entry, entryById, head, positions, status and verify return typed, verified answers", async () => {
    const ledger = uniqueLedger("client-reads");
    const wire = new Wire();
    const c = client(ledger, wire);
    const receipts = (
      await c.append([
        fill("XNAS:exec/1", { side: "buy", quantity: "100", price: "10", fee: "1" }),
        fill("XNAS:exec/2", { side: "sell", quantity: "40", price: "12.5" }),
        fill("XNAS:exec/3", { symbol: "ABC", quantity: "5", price: "3.25" }),
        fill("XNAS:exec/4", { account: "ACC-2", quantity: "1", price: "1" }),
        fill("XNAS:exec/5", { side: "sell", quantity: "10", price: "11" }),
      ])
    ).results;

    const first = await c.list({ limit: 2 });
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(first.next).toBe(2);
    expect(first.head).toMatchObject({ seq: 5, hash: receipts[4]!.hash });
    const second = await c.list({ after: first.next!, limit: 2, consistency: "local" });
    expect(second.entries.map((e) => e.seq)).toEqual([3, 4]);
    const last = await c.list({ after: 4, minSeq: 5 });
    expect(last.entries.map((e) => e.id)).toEqual(["XNAS:exec/5"]);
    expect(last.next).toBeNull();

    const all: Entry[] = [];
    for await (const e of c.entries({ pageLimit: 2 })) all.push(e);
    expect(all.map((e) => e.hash)).toEqual(receipts.map((r) => r.hash));
    expect(verifyEntries(all)).toMatchObject({ count: 5, last: { seq: 5, hash: receipts[4]!.hash }, anchored: true });

    const third = await c.entry(3);
    expect(third).toMatchObject({
      id: "XNAS:exec/3",
      seq: 3,
      symbol: "ABC",
      hash: receipts[2]!.hash,
      prevHash: receipts[1]!.hash,
    });
    // An id with ':' and '/' is encoded in the path and found.
    expect(await c.entryById("XNAS:exec/2", { minSeq: 2 })).toMatchObject({ seq: 2, hash: receipts[1]!.hash });
    expect(await rejection(c.entryById("XNAS:exec/404"))).toBeInstanceOf(NotFoundError);

    expect(await c.head()).toEqual({ ledger, seq: 5, hash: receipts[4]!.hash, committedAt: receipts[4]!.committedAt });
    expect(await c.head({ consistency: "local", minSeq: 5 })).toMatchObject({ seq: 5 });

    const positions = await c.positions("ACC-1");
    expect(positions).toMatchObject({ ledger, account: "ACC-1", asOf: { seq: 5 } });
    const bySymbol = Object.fromEntries(positions.positions.map((p) => [p.symbol, p]));
    // XYZ: buy 100 @ 10 (fee 1), sell 40 @ 12.5, sell 10 @ 11: 50 left at cost 500; realized 100 + 10 - 1.
    expect(bySymbol["XYZ"]).toMatchObject({
      quantity: "50",
      costBasis: "500",
      averagePrice: "10",
      realizedPnl: "109",
      fees: "1",
      lastSeq: 5,
    });
    expect(bySymbol["ABC"]).toMatchObject({ quantity: "5", costBasis: "16.25", lastSeq: 3 });

    const status = await c.status();
    expect(status.ledger).toBe(ledger);
    expect(status.acceptors.map((a) => a.region).sort()).toEqual(["enam", "weur", "wnam"]);
    expect(status.quorum).toEqual({ acceptors: 3, prepare: 2, accept: 2 });
    const verified = await c.verify();
    expect(verified).toMatchObject({ ledger, verified: true, checkedThrough: 5, complete: true });
    expect(await c.verify({ region: "weur" })).toMatchObject({ region: "weur", verified: true });
    expect(wire.sent.every((s) => s.url.origin === origin)).toBe(true);
  });
});

describe("client-side chain verification", () => {
  /** A wire that rewrites the entries of list answers with `alter` (the server's answer otherwise kept). */
  function tamperingWire(alter: (entries: Array<Record<string, unknown>>) => void): Wire {
    return new Wire(async (request, _n, forward) => {
      const response = await forward(request);
      const url = new URL(request.url);
      if (request.method !== "GET" || !url.pathname.endsWith("/entries")) return response;
      const body = (await response.json()) as { entries: Array<Record<string, unknown>> };
      alter(body.entries);
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    });
  }

  it("flags an entry whose field was altered, a dropped entry and a broken link, naming the seq", async () => {
    const ledger = uniqueLedger("client-tamper");
    await client(ledger, new Wire()).append([fill("t:1"), fill("t:2"), fill("t:3", { price: "101" }), fill("t:4")]);

    const altered = await rejection(
      client(
        ledger,
        tamperingWire((entries) => {
          entries[2]!["price"] = "1.01";
        }),
      ).list(),
    );
    expect(altered).toBeInstanceOf(ChainVerificationError);
    expect(altered).toMatchObject({ seq: 3, problem: "hash", code: "chain_verification_failed" });
    expect((altered as Error).message).toMatch(/entry 3/);

    const dropped = await rejection(
      client(
        ledger,
        tamperingWire((entries) => void entries.splice(1, 1)),
      ).list(),
    );
    expect(dropped).toMatchObject({ seq: 3, problem: "seq" });

    // A consistent rewrite of entry 2 (hash recomputed) still breaks entry 3's link.
    const relinked = await rejection(
      client(
        ledger,
        tamperingWire((entries) => {
          const e = entries[1]!;
          e["quantity"] = "11";
          const { hash: _old, ...rest } = e;
          e["hash"] = verifyEntriesHash(rest);
        }),
      ).list(),
    );
    expect(relinked).toMatchObject({ seq: 3, problem: "prevHash" });

    // The same altered answer passes when verification is off: the check above is what caught it.
    const unchecked = await client(
      ledger,
      tamperingWire((entries) => {
        entries[2]!["price"] = "1.01";
      }),
      { verifyChain: false },
    ).list();
    expect(unchecked.entries[2]!["price"]).toBe("1.01");

    // The untouched answer verifies; so does the standalone check, which flags a modified copy.
    const page = await client(ledger, new Wire()).list();
    expect(verifyEntries(page.entries)).toMatchObject({ count: 4, anchored: true });
    expect(verifyEntries(page.entries.slice(2), { prevHash: page.entries[1]!.hash, afterSeq: 2 })).toMatchObject({
      anchored: true,
    });
    const copy = page.entries.map((e) => ({ ...e }));
    copy[1] = { ...copy[1]!, account: "ACC-9" };
    expect(() => verifyEntries(copy)).toThrow(ChainVerificationError);
    expect(() => verifyEntries(page.entries.slice(1), { prevHash: genesis_hash })).toThrow(/entry 2/);
  });

  it("flags a tampered entry in a stream", async () => {
    const ledger = uniqueLedger("client-tamper-stream");
    await client(ledger, new Wire()).append([fill("ts:1"), fill("ts:2"), fill("ts:3")]);
    const wire = new Wire(async (request, _n, forward) => {
      const response = await forward(request);
      if (!new URL(request.url).pathname.endsWith("/stream")) return response;
      return new Response(
        rewriteEvents(response.body!, (data) => data.replace('"id":"ts:2"', '"id":"ts:2b"')),
        {
          status: response.status,
          headers: response.headers,
        },
      );
    });
    const iterator = client(ledger, wire).stream()[Symbol.asyncIterator]();
    expect((await take(iterator, 1))[0]!.id).toBe("ts:1");
    const error = await withTimeout(rejection(iterator.next()), deliver_ms, "the tampered stream entry");
    expect(error).toBeInstanceOf(ChainVerificationError);
    expect(error).toMatchObject({ seq: 2, problem: "hash" });
  });
});

/** The README's hash, here through the SDK's own verifier: the hash that makes `entry` verify. */
function verifyEntriesHash(entry: Record<string, unknown>): string {
  // verifyEntries reports the hash it computed for a mismatching entry as `expected`.
  try {
    verifyEntries([{ ...entry, hash: "0".repeat(64) } as unknown as Entry]);
  } catch (error) {
    if (error instanceof ChainVerificationError && typeof error.expected === "string") return error.expected;
    throw error;
  }
  throw new Error("a zero hash verified");
}

/** A stream body whose event data lines pass through `edit`. */
function rewriteEvents(body: ReadableStream<Uint8Array>, edit: (data: string) => string): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        const cut = pending.lastIndexOf("\n");
        if (cut < 0) return;
        const lines = pending.slice(0, cut + 1);
        pending = pending.slice(cut + 1);
        controller.enqueue(encoder.encode(lines.replace(/^data: (.*)$/gm, (_, data: string) => `data: ${edit(data)}`)));
      },
    }),
  );
}

/**
 * A stream body cut after `events` complete events: what was sent of them, then the first half of a
 * made-up next event (seq 99, which would be a gap if the client dispatched it), then an error (a
 * dropped connection) or a clean end (the server's 5-minute end).
 */
function cutAfter(
  body: ReadableStream<Uint8Array>,
  events: number,
  how: "error" | "close",
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let text = "";
  let forwarded = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      text += decoder.decode(value, { stream: true });
      let end = 0;
      let seen = 0;
      while (seen < events) {
        const at = text.indexOf("\n\n", end);
        if (at < 0) break;
        end = at + 2;
        seen += 1;
      }
      if (seen < events) {
        controller.enqueue(encoder.encode(text.slice(forwarded)));
        forwarded = text.length;
        return;
      }
      controller.enqueue(
        encoder.encode(`${text.slice(forwarded, end)}id: 99\nevent: entry\ndata: {"seq":99,"id":"half`),
      );
      await reader.cancel();
      if (how === "error") controller.error(new TypeError("network connection lost (test)"));
      else controller.close();
    },
    async cancel() {
      await reader.cancel();
    },
  });
}

describe("stream", () => {
  it("replays the ledger, then follows live appends, in seq order and verified; breaking the loop ends it", async () => {
    const ledger = uniqueLedger("client-stream");
    const wire = new Wire();
    const c = client(ledger, wire);
    const receipts = (await c.append([fill("s:1"), fill("s:2"), fill("s:3")])).results;
    const got: Entry[] = [];
    await withTimeout(
      (async () => {
        for await (const entry of c.stream()) {
          got.push(entry);
          if (got.length === 3) receipts.push(...(await c.append([fill("s:4"), fill("s:5")])).results);
          if (got.length === 4) receipts.push(...(await c.append(fill("s:6"))).results);
          if (got.length === 6) break;
        }
      })(),
      3 * deliver_ms,
      "six streamed entries",
    );
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got.map((e) => e.hash)).toEqual(receipts.map((r) => r.hash));
    expect(wire.streams()).toHaveLength(1);

    // From the middle: the first entry is linked to entry 4's hash, which the client reads once.
    const fromFour = c.stream({ after: 4 })[Symbol.asyncIterator]();
    expect((await take(fromFour, 2)).map((e) => e.id)).toEqual(["s:5", "s:6"]);
    await fromFour.return?.();
    expect(wire.sent.some((s) => s.url.pathname.endsWith("/entries/4"))).toBe(true);
  });

  it("resumes after a dropped connection and after a server end, with no gap and no duplicate", async () => {
    const ledger = uniqueLedger("client-stream-resume");
    let connections = 0;
    const wire = new Wire(async (request, _n, forward) => {
      const response = await forward(request);
      if (!new URL(request.url).pathname.endsWith("/stream")) return response;
      connections += 1;
      // First connection: dropped after 3 events; second: ended cleanly after 2; then left alone.
      if (connections === 1)
        return new Response(cutAfter(response.body!, 3, "error"), { status: 200, headers: response.headers });
      if (connections === 2)
        return new Response(cutAfter(response.body!, 2, "close"), { status: 200, headers: response.headers });
      return response;
    });
    const c = client(ledger, wire);
    const receipts = (await c.append([1, 2, 3, 4, 5, 6].map((i) => fill(`m:${i}`)))).results;

    const iterator = c.stream()[Symbol.asyncIterator]();
    const replayed = await take(iterator, 6);
    expect(replayed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(replayed.map((e) => e.hash)).toEqual(receipts.map((r) => r.hash));
    const live = (await c.append(fill("m:7"))).results[0]!;
    const [seventh] = await take(iterator, 1);
    expect(seventh).toMatchObject({ seq: 7, hash: live.hash, prevHash: receipts[5]!.hash });
    await iterator.return?.();

    const streams = wire.streams();
    expect(streams).toHaveLength(3);
    expect(streams.map((s) => s.url.searchParams.get("after"))).toEqual(["0", "3", "5"]);
    expect(streams.map((s) => s.lastEventId)).toEqual([null, "3", "5"]);
  });

  it("stops when its signal aborts, even while waiting for a live entry", async () => {
    const ledger = uniqueLedger("client-stream-abort");
    const c = client(ledger, new Wire());
    await c.append(fill("x:1"));
    const abort = new AbortController();
    const got: number[] = [];
    const loop = (async () => {
      for await (const entry of c.stream({ signal: abort.signal })) got.push(entry.seq);
    })();
    await expect.poll(() => got.length, { timeout: deliver_ms }).toBe(1);
    abort.abort();
    await withTimeout(loop, deliver_ms, "the stream's loop to end after abort");
    expect(got).toEqual([1]);
  });

  it("a refused stream (403) is a typed error, not a reconnect loop", async () => {
    const ledger = uniqueLedger("client-stream-403");
    const wire = new Wire();
    const error = await rejection(client(ledger, wire, { apiKey: test_keys["test-append"] }).stream().next());
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(wire.streams()).toHaveLength(1);
  });
});

describe("SseParser", () => {
  const text =
    ': comment\r\nid: 1\r\nevent: entry\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: heartbeat\ndata: {}\n\nretry: 3000\nid: 2\ndata: x\r\r';

  it("gives the same events however the text is cut into chunks (CRLF split included)", () => {
    const whole = new SseParser().push(text);
    expect(whole).toEqual<SseEvent[]>([
      { event: "entry", data: '{"a":\n1}', lastEventId: "1", retry_ms: undefined },
      { event: "heartbeat", data: "{}", lastEventId: "1", retry_ms: undefined },
      { event: "message", data: "x", lastEventId: "2", retry_ms: 3000 },
    ]);
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      expect([...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))], `cut at ${cut}`).toEqual(whole);
    }
    const oneByOne = new SseParser();
    expect([...text].flatMap((ch) => oneByOne.push(ch))).toEqual(whole);
  });

  it("drops an event the stream ended in the middle of, and refuses an unbounded line", () => {
    const parser = new SseParser();
    expect(parser.push('id: 5\nevent: entry\ndata: {"seq":5')).toEqual([]);
    parser.end();
    expect(parser.push("\n\n")).toEqual([]);
    expect(() => new SseParser().push(`data: ${"x".repeat(sse_line_chars_max)}`)).toThrow(StreamProtocolError);
  });
});
