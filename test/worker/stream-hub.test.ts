/**
 * Bounded streams (src/proposer/stream-hub.ts and src/proposer/stream/) through the Worker's own
 * fetch: places per API key and per ledger (429 `too_many_streams` beyond them, given back when a
 * stream ends), one poll of the replica per ledger whatever the number of streams, hand-over of that
 * poll, catch-up of a stream far behind, the end of a stream whose buffer overflows or whose
 * request's subrequest budget is nearly spent, and the SDK's back-off on 429 per Retry-After.
 *
 * Every test uses its own ledger. Limits are lowered per test (`withLimits`) so that small numbers
 * exercise them; every hub created meanwhile keeps the lowered limits.
 */
import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Entry as ClientEntry, QuorumLedgerClient } from "../../src/client/index.js";
import { recentBudgets } from "../../src/proposer/request-budget.js";
import { type StreamLimits, stream_limits, streamHubs } from "../../src/proposer/stream-hub.js";
import { test_keys } from "./bindings.js";
import {
  type Entry,
  expectApiError,
  ledgerPath,
  origin,
  post,
  type Receipt,
  readApiResponse,
  uniqueLedger,
} from "./http.js";
import { openStream, type SseReader, streamResponse, withTimeout } from "./sse.js";

/** How long a stream gets to deliver what is due (it is polled every `poll_interval_ms`). */
const deliver_ms = 5_000;
/** How long a condition on the server's state gets to come true. */
const settle_ms = 5_000;

function withLimits(overrides: Partial<StreamLimits>): void {
  streamHubs.limits = { ...stream_limits, ...overrides };
}

async function until(what: string, condition: () => boolean, timeout_ms = settle_ms): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many streams have ended for `reason` in this isolate so far. */
function ended(reason: keyof typeof streamHubs.ends): number {
  return streamHubs.ends[reason] ?? 0;
}

function openOn(ledger: string): number {
  return streamHubs.hub(ledger)?.subscribers.size ?? 0;
}

async function appendMany(ledger: string, ids: string[]): Promise<Receipt[]> {
  const res = await post(ledgerPath(ledger, "entries"), {
    entries: ids.map((id) => ({ id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "1", price: "10" })),
  });
  expect(res.status, res.text).toBe(201);
  return (res.json as { results: Receipt[] }).results;
}

function seqsOf(events: Array<{ id: string | undefined }>): number[] {
  return events.map((e) => Number(e.id));
}

/** Reads entry events until `count` have come, each within `deliver_ms`. */
async function entries(stream: SseReader, count: number): Promise<Entry[]> {
  const got: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const e = await stream.nextEntry(deliver_ms);
    expect(e.event).toBe("entry");
    got.push(JSON.parse(e.data) as Entry);
  }
  return got;
}

/** Subrequests made so far by the stream requests of `ledger` (the transport's own count per request). */
function streamSubrequests(ledger: string): number {
  return recentBudgets()
    .filter((b) => b.label === `GET ${ledgerPath(ledger, "stream")}`)
    .reduce((sum, b) => sum + b.subrequests, 0);
}

const opened: SseReader[] = [];
async function open(
  ledger: string,
  query = "?after=0",
  headers: Record<string, string> = {},
  key: "test-all" | "test-read" = "test-all",
) {
  const stream = await openStream(ledger, query, headers, key);
  opened.push(stream);
  return stream;
}

beforeEach(() => {
  streamHubs.limits = stream_limits;
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.cancel().catch(() => undefined);
  streamHubs.limits = stream_limits;
  vi.restoreAllMocks();
});

