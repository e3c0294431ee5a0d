import { describe, expect, it } from "vitest";
import { noop_value, type SlotValue, slotValueEntryCount, slotValuesEqual } from "../../src/core/slot-value.js";
import { appendValue, trade } from "./fixtures.js";

describe("slotValueEntryCount", () => {
  it("is 0 for a no-op", () => {
    expect(slotValueEntryCount(noop_value)).toBe(0);
  });

  it("adds the entries of every batch", () => {
    expect(slotValueEntryCount(appendValue(1, [trade("a"), trade("b")], [trade("c")], [trade("d")]))).toBe(4);
    expect(slotValueEntryCount(appendValue(1))).toBe(0);
  });
});

describe("slotValuesEqual", () => {
  it("compares by canonical JSON: key order does not matter, content does", () => {
    const a = appendValue(5, [trade("a")]);
    const reordered = JSON.parse(
      `{"batches":${JSON.stringify(a.kind === "append" ? a.batches : [])},"proposedAt_ms":5,"kind":"append"}`,
    ) as SlotValue;
    expect(slotValuesEqual(a, reordered)).toBe(true);
    expect(slotValuesEqual(a, appendValue(6, [trade("a")]))).toBe(false);
    expect(slotValuesEqual(a, noop_value)).toBe(false);
    expect(slotValuesEqual(noop_value, { kind: "noop" })).toBe(true);
  });
});
