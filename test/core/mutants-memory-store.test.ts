/**
 * Cases for mutants of src/core/memory-store.ts that survived `npm run mutate` (docs/mutation-triage.md),
 * against the store's public API only.
 */
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../../src/core/assert.js";
import { limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { appendValue, applyAndPersist, fillEntry, trade } from "./fixtures.js";

describe("MemoryAcceptorStore.positionsOf", () => {
  it("lists one account's positions only, sorted by symbol in code-unit order", () => {
    const store = new MemoryAcceptorStore();
    applyAndPersist(
      store,
      1,
      appendValue(
        1_000,
        ["MSFT", "AAPL", "msft", "B", "AAPL"].map((symbol, i) => trade(`a${i}`, { symbol })),
        [trade("o1", { account: "ACC-2", symbol: "AAA" })],
      ),
    );
    expect(store.positionsOf("ACC-1").map((p) => [p.symbol, p.quantity])).toEqual([
      ["AAPL", "20"],
      ["B", "10"],
      ["MSFT", "10"],
      ["msft", "10"],
    ]);
    expect(store.positionsOf("ACC-2").map((p) => p.symbol)).toEqual(["AAA"]);
    expect(store.positionsOf("ACC-3")).toEqual([]);
  });
});

/**
 * The store's own invariants (assertions that stay on): each is a mistake a caller could make, and the
 * store must refuse it loudly, naming it, and change nothing.
 */
describe("MemoryAcceptorStore refuses misuse", () => {
  const entryAt = (seq: number, id = `e${seq}`) => ({ ...fillEntry(seq, "buy", "1", "1"), id });
  const headAt = (seq: number) => ({ seq, hash: "0".repeat(64), committedAt_ms: 1_000 });
  const writes = (entries: ReturnType<typeof entryAt>[], superseded: Array<{ id: string; bySeq: number }> = []) => ({
    entries,
    superseded,
    positions: [],
    head: headAt(entries.at(-1)?.seq ?? 0),
  });

  it("a transaction inside a transaction", () => {
    const store = new MemoryAcceptorStore();
    expect(() => store.transaction(() => store.transaction(() => 1))).toThrowError(
      new InvariantViolation("transactions do not nest"),
    );
    // The outer one ended with the throw: a new transaction works.
    expect(store.transaction(() => 2)).toBe(2);
  });

  it("a write outside a transaction", () => {
    const store = new MemoryAcceptorStore();
    expect(() => store.setPromised({ round: 1, proposerId: "p" })).toThrowError(
      new InvariantViolation("writes happen inside a transaction"),
    );
  });

  it("entries that do not continue the ledger densely", () => {
    const store = new MemoryAcceptorStore();
    expect(() => store.transaction(() => store.applyWrites(writes([entryAt(2)])))).toThrowError(
      new InvariantViolation("entries persist densely"),
    );
    expect(store.entriesAfter(0, 10)).toEqual([]);
    store.transaction(() => store.applyWrites(writes([entryAt(1)])));
    expect(store.entriesAfter(0, 10).map((e) => e.seq)).toEqual([1]);
  });

  it("an id applied twice", () => {
    const store = new MemoryAcceptorStore();
    store.transaction(() => store.applyWrites(writes([entryAt(1, "same")])));
    expect(() => store.transaction(() => store.applyWrites(writes([entryAt(2, "same")])))).toThrowError(
      new InvariantViolation("an id is applied at most once"),
    );
    expect(store.entriesAfter(0, 10).map((e) => e.id)).toEqual(["same"]);
    expect(store.entryBySeq(2)).toBeUndefined();
  });

  it("an entry superseded twice", () => {
    const store = new MemoryAcceptorStore();
    store.transaction(() => store.applyWrites(writes([entryAt(1), entryAt(2)], [{ id: "e1", bySeq: 2 }])));
    expect(() =>
      store.transaction(() => store.applyWrites(writes([entryAt(3)], [{ id: "e1", bySeq: 3 }]))),
    ).toThrowError(new InvariantViolation("an entry is superseded at most once"));
    expect(store.supersededBy("e1")).toBe(2);
    expect(store.entryBySeq(3)).toBeUndefined();
  });

  it("an id lookup beyond its limit, and exactly at it", () => {
    const store = new MemoryAcceptorStore({ ...limits, id_lookup_ids_max: 3 });
    store.transaction(() => store.applyWrites(writes([entryAt(1)])));
    expect(store.entriesByIds(["e1", "x", "y"]).map((e) => e.id)).toEqual(["e1"]);
    expect(() => store.entriesByIds(["e1", "x", "y", "z"])).toThrowError(
      new InvariantViolation("id lookup within its limit"),
    );
  });
});
