/**
 * Exact decimal arithmetic for money. Quantities, prices and fees arrive as decimal strings and
 * never become floats: big.js keeps every digit, and the only rounding (a division, for an average
 * price or the cost released by a partial close) is explicit, to a fixed number of fraction digits,
 * half-to-even, so every replica gets the same digits.
 */
import BigModule from "big.js";
import { limits } from "./limits.js";

// A private constructor: big.js's settings are per constructor, so ours cannot be changed by
// anyone else's import of big.js.
const Dec = BigModule();
Dec.DP = limits.division_fraction_digits;
Dec.RM = BigModule.roundHalfEven;
Dec.strict = true; // refuse numbers: only strings and Decimals may enter

export type Decimal = InstanceType<typeof Dec>;

const decimal_pattern = new RegExp(
  `^-?(0|[1-9][0-9]{0,${limits.decimal_integer_digits_max - 1}})(\\.[0-9]{1,${limits.decimal_fraction_digits_max}})?$`,
);

/**
 * True when `s` is a decimal string this ledger accepts: no exponent, no `+`, no leading zeros, and
 * no negative zero (one value, one spelling, so that equal entries hash alike).
 */
export function isDecimalString(s: string): boolean {
  return decimal_pattern.test(s) && !(s.startsWith("-") && !/[1-9]/.test(s));
}

export function decimal(s: string): Decimal {
  return new Dec(s);
}

export const decimal_zero: Decimal = new Dec("0");

/** Plain notation, no exponent, no trailing zeros, and `0` rather than `-0`. */
export function formatDecimal(d: Decimal): string {
  const s = d.toFixed();
  return s === "-0" ? "0" : s;
}

/** a * b / c, rounded half-to-even to `division_fraction_digits`. */
export function mulDiv(a: Decimal, b: Decimal, c: Decimal): Decimal {
  return a.times(b).div(c);
}
