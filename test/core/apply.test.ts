import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import { applySlot, clientFieldsOf } from "../../src/core/apply.js";
import { InvariantViolation } from "../../src/core/assert.js";
import { type EntryInput, entryInputSchema } from "../../src/core/entry-schema.js";
import { entryHash, genesis_hash } from "../../src/core/hash.js";
import type { BatchOutcome, Receipt, SlotOutcome } from "../../src/core/ledger-types.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { recomputePosition } from "../../src/core/positions.js";
import { allEntries, appendValue, applyAndPersist, trade } from "./fixtures.js";

function receipts(outcome: BatchOutcome | undefined): readonly Receipt[] {
  expect(outcome?.kind).toBe("applied");
  return outcome?.kind === "applied" ? outcome.receipts : [];
}

function rejection(outcome: BatchOutcome | undefined) {
  expect(outcome?.kind).toBe("rejected");
  return outcome?.kind === "rejected" ? outcome.rejection : undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Checks what the ledger must always satisfy: dense seqs, linked hashes, positions equal recomputation. */
function checkLedger(store: MemoryAcceptorStore): void {
  const entries = allEntries(store);
  let prev = genesis_hash;
  const keys = new Map<string, { account: string; symbol: string }>();
  for (const [i, e] of entries.entries()) {
    expect(e.seq).toBe(i + 1);
    expect(e.prevHash).toBe(prev);
    const { hash, ...rest } = e;
    expect(hash).toBe(entryHash(prev, rest));
    prev = hash;
    keys.set(JSON.stringify([e.account, e.symbol]), { account: e.account, symbol: e.symbol });
  }
  expect(store.head().seq).toBe(entries.length);
  expect(store.head().hash).toBe(prev);
  for (const { account, symbol } of keys.values()) {
    const recomputed = recomputePosition(
      account,
      symbol,
      store.entriesOf(account, symbol),
      (id) => store.supersededBy(id) !== undefined,
    );
    expect(store.position(account, symbol)).toEqual(recomputed);
  }
}

describe("applySlot: sequence, hash chain, time", () => {
  it("assigns dense seqs from 1 across slots and batches, linking prevHash", () => {
    const store = new MemoryAcceptorStore();
    const o1 = applyAndPersist(store, 1, appendValue(1_000, [trade("a"), trade("b")], [trade("c")]));
    const o2 = applyAndPersist(store, 2, appendValue(2_000, [trade("d", { symbol: "MSFT" })]));
    expect(o1.slot).toBe(1);
    expect(o1.batches.flatMap((b) => receipts(b).map((r) => [r.id, r.seq, r.slot, r.status]))).toEqual([
      ["a", 1, 1, "created"],
      ["b", 2, 1, "created"],
      ["c", 3, 1, "created"],
    ]);
    expect(receipts(o2.batches[0]).map((r) => [r.id, r.seq, r.slot])).toEqual([["d", 4, 2]]);
    const entries = allEntries(store);
    expect(entries.map((e) => e.id)).toEqual(["a", "b", "c", "d"]);
    expect(entries[0]!.prevHash).toBe(genesis_hash);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    // Receipts carry the stored entry's hash.
    expect(receipts(o2.batches[0])[0]!.hash).toBe(entries[3]!.hash);
    checkLedger(store);
  });

  it("keeps the client's fields verbatim next to the server's", () => {
    const store = new MemoryAcceptorStore();
    const input = trade("x", { fee: "0.5", metadata: { k: "v" }, tradeTime: "2026-01-01T10:00:00+02:00" });
    applyAndPersist(store, 1, appendValue(1_000, [input]));
    const e = store.entryById("x")!;
    expect(clientFieldsOf(e)).toStrictEqual(input);
    expect(e).toMatchObject({ seq: 1, slot: 1, committedAt: iso(1_000), prevHash: genesis_hash });
  });

  it("makes committedAt monotonic: a slot proposed earlier keeps the previous committedAt", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(5_000, [trade("a")]));
    const o2 = applyAndPersist(store, 2, appendValue(3_000, [trade("b")]));
    expect(receipts(o2.batches[0])[0]!.committedAt).toBe(iso(5_000));
    expect(store.head().committedAt_ms).toBe(5_000);
    applyAndPersist(store, 3, appendValue(9_000, [trade("c")]));
    expect(store.head().committedAt_ms).toBe(9_000);
    expect(allEntries(store).map((e) => e.committedAt)).toEqual([iso(5_000), iso(5_000), iso(9_000)]);
  });

  it("keeps the head's time when every batch of the slot is rejected (it is the time of the entry at head.seq)", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(1_000, [trade("a")]));
    const o = applyAndPersist(store, 2, appendValue(4_000, [trade("a", { quantity: "999" })]));
    expect(rejection(o.batches[0])?.code).toBe("id_conflict");
    expect(store.head()).toMatchObject({ seq: 1, committedAt_ms: 1_000 });
    const next = applyAndPersist(store, 3, appendValue(2_000, [trade("b")]));
    expect(next.batches[0]).toMatchObject({ kind: "applied", receipts: [{ seq: 2, committedAt: iso(2_000) }] });
  });

  it("a noop slot changes nothing", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(1_000, [trade("a")]));
    const before = { head: store.head(), entries: allEntries(store), positions: store.positionsOf("ACC-1") };
    const { outcome, writes } = applySlot(store, 2, { kind: "noop" });
    expect(outcome).toEqual({ slot: 2, batches: [] });
    expect(writes.entries).toEqual([]);
    expect(writes.superseded).toEqual([]);
    expect(writes.positions).toEqual([]);
    expect(writes.head).toEqual(before.head);
    store.transaction(() => store.applyWrites(writes));
    expect({ head: store.head(), entries: allEntries(store), positions: store.positionsOf("ACC-1") }).toEqual(before);
  });

  it("an append slot with no batches applies nothing", () => {
    const store = new MemoryAcceptorStore();
    const { outcome, writes } = applySlot(store, 1, appendValue(1_000));
    expect(outcome.batches).toEqual([]);
    expect(writes.entries).toEqual([]);
  });

  it("does not touch the view it reads: writes persist only through applyWrites", () => {
    const store = new MemoryAcceptorStore();
    applySlot(store, 1, appendValue(1_000, [trade("a")]));
    expect(store.head().seq).toBe(0);
    expect(store.entryById("a")).toBeUndefined();
  });

  it.each([-1, Number.NaN, 8.64e15 + 1, 1.5, Number.POSITIVE_INFINITY])("refuses proposedAt_ms %s", (ms) => {
    expect(() => applySlot(new MemoryAcceptorStore(), 1, appendValue(ms, [trade("a")]))).toThrow(InvariantViolation);
  });

  it("is deterministic: two stores applying the same slots hold the same bytes", () => {
    const slots = [
      appendValue(1_000, [trade("a")], [trade("b", { side: "sell", quantity: "3", price: "101" })]),
      appendValue(900, [trade("c", { execType: "correction", refId: "a", quantity: "7" })]),
    ];
    const [s1, s2] = [new MemoryAcceptorStore(), new MemoryAcceptorStore()];
    for (const s of [s1, s2]) for (const [i, v] of slots.entries()) applyAndPersist(s, i + 1, v);
    expect(allEntries(s1)).toEqual(allEntries(s2));
    expect(s1.head()).toEqual(s2.head());
    expect(s1.positionsOf("ACC-1")).toEqual(s2.positionsOf("ACC-1"));
  });
});

