/**
 * GET /v1/ledgers/:ledger/stream (Server-Sent Events) through the Worker's own fetch: it replays the
 * entries after the cursor, then delivers new ones live, in seq order, without duplicates; a client
 * that reconnects with Last-Event-ID resumes after it. The body is read incrementally and every wait
 * is bounded.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeader, origin, uniqueLedger, type Entry, type Receipt } from "./http.js";

const auth = authHeader("test-all");

interface SseEvent {
  event: string | undefined;
  id: string | undefined;
  data: string;
}

async function append(ledger: string, id: string): Promise<Receipt> {
  const res = await exports.default.fetch(`${origin}/v1/ledgers/${ledger}/entries`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "1", price: "10" }),
  });
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 201 });
  const results = (JSON.parse(text) as { results: Receipt[] }).results;
  expect(results.map((r) => r.id)).toEqual([id]);
  return results[0]!;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Reads a text/event-stream body incrementally and parses it into events (comments skipped). */
class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  private ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next complete event, or an error after `timeout_ms`. */
  async next(timeout_ms: number): Promise<SseEvent> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const event = this.takeEvent();
      if (event !== undefined) return event;
      if (this.ended) throw new Error("the stream ended");
      // A read that timed out is still pending: wait for that one rather than starting another.
      this.pendingRead ??= this.reader.read();
      const result = await withTimeout(this.pendingRead, Math.max(1, deadline - Date.now()), "waiting for the next SSE event");
      this.pendingRead = undefined;
      if (result.done) this.ended = true;
      else this.buffer += this.decoder.decode(result.value, { stream: true });
    }
  }

  /** The next entry event, skipping heartbeats. */
  async nextEntry(timeout_ms: number): Promise<SseEvent> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (e.event !== "heartbeat") return e;
    }
  }

  /** Entry events that arrive within `ms` (heartbeats skipped); [] when none does. */
  async entriesWithin(ms: number): Promise<SseEvent[]> {
    const deadline = Date.now() + ms;
    const got: SseEvent[] = [];
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return got;
      try {
        const e = await this.next(left);
        if (e.event !== "heartbeat") got.push(e);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("timed out")) return got;
        throw error;
      }
    }
  }

  async cancel(): Promise<void> {
    await withTimeout(this.reader.cancel(), 2_000, "cancelling the stream");
  }

  private takeEvent(): SseEvent | undefined {
    for (;;) {
      const normalized = this.buffer.replace(/\r\n?/g, "\n");
      const end = normalized.indexOf("\n\n");
      if (end < 0) return undefined;
      const block = normalized.slice(0, end);
      this.buffer = normalized.slice(end + 2);
      let event: string | undefined;
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "id") id = value;
        else if (field === "data") data.push(value);
      }
      if (event === undefined && id === undefined && data.length === 0) continue; // a comment block
      return { event, id, data: data.join("\n") };
    }
  }
}

async function openStream(ledger: string, query: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const res = await withTimeout(
    exports.default.fetch(`${origin}/v1/ledgers/${ledger}/stream${query}`, { headers: { ...auth, ...headers } }),
    5_000,
    "the stream's response headers",
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/);
  expect(res.body).not.toBeNull();
  return new SseReader(res.body!);
}

/** Checks an entry event against the receipt of its append and returns the entry. */
function expectEntryEvent(e: SseEvent, receipt: Receipt): Entry {
  expect(e.event).toBe("entry");
  expect(e.id).toBe(String(receipt.seq));
  const entry = JSON.parse(e.data) as Entry;
  expect(entry).toMatchObject({ id: receipt.id, seq: receipt.seq, hash: receipt.hash, slot: receipt.slot });
  return entry;
}

/** How long the stream gets to deliver something it should (it polls every 250 ms). */
const deliver_ms = 5_000;
/** How long the stream must stay quiet when nothing is due: several poll intervals. */
const quiet_ms = 900;

describe("GET /stream", () => {
  it("replays the entries after `after`, then delivers new ones live, in order, without duplicates", async () => {
    const ledger = uniqueLedger("stream-live");
    const receipts = [await append(ledger, "s:1"), await append(ledger, "s:2"), await append(ledger, "s:3")];
    const stream = await openStream(ledger, "?after=0");
    try {
      const replayed: Entry[] = [];
      for (const r of receipts) replayed.push(expectEntryEvent(await stream.nextEntry(deliver_ms), r));
      for (let i = 1; i < replayed.length; i++) expect(replayed[i]!.prevHash).toBe(replayed[i - 1]!.hash);
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);

      receipts.push(await append(ledger, "s:4"), await append(ledger, "s:5"));
      expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      const live = [expectEntryEvent(await stream.nextEntry(deliver_ms), receipts[3]!)];
      live.push(expectEntryEvent(await stream.nextEntry(deliver_ms), receipts[4]!));
      expect(live[0]!.prevHash).toBe(replayed[2]!.hash);
      // Nothing more: no duplicate of what was delivered.
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);

      receipts.push(await append(ledger, "s:6"));
      expectEntryEvent(await stream.nextEntry(deliver_ms), receipts[5]!);
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);
    } finally {
      await stream.cancel();
    }
  });

  it("resumes after Last-Event-ID: only later entries are replayed, then live ones follow", async () => {
    const ledger = uniqueLedger("stream-resume");
    const receipts: Receipt[] = [];
    for (let i = 1; i <= 5; i++) receipts.push(await append(ledger, `r:${i}`));
    const stream = await openStream(ledger, "", { "last-event-id": "4" });
    try {
      expectEntryEvent(await stream.nextEntry(deliver_ms), receipts[4]!);
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);
      receipts.push(await append(ledger, "r:6"));
      expectEntryEvent(await stream.nextEntry(deliver_ms), receipts[5]!);
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);
    } finally {
      await stream.cancel();
    }
  });

  it("starts after `after`, and from the beginning without it", async () => {
    const ledger = uniqueLedger("stream-after");
    const receipts: Receipt[] = [];
    for (let i = 1; i <= 4; i++) receipts.push(await append(ledger, `a:${i}`));
    const fromTwo = await openStream(ledger, "?after=2");
    try {
      expectEntryEvent(await fromTwo.nextEntry(deliver_ms), receipts[2]!);
      expectEntryEvent(await fromTwo.nextEntry(deliver_ms), receipts[3]!);
      expect(await fromTwo.entriesWithin(quiet_ms)).toEqual([]);
    } finally {
      await fromTwo.cancel();
    }
    const fromStart = await openStream(ledger, "");
    try {
      for (const r of receipts) expectEntryEvent(await fromStart.nextEntry(deliver_ms), r);
      expect(await fromStart.entriesWithin(quiet_ms)).toEqual([]);
    } finally {
      await fromStart.cancel();
    }
  });

  it("an empty ledger's stream stays open and delivers the first entry when it comes", async () => {
    const ledger = uniqueLedger("stream-empty");
    const stream = await openStream(ledger, "?after=0");
    try {
      expect(await stream.entriesWithin(quiet_ms)).toEqual([]);
      const first = await append(ledger, "e:1");
      expectEntryEvent(await stream.nextEntry(deliver_ms), first);
    } finally {
      await stream.cancel();
    }
  });
});
