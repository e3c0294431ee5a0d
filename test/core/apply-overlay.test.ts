/**
 * The apply step's reads: LedgerOverlay answers from its own writes first, then from what it
 * prefetched, and asks its base only for the rest, a slot's ids in a few bulk lookups (the SQLite
 * store pays one query per call). Also the messages of a refused batch, which the client sees.
 */
import { describe, expect, it } from "vitest";
import { applySlot, applySlotOnto, LedgerOverlay } from "../../src/core/apply.js";
import { InvariantViolation } from "../../src/core/assert.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome, Entry, LedgerView } from "../../src/core/ledger-types.js";
import { limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { allEntries, appendValue, applyAndPersist, trade } from "./fixtures.js";

/** A view that records every lookup it answers. */
class CountingView implements LedgerView {
  readonly byIdCalls: string[] = [];
  readonly bulkCalls: string[][] = [];
  constructor(private readonly base: LedgerView) {}
  head() {
    return this.base.head();
  }
  entryById(id: string) {
    this.byIdCalls.push(id);
    return this.base.entryById(id);
  }
  entriesByIds(ids: readonly string[]) {
    this.bulkCalls.push([...ids]);
    return this.base.entriesByIds(ids);
  }
  supersededBy(id: string) {
    return this.base.supersededBy(id);
  }
  position(account: string, symbol: string) {
    return this.base.position(account, symbol);
  }
  entriesOf(account: string, symbol: string) {
    return this.base.entriesOf(account, symbol);
  }
}

function seededStore(): MemoryAcceptorStore {
  const store = new MemoryAcceptorStore();
  applyAndPersist(store, 1, appendValue(1_000, [trade("t1", { quantity: "10", price: "100" }), trade("t2")]));
  return store;
}

function rejectionOf(outcome: BatchOutcome | undefined) {
  expect(outcome?.kind).toBe("rejected");
  return outcome?.kind === "rejected" ? outcome.rejection : undefined;
}

describe("applySlot looks ids up in bulk", () => {
  it("asks the base once per chunk of at most id_lookup_ids_max distinct ids, refIds included, and never one by one", () => {
    const view = new CountingView(seededStore());
    const per_batch = 900;
    const batches: EntryInput[][] = Array.from({ length: 3 }, (_batch, b) =>
      Array.from({ length: per_batch }, (_entry, i) => trade(`n${b}-${i}`)),
    );
    // A repeated id (exists), a bust of a stored fill and one of a missing fill.
    batches.push([trade("t2"), trade("bust1", { execType: "bust", refId: "t1", quantity: "10", price: "100" })]);
    batches.push([trade("bust2", { execType: "bust", refId: "missing" })]);
    const { outcome } = applySlot(view, 2, appendValue(2_000, ...batches));
    expect(outcome.batches.map((b) => b.kind)).toEqual(["applied", "applied", "applied", "applied", "rejected"]);

    const distinct = new Set([...batches.flat().map((e) => e.id), "t1", "missing"]);
    expect(distinct.size).toBeGreaterThan(limits.id_lookup_ids_max);
    expect(view.bulkCalls).toHaveLength(Math.ceil(distinct.size / limits.id_lookup_ids_max));
    for (const call of view.bulkCalls) {
      expect(call.length).toBeGreaterThan(0);
      expect(call.length).toBeLessThanOrEqual(limits.id_lookup_ids_max);
    }
    const asked = view.bulkCalls.flat();
    expect(asked).toHaveLength(distinct.size); // each id once
    expect(new Set(asked)).toEqual(distinct);
    // Every later check (idempotency, references, misses included) is answered from the prefetch.
    expect(view.byIdCalls).toEqual([]);
  });

  it("a second slot on the same overlay asks only for ids it has not seen", () => {
    const view = new CountingView(seededStore());
    const overlay = new LedgerOverlay(view);
    applySlotOnto(overlay, 2, appendValue(2_000, [trade("a"), trade("t1", { quantity: "10", price: "100" })]));
    expect(view.bulkCalls).toEqual([["a", "t1"]]);
    // "a" was written by slot 2, "t1" was fetched, "t2" and "b" are new to this overlay.
    const t1 = trade("t1", { quantity: "10", price: "100" });
    applySlotOnto(
      overlay,
      3,
      appendValue(3_000, [trade("a"), t1, trade("b"), trade("c", { execType: "correction", refId: "t2" })]),
    );
    expect(view.bulkCalls).toEqual([
      ["a", "t1"],
      ["b", "c", "t2"],
    ]);
    // A slot of ids the overlay has all seen asks nothing, not even an empty lookup.
    applySlotOnto(overlay, 4, appendValue(4_000, [trade("a"), t1, trade("b")]));
    expect(view.bulkCalls).toEqual([
      ["a", "t1"],
      ["b", "c", "t2"],
    ]);
    expect(view.byIdCalls).toEqual([]);
  });
});

describe("LedgerOverlay", () => {
  it("entriesByIds answers from its writes and its prefetch, asks the base for the rest, and leaves misses out", () => {
    const view = new CountingView(seededStore());
    const overlay = new LedgerOverlay(view);
    applySlotOnto(overlay, 2, appendValue(2_000, [trade("mine")]));
    overlay.prefetchIds(["t1", "gone"]);
    view.bulkCalls.length = 0;
    expect(overlay.entriesByIds(["mine", "t1", "gone", "mine"]).map((e) => e.id)).toEqual(["mine", "t1"]);
    expect(view.bulkCalls).toEqual([]);
    expect(overlay.entriesByIds(["t2", "mine", "nowhere"]).map((e) => e.id)).toEqual(["mine", "t2"]);
    expect(view.bulkCalls).toEqual([["t2", "nowhere"]]);
    expect(overlay.entryById("gone")).toBeUndefined();
    expect(view.byIdCalls).toEqual([]);
  });

  it("position: the base's until the overlay writes one", () => {
    const store = seededStore();
    const overlay = new LedgerOverlay(store);
    expect(overlay.position("ACC-1", "AAPL")).toEqual(store.position("ACC-1", "AAPL"));
    expect(overlay.position("ACC-9", "AAPL")).toBeUndefined();
    applySlotOnto(overlay, 2, appendValue(2_000, [trade("more", { quantity: "1" })]));
    expect(overlay.position("ACC-1", "AAPL")).toMatchObject({ quantity: "21", lastSeq: 3 });
    expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "20", lastSeq: 2 });
  });

  it("addEntry refuses an entry that is not at the next seq", () => {
    const store = seededStore();
    const overlay = new LedgerOverlay(store);
    const stored = allEntries(store)[0]!;
    const wrong: Entry = { ...stored, id: "x", seq: 5 };
    expect(() => overlay.addEntry(wrong)).toThrow(InvariantViolation);
    expect(() => overlay.addEntry(wrong)).toThrow("entries are appended at the next seq");
  });

  it("mergeInto moves the head too", () => {
    const parent = new LedgerOverlay(seededStore());
    const child = new LedgerOverlay(parent);
    const head = { ...parent.head(), committedAt_ms: 9_999 };
    child.setHead(head);
    child.mergeInto(parent);
    expect(parent.head()).toEqual(head);
  });
});