describe("applySlot: idempotency", () => {
  it("the same id with the same body in a later slot returns the original receipt", () => {
    const store = new MemoryAcceptorStore();
    const first = receipts(applyAndPersist(store, 1, appendValue(1_000, [trade("a", { fee: "0.1" })])).batches[0])[0]!;
    applyAndPersist(store, 2, appendValue(2_000, [trade("b")]));
    const headBefore = store.head();
    // Same body with its keys in another order: equal by canonical JSON.
    const reordered = Object.fromEntries(Object.entries(trade("a", { fee: "0.1" })).reverse()) as EntryInput;
    const again = applyAndPersist(store, 3, appendValue(3_000, [reordered]));
    expect(receipts(again.batches[0])).toEqual([{ ...first, status: "exists" }]);
    expect(first).toMatchObject({ seq: 1, slot: 1, committedAt: iso(1_000), status: "created" });
    expect(store.head()).toEqual(headBefore); // no new entry, so the head (and its time) stays
    expect(allEntries(store)).toHaveLength(2);
    checkLedger(store);
  });

  it("mixes exists and created receipts in one batch", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(1_000, [trade("a")]));
    const o = applyAndPersist(store, 2, appendValue(2_000, [trade("b"), trade("a"), trade("c")]));
    expect(receipts(o.batches[0]).map((r) => [r.id, r.status, r.seq, r.slot])).toEqual([
      ["b", "created", 2, 2],
      ["a", "exists", 1, 1],
      ["c", "created", 3, 2],
    ]);
    checkLedger(store);
  });

  it("the same id with a different body rejects the whole batch; other batches of the slot still apply", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(1_000, [trade("a")]));
    const o = applyAndPersist(
      store,
      2,
      appendValue(2_000, [trade("n1"), trade("a", { price: "100.5" })], [trade("n2", { quantity: "1" })]),
    );
    expect(rejection(o.batches[0])).toMatchObject({ code: "id_conflict", index: 1, id: "a" });
    expect(receipts(o.batches[1])).toMatchObject([{ id: "n2", status: "created", seq: 2, slot: 2 }]);
    expect(store.entryById("n1")).toBeUndefined();
    expect(allEntries(store).map((e) => e.id)).toEqual(["a", "n2"]);
    expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "11", lastSeq: 2 });
    checkLedger(store);
  });

  it("an optional field added or left out is a different body", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(store, 1, appendValue(1_000, [trade("a")]));
    const o = applyAndPersist(store, 2, appendValue(2_000, [trade("a", { fee: "0" })], [trade("b")]));
    expect(rejection(o.batches[0])).toMatchObject({ code: "id_conflict", index: 0, id: "a" });
    expect(receipts(o.batches[1])).toHaveLength(1);
  });

  it("sees ids created by an earlier batch of the same slot", () => {
    const store = new MemoryAcceptorStore();
    const o = applyAndPersist(
      store,
      1,
      appendValue(1_000, [trade("x")], [trade("x")], [trade("x", { quantity: "2" }), trade("y")], [trade("y")]),
    );
    const created = receipts(o.batches[0])[0]!;
    expect(receipts(o.batches[1])).toEqual([{ ...created, status: "exists" }]);
    expect(rejection(o.batches[2])).toMatchObject({ code: "id_conflict", index: 0, id: "x" });
    // The rejected batch's "y" was never applied, so the last batch creates it.
    expect(receipts(o.batches[3])).toMatchObject([{ id: "y", status: "created", seq: 2 }]);
    checkLedger(store);
  });
});

