/**
 * A reference for decimal arithmetic on scaled BigInts (value = units / 10^scale), written
 * independently of big.js so that the tests compare the ledger's decimals against plain integer math.
 */
export interface Scaled {
  readonly units: bigint;
  readonly scale: number;
}

const ten = 10n;

export function pow10(n: number): bigint {
  return ten ** BigInt(n);
}

/** Parses a decimal string such as "-12.340" (no exponent). */
export function parseScaled(s: string): Scaled {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (m === null) throw new Error(`not a plain decimal: ${s}`);
  const frac = m[3] ?? "";
  const units = BigInt(m[2]! + frac);
  return { units: m[1] === "-" ? -units : units, scale: frac.length };
}

/** Plain notation with the fraction padded to exactly `scale` digits ("1.500", "-0.25"; 0 is "0..."). */
export function formatPadded(units: bigint, scale: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  const body = scale === 0 ? int : `${int}.${frac}`;
  return neg ? `-${body}` : body;
}

/** Canonical notation: no trailing fraction zeros, no lone point, and "0" rather than "-0". */
export function formatCanonical(units: bigint, scale: number): string {
  if (units === 0n) return "0";
  let s = formatPadded(units, scale);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

export function rescale(x: Scaled, scale: number): bigint {
  if (scale < x.scale) throw new Error("rescale only widens");
  return x.units * pow10(scale - x.scale);
}

export function addScaled(a: Scaled, b: Scaled): Scaled {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

export function subScaled(a: Scaled, b: Scaled): Scaled {
  return addScaled(a, { units: -b.units, scale: b.scale });
}

export function mulScaled(a: Scaled, b: Scaled): Scaled {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** n / d rounded to an integer, half to even. */
export function divRoundHalfEven(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new Error("division by zero");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const neg = n < 0n;
  const an = neg ? -n : n;
  let q = an / d;
  const r = an % d;
  const twice = 2n * r;
  if (twice > d || (twice === d && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** a * b / c rounded half-to-even to `digits` fraction digits. */
export function mulDivScaled(a: Scaled, b: Scaled, c: Scaled, digits: number): Scaled {
  // a*b/c = (A*B / 10^(sa+sb)) / (C / 10^sc) = A*B*10^sc / (C*10^(sa+sb)); scale the quotient by 10^digits.
  const n = a.units * b.units * pow10(c.scale) * pow10(digits);
  const d = c.units * pow10(a.scale + b.scale);
  return { units: divRoundHalfEven(n, d), scale: digits };
}

export function scaledToString(x: Scaled): string {
  return formatCanonical(x.units, x.scale);
}
