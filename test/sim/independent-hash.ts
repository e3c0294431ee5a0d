/**
 * The hash chain as the specification states it, computed without the production code, so that the
 * checker cannot share a bug with what it checks (a planted bug in `src/core/hash.ts` or in the
 * canonical-JSON library must show up as a chain that does not verify):
 *
 *   hash_n = hex(SHA-256(UTF-8(prevHash_n + JCS(entry_n without its "hash" field))))
 *   prevHash_1 = 64 zeros
 *
 * JCS is RFC 8785 (JSON Canonicalization Scheme), written here from the RFC: object members sorted by
 * the UTF-16 code units of their names, no white space, strings with only the mandatory escapes
 * (quote, backslash, control characters; the short forms where JSON has them, else \u00xx in lower
 * case hex), numbers in ECMAScript's shortest round-trip form. SHA-256 comes from `node:crypto`, not
 * from @noble/hashes.
 */
import { createHash } from "node:crypto";

export const reference_genesis_hash = "0".repeat(64);

/** The short escapes RFC 8785 section 3.2.2.2 requires; other control characters use \u00xx. */
const short_escapes: ReadonlyMap<number, string> = new Map([
  [0x08, "\\b"],
  [0x09, "\\t"],
  [0x0a, "\\n"],
  [0x0c, "\\f"],
  [0x0d, "\\r"],
  [0x22, '\\"'],
  [0x5c, "\\\\"],
]);

export class CanonicalJsonError extends Error {
  override name = "CanonicalJsonError";
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function serializeString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const short = short_escapes.get(unit);
    if (short !== undefined) {
      out += short;
    } else if (unit < 0x20) {
      out += `\\u${unit.toString(16).padStart(4, "0")}`;
    } else if (isHighSurrogate(unit) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (isHighSurrogate(unit) || isLowSurrogate(unit)) {
      // A lone surrogate has no UTF-8 form: the hashed bytes would be ambiguous. The entry schema
      // refuses them, so meeting one here means something upstream let it through.
      throw new CanonicalJsonError(`lone surrogate U+${unit.toString(16)} at index ${i}`);
    } else {
      out += s[i]!;
    }
  }
  return `${out}"`;
}

function serializeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${n} has no JSON form`);
  // RFC 8785 section 3.2.2.3 is ECMAScript's Number.prototype.toString, with -0 written as 0.
  return Object.is(n, -0) ? "0" : String(n);
}

/** Compares two strings by UTF-16 code units, the order RFC 8785 section 3.2.3 sorts member names in. */
export function compareUtf16(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Bounds the recursion: ledger values are a few levels deep; anything deeper is a bug, not data. */
const depth_max = 32;

function serialize(value: unknown, depth: number): string {
  if (depth > depth_max) throw new CanonicalJsonError(`nested deeper than ${depth_max} levels`);
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return serializeNumber(value);
    case "string":
      return serializeString(value);
    case "object":
      break;
    default:
      throw new CanonicalJsonError(`a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    // As JSON.stringify does: an absent element is null.
    return `[${value.map((v: unknown) => (v === undefined ? "null" : serialize(v, depth + 1))).join(",")}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new CanonicalJsonError("only plain objects have a canonical form here");
  const record = value as Record<string, unknown>;
  // As JSON.stringify does: a member whose value is undefined is absent.
  const names = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort(compareUtf16);
  return `{${names.map((k) => `${serializeString(k)}:${serialize(record[k], depth + 1)}`).join(",")}}`;
}

/** RFC 8785 canonical JSON of a value built from plain objects, arrays, strings, finite numbers, booleans and null. */
export function referenceCanonicalJson(value: unknown): string {
  return serialize(value, 0);
}

export function referenceSha256Hex(text: string): string {
  return createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
}

/** The hash an entry must carry, given the hash before it and the entry without its `hash` field. */
export function referenceEntryHash(prevHash: string, entryWithoutHash: object): string {
  return referenceSha256Hex(prevHash + referenceCanonicalJson(entryWithoutHash));
}