describe("applySlot: busts and corrections", () => {
  function seeded(): MemoryAcceptorStore {
    const store = new MemoryAcceptorStore();
    applyAndPersist(
      store,
      1,
      appendValue(
        1_000,
        [trade("t1", { quantity: "10", price: "100" }), trade("t2", { quantity: "5", price: "110", fee: "1" })],
        [trade("o1", { account: "ACC-2" }), trade("o2", { symbol: "MSFT" })],
      ),
    );
    return store;
  }
  const bust = (id: string, refId: string, extra: Partial<EntryInput> = {}) =>
    trade(id, { execType: "bust", refId, ...extra });
  /** A bust repeats the side, quantity and price of its fill: t2's. */
  const t2_terms = { quantity: "5", price: "110" } as const;
  const correction = (id: string, refId: string, extra: Partial<EntryInput> = {}) =>
    trade(id, { execType: "correction", refId, ...extra });

  it("refuses a refId that is not in the ledger, applying none of the batch", () => {
    const store = seeded();
    const o = applyAndPersist(store, 2, appendValue(2_000, [trade("n1"), bust("b1", "missing")], [trade("n2")]));
    expect(rejection(o.batches[0])).toMatchObject({ code: "invalid_reference", index: 1, id: "b1" });
    expect(store.entryById("n1")).toBeUndefined();
    expect(receipts(o.batches[1])).toMatchObject([{ id: "n2", seq: 5 }]);
    checkLedger(store);
  });

  it("refuses a refId of another account or another symbol", () => {
    const store = seeded();
    const o = applyAndPersist(
      store,
      2,
      appendValue(2_000, [bust("b1", "o1")], [correction("c1", "o2")], [bust("b2", "t1", { account: "ACC-2" })]),
    );
    expect(rejection(o.batches[0])).toMatchObject({ code: "invalid_reference", id: "b1" });
    expect(rejection(o.batches[1])).toMatchObject({ code: "invalid_reference", id: "c1" });
    expect(rejection(o.batches[2])).toMatchObject({ code: "invalid_reference", id: "b2" });
    expect(store.head().seq).toBe(4);
  });

  it("refuses busting twice, correcting a busted fill, and busting a bust", () => {
    const store = seeded();
    receipts(applyAndPersist(store, 2, appendValue(2_000, [bust("b1", "t2", t2_terms)])).batches[0]);
    expect(store.supersededBy("t2")).toBe(5);
    const o = applyAndPersist(
      store,
      3,
      appendValue(
        3_000,
        [bust("b2", "t2", t2_terms)],
        [correction("c1", "t2")],
        [bust("b3", "b1", t2_terms)],
        [correction("c2", "b1")],
      ),
    );
    for (const [i, id] of ["b2", "c1", "b3", "c2"].entries()) {
      expect(rejection(o.batches[i])).toMatchObject({ code: "invalid_reference", index: 0, id });
    }
    expect(store.head().seq).toBe(5);
    checkLedger(store);
  });

  it("refuses a second bust of the same fill within one slot", () => {
    const store = seeded();
    const o = applyAndPersist(store, 2, appendValue(2_000, [bust("b1", "t1")], [bust("b2", "t1")]));
    receipts(o.batches[0]);
    expect(rejection(o.batches[1])).toMatchObject({ code: "invalid_reference", id: "b2" });
  });

  it("a bust removes the fill from the position (its own fee does not count)", () => {
    const store = seeded();
    expect(store.position("ACC-1", "AAPL")).toMatchObject({
      quantity: "15",
      costBasis: "1550",
      fees: "1",
      realizedPnl: "-1",
    });
    applyAndPersist(store, 2, appendValue(2_000, [bust("b1", "t2", { ...t2_terms, fee: "3" })]));
    expect(store.position("ACC-1", "AAPL")).toEqual({
      account: "ACC-1",
      symbol: "AAPL",
      quantity: "10",
      costBasis: "1000",
      averagePrice: "100",
      realizedPnl: "0",
      fees: "0",
      lastSeq: 5,
    });
    // Other positions are untouched.
    expect(store.position("ACC-2", "AAPL")).toMatchObject({ quantity: "10", lastSeq: 3 });
    checkLedger(store);
  });

  it("a correction replaces the referenced fill in positions", () => {
    const store = seeded();
    applyAndPersist(store, 2, appendValue(2_000, [correction("c1", "t1", { quantity: "20", price: "95", fee: "2" })]));
    expect(store.supersededBy("t1")).toBe(5);
    // t2 (5 at 110, fee 1) and c1 (20 at 95, fee 2): 25 units costing 550 + 1900.
    expect(store.position("ACC-1", "AAPL")).toMatchObject({
      quantity: "25",
      costBasis: "2450",
      averagePrice: "98",
      realizedPnl: "-3",
      fees: "3",
      lastSeq: 5,
    });
    // A correction of the correction replaces it in turn.
    applyAndPersist(
      store,
      3,
      appendValue(3_000, [correction("c2", "c1", { side: "sell", quantity: "1", price: "120" })]),
    );
    expect(store.supersededBy("c1")).toBe(6);
    // t2 (long 5 at 110) then sell 1 at 120: realizes 10, less t2's fee.
    expect(store.position("ACC-1", "AAPL")).toMatchObject({
      quantity: "4",
      costBasis: "440",
      realizedPnl: "9",
      fees: "1",
    });
    checkLedger(store);
  });

  it("a fill and its bust in the same batch", () => {
    const store = new MemoryAcceptorStore();
    const o = applyAndPersist(store, 1, appendValue(1_000, [trade("t1"), bust("b1", "t1")]));
    expect(receipts(o.batches[0]).map((r) => r.seq)).toEqual([1, 2]);
    expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "0", costBasis: "0", lastSeq: 2 });
    expect(store.supersededBy("t1")).toBe(2);
    checkLedger(store);
  });

  it("refuses a bust whose side, quantity or price contradict its fill: bust_mismatch naming the fields, nothing applied", () => {
    const store = seeded(); // t1: buy 10 at 100
    const cases: Array<[Partial<EntryInput>, string[]]> = [
      [{ side: "sell" }, ["side"]],
      [{ quantity: "1" }, ["quantity"]],
      [{ price: "100.01" }, ["price"]],
      [{ side: "sell", quantity: "11", price: "99" }, ["side", "quantity", "price"]],
    ];
    const o = applyAndPersist(
      store,
      2,
      appendValue(
        2_000,
        ...cases.map(([extra], i) => [
          trade(`ok${i}`),
          bust(`b${i}`, "t1", { quantity: "10", price: "100", ...extra }),
        ]),
        [trade("n1")],
      ),
    );
    for (const [i, [, fields]] of cases.entries()) {
      const r = rejection(o.batches[i]);
      expect(r).toMatchObject({ code: "bust_mismatch", index: 1, id: `b${i}`, fields });
      for (const f of fields) expect(r?.message).toContain(f);
    }
    // Nothing of the refused batches applied: t1 still counts, the trades beside the busts are absent.
    expect(store.supersededBy("t1")).toBeUndefined();
    expect(store.entryById("ok0")).toBeUndefined();
    expect(receipts(o.batches[cases.length])).toMatchObject([{ id: "n1", seq: 5 }]);
    expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "25" });
    checkLedger(store);
  });

  it("a bust matches its fill by value: the same numbers spelled otherwise agree, and its own fee and times are its own", () => {
    const store = seeded(); // t2: buy 5 at 110, fee 1
    const o = applyAndPersist(
      store,
      2,
      appendValue(2_000, [
        bust("b1", "t2", {
          quantity: "5.000",
          price: "110.0",
          fee: "7",
          tradeTime: "2026-01-02T00:00:00Z",
          venue: "XLON",
        }),
      ]),
    );
    expect(receipts(o.batches[0])).toMatchObject([{ id: "b1", status: "created" }]);
    expect(store.supersededBy("t2")).toBe(5);
    checkLedger(store);
  });

  it("a bust of a correction must repeat the correction, not the fill it replaced", () => {
    const store = seeded(); // t1: buy 10 at 100
    applyAndPersist(
      store,
      2,
      appendValue(2_000, [correction("c1", "t1", { side: "sell", quantity: "4", price: "101" })]),
    );
    const o = applyAndPersist(
      store,
      3,
      appendValue(
        3_000,
        [bust("b1", "c1", { quantity: "10", price: "100" })],
        [bust("b2", "c1", { side: "sell", quantity: "4", price: "101" })],
      ),
    );
    expect(rejection(o.batches[0])).toMatchObject({ code: "bust_mismatch", fields: ["side", "quantity", "price"] });
    expect(receipts(o.batches[1])).toMatchObject([{ id: "b2", status: "created" }]);
    checkLedger(store);
  });

  it("a correction may change side, quantity and price (that is what it is for)", () => {
    const store = seeded();
    const o = applyAndPersist(
      store,
      2,
      appendValue(2_000, [correction("c1", "t1", { side: "sell", quantity: "1", price: "1" })]),
    );
    expect(receipts(o.batches[0])).toMatchObject([{ id: "c1", status: "created" }]);
  });

  it("a rejected batch leaves no superseded mark behind", () => {
    const store = seeded();
    const o = applyAndPersist(store, 2, appendValue(2_000, [bust("b1", "t1"), bust("b2", "missing")]));
    expect(rejection(o.batches[0])).toMatchObject({ index: 1 });
    expect(store.supersededBy("t1")).toBeUndefined();
    expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "15" });
  });
});