describe("proposedAt_ms range", () => {
  it("accepts 0 and the largest time a Date holds, refuses -1 naming the value", () => {
    expect(applySlot(new MemoryAcceptorStore(), 1, appendValue(0, [trade("a")])).writes.entries[0]!.committedAt).toBe(
      "1970-01-01T00:00:00.000Z",
    );
    expect(
      applySlot(new MemoryAcceptorStore(), 1, appendValue(8.64e15, [trade("a")])).writes.entries[0]!.committedAt,
    ).toBe("+275760-09-13T00:00:00.000Z");
    expect(() => applySlot(new MemoryAcceptorStore(), 1, appendValue(-1, [trade("a")]))).toThrow(
      "proposedAt_ms out of range: -1",
    );
    expect(() => applySlot(new MemoryAcceptorStore(), 1, appendValue(8.64e15 + 1, [trade("a")]))).toThrow(
      InvariantViolation,
    );
  });
});

describe("the messages of a refused batch", () => {
  const bust = (id: string, refId: string, extra: Partial<EntryInput> = {}) =>
    trade(id, { execType: "bust", refId, quantity: "10", price: "100", ...extra });

  it("name the id, the reference and what is wrong with it", () => {
    const store = seededStore(); // t1: buy 10 at 100, seq 1
    applyAndPersist(store, 2, appendValue(2_000, [bust("b1", "t1")]));
    const { outcome } = applySlot(
      store,
      3,
      appendValue(
        3_000,
        [trade("t2", { quantity: "11" })],
        [bust("b2", "missing")],
        [bust("b3", "t2", { account: "ACC-2" })],
        [bust("b4", "b1")],
        [bust("b5", "t1")],
        [bust("b6", "t2", { side: "sell", price: "99" })],
      ),
    );
    const messages = outcome.batches.map((b) => rejectionOf(b)?.message);
    expect(messages).toEqual([
      "id t2 is already in the ledger at seq 2 with a different body",
      "refId missing is not in the ledger",
      "refId t2 is a fill of ACC-1/AAPL, not ACC-2/AAPL",
      "refId b1 is a bust; a bust cannot be busted or corrected",
      "refId t1 was already busted or corrected by seq 3",
      "bust b6 must repeat the fill it cancels: t2 has side buy, price 100, the bust says side sell, price 99",
    ]);
  });
});
