/** Bounded echoes of client input in errors (src/proposer/errors.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import { echo } from "../../src/proposer/errors.js";

describe("echo", () => {
  it("keeps a value within the bound as it is", () => {
    const v = "x".repeat(limits.echoed_value_chars_max);
    expect(echo(v)).toBe(v);
  });

  it("cuts a longer value to the bound, marked with its length", () => {
    const cut = echo("a".repeat(5000));
    expect(cut.length).toBeLessThanOrEqual(limits.echoed_value_chars_max);
    expect(cut).toMatch(/^a+… \(5000 characters\)$/);
  });

  it("is within the bound, idempotent, a prefix plus a marker, and never splits a surrogate pair (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 24, max: 200 }), (value, max) => {
        const cut = echo(value, max);
        expect(cut.length).toBeLessThanOrEqual(Math.max(max, value.length <= max ? value.length : 0));
        expect(echo(cut, max)).toBe(cut);
        if (cut !== value) {
          const prefix = cut.slice(0, cut.lastIndexOf("… ("));
          expect(value.startsWith(prefix)).toBe(true);
          expect(cut.endsWith(`(${value.length} characters)`)).toBe(true);
          expect(cut.isWellFormed()).toBe(true);
        }
      }),
    );
  });
});