describe("applySlot: every entry the schema accepts applies", () => {
  // A slot is applied by every replica after it is chosen; if applying throws, the replica can never
  // move past it. The schema is the gate, so whatever it accepts must apply.
  it("an entry whose metadata holds a lone surrogate", () => {
    const body = JSON.parse(
      String.raw`{"id":"s1","account":"A","symbol":"S","side":"buy","quantity":"1","price":"1","metadata":{"note":"\udc00"}}`,
    );
    const parsed = entryInputSchema.safeParse(body);
    if (!parsed.success) return; // refused at the door: fine
    const store = new MemoryAcceptorStore();
    let outcome: SlotOutcome | undefined;
    expect(() => {
      outcome = applyAndPersist(store, 1, appendValue(1_000, [parsed.data]));
    }).not.toThrow();
    expect(outcome?.batches[0]?.kind).toBe("applied");
  });

  it("an acceptor that accepted such an entry in a later slot can still commit and apply the log", () => {
    const body = JSON.parse(
      String.raw`{"id":"s2","account":"A","symbol":"S","side":"buy","quantity":"1","price":"1","metadata":{"note":"\ud800"}}`,
    );
    const parsed = entryInputSchema.safeParse(body);
    if (!parsed.success) return; // refused at the door: fine
    const store = new MemoryAcceptorStore();
    const acceptor = new Acceptor(store, { id: "a1", acceptQuorum: 2 });
    const ballot = { round: 1, proposerId: "p" };
    // Slot 2 arrives first (pipelined), so no outcome is predicted for it and it is accepted.
    acceptor.handle({
      type: "accept",
      ballot,
      slots: [{ slot: 2, value: appendValue(2_000, [parsed.data]) }],
      commits: [],
    });
    acceptor.handle({
      type: "accept",
      ballot,
      slots: [{ slot: 1, value: appendValue(1_000, [trade("t1")]) }],
      commits: [],
    });
    expect(store.slot(2)).toMatchObject({ chosen: false });
    // Both are chosen. Applying must not throw, or this replica can never apply slot 1 or anything after it.
    expect(() =>
      acceptor.handle({
        type: "commit",
        commits: [
          { slot: 1, ballot },
          { slot: 2, ballot },
        ],
      }),
    ).not.toThrow();
    expect(store.chosenThrough()).toBe(2);
  });
});

