/**
 * Cases for mutants of src/core/memory-store.ts that survived `npm run mutate` (docs/mutation-triage.md),
 * against the store's public API only.
 */
import { describe, expect, it } from "vitest";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { appendValue, applyAndPersist, trade } from "./fixtures.js";

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
