/**
 * GET /v1/ledgers/:ledger/stream (Server-Sent Events) through the Worker's own fetch: it replays the
 * entries after the cursor, then delivers new ones live, in seq order, without duplicates; a client
 * that reconnects with Last-Event-ID resumes after it. The body is read incrementally and every wait
 * is bounded.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeader, type Entry, origin, type Receipt, uniqueLedger } from "./http.js";
import { openStream, type SseEvent } from "./sse.js";

const auth = authHeader("test-all");

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