describe("applySlot: property", () => {
  const accountArb = fc.constantFrom("A1", "A2");
  const symbolArb = fc.constantFrom("S1", "S2");
  const qty = fc.integer({ min: 1, max: 9 }).map(String);
  const price = fc.constantFrom("1", "2.5", "10", "0.333");
  type Op =
    | { kind: "trade"; account: string; symbol: string; side: "buy" | "sell"; quantity: string; price: string }
    | {
        kind: "bust" | "correction";
        target: number;
        side: "buy" | "sell";
        quantity: string;
        price: string;
        repeatsTarget: boolean;
      }
    | { kind: "repeat"; target: number; same: boolean };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("trade" as const),
        account: accountArb,
        symbol: symbolArb,
        side: fc.constantFrom("buy" as const, "sell" as const),
        quantity: qty,
        price,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constantFrom("bust" as const, "correction" as const),
        target: fc.nat(),
        side: fc.constantFrom("buy" as const, "sell" as const),
        quantity: qty,
        price,
        // A bust that repeats its fill's side, quantity and price (the rule), or one that may not.
        repeatsTarget: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("repeat" as const), target: fc.nat(), same: fc.boolean() }) },
  );

  it("keeps seqs dense, the chain linked and every position equal to a recomputation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (slots) => {
          const store = new MemoryAcceptorStore();
          const sent: EntryInput[] = [];
          let n = 0;
          slots.forEach((batches, s) => {
            const value = appendValue(
              1_000 * (s + 1),
              ...batches.map((ops) =>
                ops.map((op): EntryInput => {
                  if (op.kind === "trade")
                    return {
                      id: `e${n++}`,
                      account: op.account,
                      symbol: op.symbol,
                      side: op.side,
                      quantity: op.quantity,
                      price: op.price,
                    };
                  const target = sent[op.target % Math.max(1, sent.length)];
                  if (op.kind === "repeat")
                    return target === undefined ? trade(`e${n++}`) : op.same ? target : { ...target, quantity: "999" };
                  const t = target ?? trade("nowhere");
                  const terms = op.repeatsTarget
                    ? { side: t.side, quantity: t.quantity, price: t.price }
                    : { side: op.side, quantity: op.quantity, price: op.price };
                  return {
                    id: `e${n++}`,
                    account: t.account,
                    symbol: t.symbol,
                    ...terms,
                    execType: op.kind,
                    refId: t.id,
                  };
                }),
              ),
            );
            if (value.kind === "append") for (const b of value.batches) sent.push(...b);
            const outcome = applyAndPersist(store, s + 1, value);
            expect(outcome.batches).toHaveLength(batches.length);
            checkLedger(store);
          });
          // Each id is applied at most once.
          const ids = allEntries(store).map((e) => e.id);
          expect(new Set(ids).size).toBe(ids.length);
          // Every bust in the ledger repeats the side, quantity and price of the entry it cancelled.
          for (const e of allEntries(store).filter((x) => x.execType === "bust")) {
            const target = store.entryById(e.refId!)!;
            expect({ side: e.side, quantity: Number(e.quantity), price: Number(e.price) }).toEqual({
              side: target.side,
              quantity: Number(target.quantity),
              price: Number(target.price),
            });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