describe("stream places", () => {
  it("caps streams per API key and per ledger with 429 too_many_streams and Retry-After; a closed stream gives its place back", async () => {
    withLimits({ streams_per_key_max: 2, streams_per_ledger_max: 3, too_many_streams_retry_after_s: 2 });
    const ledger = uniqueLedger("caps");
    const first = await open(ledger);
    await open(ledger);

    const perKey = await readApiResponse(await streamResponse(ledger, "?after=0"));
    const body = expectApiError(perKey, 429, "too_many_streams");
    expect(perKey.headers.get("retry-after")).toBe("2");
    expect(body.error.details).toEqual({ limit: "key", max: 2, open: 2 });
    expect(openOn(ledger)).toBe(2); // the refusal took no place

    // Another key still has room on this ledger, up to the ledger's cap.
    await open(ledger, "?after=0", {}, "test-read");
    const perLedger = await readApiResponse(await streamResponse(ledger, "?after=0", {}, "test-read"));
    expect(expectApiError(perLedger, 429, "too_many_streams").error.details).toEqual({
      limit: "ledger",
      max: 3,
      open: 3,
    });
    expect(perLedger.headers.get("retry-after")).toBe("2");

    // Closing a stream (the client goes away) gives its place back at once.
    await first.cancel();
    await until("the closed stream's place is free", () => openOn(ledger) === 2);
    await open(ledger);
    expect(openOn(ledger)).toBe(3);
  });

  it("caps the streams of the whole isolate too", async () => {
    await until("no stream of an earlier test is open", () => streamHubs.openStreams() === 0);
    withLimits({ streams_per_isolate_max: 1 });
    await open(uniqueLedger("caps-isolate"));
    const refused = await readApiResponse(
      await streamResponse(uniqueLedger("caps-isolate"), "?after=0", {}, "test-read"),
    );
    expect(expectApiError(refused, 429, "too_many_streams").error.details).toEqual({
      limit: "isolate",
      max: 1,
      open: 1,
    });
  });

  it("the OpenAPI document lists the 429 of the stream route", async () => {
    const res = await exports.default.fetch(`${origin}/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, { get?: { responses?: Record<string, { description: string }> } }>;
    };
    expect(doc.paths["/v1/ledgers/{ledger}/stream"]?.get?.responses?.["429"]?.description).toMatch(/too_many_streams/);
  });

  it("a stream that ends (its time is up) gives its place back, and its client resumes where it stopped", async () => {
    withLimits({ streams_per_key_max: 1, duration_ms_max: 1_500 });
    const ledger = uniqueLedger("caps-duration");
    const receipts = await appendMany(ledger, ["d:1", "d:2"]);
    const endedBefore = ended("duration");
    const stream = await open(ledger);
    const got = await stream.entriesUntilEnd(1_500 + deliver_ms);
    expect(seqsOf(got)).toEqual(receipts.map((r) => r.seq));
    await until("the ended stream's place is free", () => openOn(ledger) === 0);
    expect(ended("duration")).toBe(endedBefore + 1);
    // Its key's single place is free again: the reconnect is admitted and resumes after the last id.
    const more = await appendMany(ledger, ["d:3"]);
    const resumed = await open(ledger, "", { "last-event-id": String(receipts[1]!.seq) });
    expect((await entries(resumed, 1)).map((e) => e.seq)).toEqual([more[0]!.seq]);
  });
});

describe("one poll per ledger", () => {
  it("three streams of one ledger see the same entries while the replica is polled once per interval", async () => {
    const errors = vi.spyOn(console, "error");
    const ledger = uniqueLedger("hub-shared");
    const first = await appendMany(ledger, ["h:1", "h:2"]);
    const streams = [await open(ledger), await open(ledger), await open(ledger)];
    for (const s of streams) expect((await entries(s, 2)).map((e) => e.id)).toEqual(["h:1", "h:2"]);

    // Count the acceptor calls of the stream requests over a window while all three are live.
    const interval_ms = stream_limits.poll_interval_ms;
    const before = streamSubrequests(ledger);
    const window_started = Date.now();
    const later = await appendMany(ledger, ["h:3", "h:4", "h:5"]);
    const seen = await Promise.all(streams.map(async (s) => (await entries(s, 3)).map((e) => e.hash)));
    for (const hashes of seen) expect(hashes).toEqual(later.map((r) => r.hash));
    await new Promise((resolve) => setTimeout(resolve, 4 * interval_ms));
    const calls = streamSubrequests(ledger) - before;
    const window_ms = Date.now() - window_started;
    console.log(`three streams: ${calls} acceptor calls in ${window_ms} ms (poll interval ${interval_ms} ms)`);
    // One poll per interval for the three (plus one that may be in flight at either end), where
    // a poll per stream would make three times as many.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(Math.floor(window_ms / interval_ms) + 2);
    expect(first.map((r) => r.seq)).toEqual([1, 2]);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });

  it("the poll is handed over when the stream that runs it goes away, with no I/O across requests", async () => {
    const errors = vi.spyOn(console, "error");
    const warnings = vi.spyOn(console, "warn");
    const ledger = uniqueLedger("hub-handover");
    const a = await open(ledger);
    const b = await open(ledger);
    await appendMany(ledger, ["o:1"]);
    expect((await entries(a, 1)).map((e) => e.id)).toEqual(["o:1"]);
    expect((await entries(b, 1)).map((e) => e.id)).toEqual(["o:1"]);
    // Whichever of them polls, close the other first and then that one: the survivor keeps receiving.
    await a.cancel();
    await until("a's place is free", () => openOn(ledger) === 1);
    await appendMany(ledger, ["o:2"]);
    expect((await entries(b, 1)).map((e) => e.id)).toEqual(["o:2"]);
    const c = await open(ledger, "", { "last-event-id": "2" });
    await b.cancel();
    await until("b's place is free", () => openOn(ledger) === 1);
    await appendMany(ledger, ["o:3", "o:4"]);
    expect((await entries(c, 2)).map((e) => e.id)).toEqual(["o:3", "o:4"]);
    const logged = [...errors.mock.calls, ...warnings.mock.calls].map((call) => call.map(String).join(" "));
    expect(logged.filter((line) => /different request|I\/O/i.test(line))).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
  });

  it("a stream far behind the shared tail reads its own pages, then joins the live tail", async () => {
    withLimits({ hub_recent_entries_max: 4, subscriber_buffer_entries_max: 8, page_entries_max: 10 });
    const ledger = uniqueLedger("hub-catch-up");
    const receipts = await appendMany(
      ledger,
      Array.from({ length: 25 }, (_, i) => `c:${i + 1}`),
    );
    const live = await open(ledger, `?after=${receipts.at(-1)!.seq}`);
    await until("the hub has started", () => streamHubs.hub(ledger)?.polledThrough === 25);
    const hub = streamHubs.hub(ledger)!;
    const reads_before = hub.stats.catchUpReads;
    const behind = await open(ledger, "?after=0");
    expect((await entries(behind, 25)).map((e) => e.seq)).toEqual(receipts.map((r) => r.seq));
    // Pages of 10: 1-10, 11-20, 21-25.
    expect(hub.stats.catchUpReads - reads_before).toBeGreaterThanOrEqual(3);
    await until("the stream behind has joined the live tail", () => [...hub.subscribers].every((s) => s.live));
    const next = await appendMany(ledger, ["c:26"]);
    expect((await entries(behind, 1)).map((e) => e.seq)).toEqual([next[0]!.seq]);
    expect((await entries(live, 1)).map((e) => e.seq)).toEqual([next[0]!.seq]);
  });

  it("a burst larger than one page reaches every live stream in order, read page after page at once", async () => {
    withLimits({ page_entries_max: 10, hub_recent_entries_max: 50, subscriber_buffer_entries_max: 50 });
    const ledger = uniqueLedger("hub-burst");
    const a = await open(ledger);
    const b = await open(ledger);
    await until(
      "both streams are live",
      () => [...(streamHubs.hub(ledger)?.subscribers ?? [])].filter((s) => s.live).length === 2,
    );
    const polls_before = streamHubs.hub(ledger)!.stats.polls;
    const started = Date.now();
    const burst = await appendMany(
      ledger,
      Array.from({ length: 35 }, (_, i) => `u:${i + 1}`),
    );
    for (const s of [a, b]) expect((await entries(s, 35)).map((e) => e.seq)).toEqual(burst.map((r) => r.seq));
    // Four pages (10, 10, 10, 5) read one after the other, not one page per interval.
    const polls = streamHubs.hub(ledger)!.stats.polls - polls_before;
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(polls).toBeLessThanOrEqual(Math.floor((Date.now() - started) / stream_limits.poll_interval_ms) + 5);
  });

  it("a stream whose buffer overflows is ended, and resumes with Last-Event-ID without missing an entry", async () => {
    withLimits({ hub_recent_entries_max: 5, subscriber_buffer_entries_max: 5 });
    const ledger = uniqueLedger("hub-overflow");
    const first = await appendMany(ledger, ["v:1"]);
    const endedBefore = ended("overflow");
    const stream = await open(ledger);
    expect((await entries(stream, 1)).map((e) => e.seq)).toEqual([first[0]!.seq]);
    // More new entries at once than its buffer holds.
    const burst = await appendMany(
      ledger,
      Array.from({ length: 12 }, (_, i) => `v:${i + 2}`),
    );
    const delivered = await stream.entriesUntilEnd(deliver_ms);
    expect(ended("overflow")).toBe(endedBefore + 1);
    expect(delivered).toEqual([]); // the burst came in one poll: nothing of it fitted
    await until("the ended stream's place is free", () => openOn(ledger) === 0);
    const last = delivered.length === 0 ? first[0]!.seq : Number(delivered.at(-1)!.id);
    const resumed = await open(ledger, "", { "last-event-id": String(last) });
    const rest = await entries(resumed, burst.at(-1)!.seq - last);
    expect([...seqsOf(delivered), ...rest.map((e) => e.seq)]).toEqual(burst.map((r) => r.seq));
  });
});

describe("subrequest budget", () => {
  it("a polling stream ends cleanly before its request's subrequests reach the budget, with the margin kept", async () => {
    const budget = 24;
    const ledger = uniqueLedger("hub-budget");
    await appendMany(ledger, ["b:1"]);
    const endedBefore = ended("subrequest_budget");
    // The request's budget lowered for this stream only (request-budget.ts, fault injection on).
    const stream = await open(ledger, "?after=0", { "x-debug-subrequests-max": String(budget) });
    const started = Date.now();
    const got = await stream.entriesUntilEnd(budget * stream_limits.poll_interval_ms + deliver_ms);
    expect(seqsOf(got)).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(
      (budget - stream_limits.subrequest_margin - 3) * stream_limits.poll_interval_ms * 0.5,
    );
    await until("its place is free", () => openOn(ledger) === 0);
    expect(ended("subrequest_budget")).toBe(endedBefore + 1);
    const [request] = recentBudgets().filter((b) => b.label === `GET ${ledgerPath(ledger, "stream")}`);
    expect(request).toBeDefined();
    console.log(`budget ${budget}: the stream made ${request!.subrequests} subrequests and ended`);
    expect(request!.refused).toBe(0);
    expect(request!.subrequests).toBeLessThanOrEqual(budget - stream_limits.subrequest_margin);
    expect(request!.subrequests).toBeGreaterThan(budget / 4); // it did poll until near its budget
  });
});

describe("the SDK and 429", () => {
  it("backs off for Retry-After when its key has no stream place left, then streams", async () => {
    withLimits({ streams_per_key_max: 1, too_many_streams_retry_after_s: 1 });
    const ledger = uniqueLedger("hub-sdk-429");
    const holder = await open(ledger);
    const attempts: number[] = [];
    const statuses: number[] = [];
    const client = new QuorumLedgerClient({
      baseUrl: origin,
      apiKey: test_keys["test-all"],
      ledger,
      retry: { attempts_max: 4, base_ms: 20, cap_ms: 5_000 },
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (new URL(request.url).pathname.endsWith("/stream")) attempts.push(Date.now());
        const res = await exports.default.fetch(request);
        if (new URL(request.url).pathname.endsWith("/stream")) statuses.push(res.status);
        return res;
      },
    });
    const receipts = await appendMany(ledger, ["k:1"]);
    const iterator = client.stream()[Symbol.asyncIterator]();
    const next = iterator.next();
    await until("the SDK was refused", () => statuses.length >= 1);
    expect(statuses[0]).toBe(429);
    await holder.cancel();
    const first = await withTimeout(next, 3 * deliver_ms, "the SDK's first entry");
    expect((first.value as ClientEntry).hash).toBe(receipts[0]!.hash);
    expect(statuses.at(-1)).toBe(200);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(1_000);
    await iterator.return?.();
  });
});
