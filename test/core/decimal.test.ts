import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimal, decimal_zero, formatDecimal, isDecimalString, mulDiv } from "../../src/core/decimal.js";
import { limits } from "../../src/core/limits.js";
import {
  addScaled,
  formatCanonical,
  formatPadded,
  mulDivScaled,
  mulScaled,
  parseScaled,
  pow10,
  type Scaled,
  scaledToString,
} from "./decimal-ref.js";

const intMax = limits.decimal_integer_digits_max; // 20
const fracMax = limits.decimal_fraction_digits_max; // 12

/** A decimal within the ledger's limits: up to 20 integer and 12 fraction digits, any sign. */
const scaledArb: fc.Arbitrary<Scaled> = fc.integer({ min: 0, max: fracMax }).chain((scale) => {
  const bound = pow10(intMax + scale) - 1n;
  return fc
    .oneof(
      fc.bigInt({ min: -bound, max: bound }),
      fc.bigInt({ min: -1000n, max: 1000n }), // small values: zeros, signs, carries
    )
    .map((units) => ({ units, scale }));
});

/** Matches plain notation only: no exponent, no "+", no leading or trailing zeros, no "-0". */
const plain_canonical = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;

describe("isDecimalString", () => {
  it.each([
    "0",
    "1",
    "-1",
    "100.25",
    "-0.5",
    "0.5",
    "1.50",
    "0.000000000001",
    "1".padEnd(intMax, "0"), // 20 integer digits
    `${"9".repeat(intMax)}.${"9".repeat(fracMax)}`,
    `-${"9".repeat(intMax)}.${"9".repeat(fracMax)}`,
  ])("accepts %s", (s) => {
    expect(isDecimalString(s)).toBe(true);
  });

  it.each([
    "",
    "-",
    "+1",
    "1e5",
    "1E5",
    "1e-5",
    "01",
    "00",
    "-01.5",
    "00.5",
    "1.",
    ".5",
    "-.5",
    "1.2.3",
    " 1",
    "1 ",
    "1\n",
    "1,5",
    "0x10",
    "-0",
    "-0.000",
    "Infinity",
    "NaN",
    "١",
    "1".padEnd(intMax + 1, "0"), // 21 integer digits
    `1.${"1".repeat(fracMax + 1)}`, // 13 fraction digits
    "--1",
  ])("refuses %j", (s) => {
    expect(isDecimalString(s)).toBe(false);
  });

  it("accepts every plain rendering within the limits (padded or canonical)", () => {
    fc.assert(
      fc.property(scaledArb, (x) => {
        expect(isDecimalString(formatPadded(x.units, x.scale))).toBe(true);
        expect(isDecimalString(formatCanonical(x.units, x.scale))).toBe(true);
      }),
    );
  });

  it("refuses anything with an exponent or a plus sign", () => {
    fc.assert(
      fc.property(scaledArb, fc.integer({ min: -30, max: 30 }), (x, e) => {
        const s = formatCanonical(x.units, x.scale);
        expect(isDecimalString(`${s}e${e}`)).toBe(false);
        expect(isDecimalString(`+${s.replace(/^-/, "")}`)).toBe(false);
      }),
    );
  });
});

describe("decimal", () => {
  it("refuses a JavaScript number (strict mode: only strings enter)", () => {
    expect(() => decimal(1.5 as unknown as string)).toThrow();
  });

  it("keeps every digit of a string", () => {
    const s = "12345678901234567890.123456789012";
    expect(formatDecimal(decimal(s))).toBe(s);
    expect(formatDecimal(decimal_zero)).toBe("0");
  });
});

describe("exact arithmetic (against BigInt on scaled integers)", () => {
  it("adds exactly", () => {
    fc.assert(
      fc.property(scaledArb, scaledArb, (a, b) => {
        const sum = decimal(formatPadded(a.units, a.scale)).plus(decimal(formatPadded(b.units, b.scale)));
        expect(formatDecimal(sum)).toBe(scaledToString(addScaled(a, b)));
      }),
      { numRuns: 500 },
    );
  });

  it("subtracts exactly", () => {
    fc.assert(
      fc.property(scaledArb, scaledArb, (a, b) => {
        const diff = decimal(formatPadded(a.units, a.scale)).minus(decimal(formatPadded(b.units, b.scale)));
        expect(formatDecimal(diff)).toBe(scaledToString(addScaled(a, { units: -b.units, scale: b.scale })));
      }),
    );
  });

  it("multiplies exactly, keeping all 24 fraction digits and 40 integer digits", () => {
    fc.assert(
      fc.property(scaledArb, scaledArb, (a, b) => {
        const product = decimal(formatPadded(a.units, a.scale)).times(decimal(formatPadded(b.units, b.scale)));
        expect(formatDecimal(product)).toBe(scaledToString(mulScaled(a, b)));
      }),
      { numRuns: 500 },
    );
  });

  it("parses and formats through the reference consistently", () => {
    fc.assert(
      fc.property(scaledArb, (a) => {
        const s = formatPadded(a.units, a.scale);
        const back = parseScaled(formatDecimal(decimal(s)));
        expect(scaledToString(back)).toBe(formatCanonical(a.units, a.scale));
      }),
    );
  });
});

describe("formatDecimal", () => {
  it("never emits exponent notation, trailing zeros or -0", () => {
    const values = [
      decimal("0.000000000001").times(decimal("0.000000000001")), // 1e-24
      decimal("99999999999999999999").times(decimal("99999999999999999999")), // ~1e40
      decimal("-0.000000000001").times(decimal("0")),
      decimal("-0"),
      decimal("-0.000"),
      decimal("0").neg(),
      decimal("1.500"),
      decimal("1e-7"),
      decimal("1e21"),
    ];
    for (const v of values) expect(formatDecimal(v)).toMatch(plain_canonical);
    expect(formatDecimal(decimal("-0"))).toBe("0");
    expect(formatDecimal(decimal("0").neg())).toBe("0");
    expect(formatDecimal(decimal("1e-7"))).toBe("0.0000001");
    expect(formatDecimal(decimal("1e21"))).toBe("1000000000000000000000");
    expect(formatDecimal(decimal("0.000000000001").times(decimal("0.000000000001")))).toBe(
      "0.000000000000000000000001",
    );
  });

  it("never emits exponent notation or -0 for sums, products and quotients", () => {
    fc.assert(
      fc.property(scaledArb, scaledArb, (a, b) => {
        const x = decimal(formatPadded(a.units, a.scale));
        const y = decimal(formatPadded(b.units, b.scale));
        const results = [x.plus(y), x.minus(y), x.times(y), x.minus(x), x.neg().times(decimal_zero)];
        if (b.units !== 0n) results.push(mulDiv(x, decimal("1"), y));
        for (const r of results) {
          const s = formatDecimal(r);
          expect(s).toMatch(plain_canonical);
          expect(s).not.toBe("-0");
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("mulDiv", () => {
  it("rounds half to even at 12 fraction digits", () => {
    const md = (a: string, b: string, c: string) => formatDecimal(mulDiv(decimal(a), decimal(b), decimal(c)));
    expect(limits.division_fraction_digits).toBe(12);
    // Exactly half a unit in the 12th place: to the even neighbour.
    expect(md("0.000000000001", "1", "2")).toBe("0"); // 0.0000000000005 -> 0
    expect(md("0.000000000003", "1", "2")).toBe("0.000000000002"); // ...15 -> ...2
    expect(md("0.000000000005", "1", "2")).toBe("0.000000000002"); // ...25 -> ...2 (half-up would give 3)
    expect(md("0.000000000007", "1", "2")).toBe("0.000000000004"); // ...35 -> ...4
    expect(md("-0.000000000005", "1", "2")).toBe("-0.000000000002");
    expect(md("-0.000000000001", "1", "2")).toBe("0"); // -0.0000000000005 -> -0, printed "0"
    expect(md("1.000000000005", "1", "2")).toBe("0.500000000002");
    // Not a tie: ordinary rounding.
    expect(md("1", "1", "3")).toBe("0.333333333333");
    expect(md("2", "1", "3")).toBe("0.666666666667");
    expect(md("2100", "5", "20")).toBe("525");
    expect(md("-500", "4", "10")).toBe("-200");
  });

  it("equals a*b/c rounded half-to-even to 12 digits (BigInt reference)", () => {
    const smallScaled = fc
      .tuple(fc.integer({ min: 0, max: fracMax }), fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }))
      .map(([scale, units]) => ({ units, scale }));
    fc.assert(
      fc.property(scaledArb, smallScaled, smallScaled, (a, b, c) => {
        fc.pre(c.units !== 0n);
        const got = mulDiv(
          decimal(formatPadded(a.units, a.scale)),
          decimal(formatPadded(b.units, b.scale)),
          decimal(formatPadded(c.units, c.scale)),
        );
        expect(formatDecimal(got)).toBe(scaledToString(mulDivScaled(a, b, c, limits.division_fraction_digits)));
      }),
      { numRuns: 500 },
    );
  });

  it("rounds exact ties to even (BigInt reference, constructed ties)", () => {
    // x / 2 where x has 13 fraction digits ending in 1 (after scaling) is always a tie at 12 digits.
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (k) => {
        const odd = 2n * k + 1n; // units at scale 12
        const a: Scaled = { units: odd, scale: 12 };
        const got = mulDiv(decimal(formatPadded(a.units, 12)), decimal("1"), decimal("2"));
        const expected = mulDivScaled(a, { units: 1n, scale: 0 }, { units: 2n, scale: 0 }, 12);
        expect(expected.units % 2n).toBe(0n);
        expect(formatDecimal(got)).toBe(scaledToString(expected));
      }),
    );
  });
});
