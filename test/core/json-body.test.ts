/**
 * The body reader: strict UTF-8, JSON.parse, then no repeated key. The repeat finder is checked
 * against a model: documents built as lists of members (repeats allowed), written out with escapes
 * and white space, and the first repeat the model meets reading left to right.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../../src/core/assert.js";
import { limits } from "../../src/core/limits.js";
import {
  charsetsOf,
  firstRepeatedKey,
  isUtf8Label,
  parseJsonBody,
  parseJsonText,
} from "../../src/proposer/json-body.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A JSON document as written: objects are member lists, so a key can appear twice. */
type Doc =
  | { kind: "object"; members: Array<[string, Doc]> }
  | { kind: "array"; items: Doc[] }
  | { kind: "scalar"; value: unknown };

/** Writes a string literal, each character either plain (as JSON.stringify writes it) or as \uXXXX escapes. */
function writeString(s: string, escapeMask: number): string {
  let out = '"';
  let i = 0;
  for (const ch of s) {
    const escaped = ((escapeMask >>> (i++ % 31)) & 1) === 1;
    const units = Array.from({ length: ch.length }, (_, k) => ch.charCodeAt(k)); // both halves of a pair
    out += escaped
      ? units.map((u) => `\\u${u.toString(16).padStart(4, "0")}`).join("")
      : JSON.stringify(ch).slice(1, -1);
  }
  return `${out}"`;
}

function write(doc: Doc, space: string, escapeMask: number): string {
  if (doc.kind === "scalar") return JSON.stringify(doc.value);
  if (doc.kind === "array")
    return `[${space}${doc.items.map((d) => write(d, space, escapeMask)).join(`,${space}`)}${space}]`;
  return `{${space}${doc.members.map(([k, v]) => `${writeString(k, escapeMask)}${space}:${space}${write(v, space, escapeMask)}`).join(`,${space}`)}${space}}`;
}

/** The first key met twice in one object, reading the text left to right (a key comes before its value). */
function modelRepeat(doc: Doc, path: Array<string | number> = []): { path: string; key: string } | undefined {
  if (doc.kind === "array") {
    for (const [i, d] of doc.items.entries()) {
      const found = modelRepeat(d, [...path, i]);
      if (found !== undefined) return found;
    }
  } else if (doc.kind === "object") {
    const seen = new Set<string>();
    for (const [k, v] of doc.members) {
      if (seen.has(k)) return { path: path.join("."), key: k };
      seen.add(k);
      const found = modelRepeat(v, [...path, k]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// Keys from a small alphabet, so that repeats are common, with the characters that matter to a scanner.
const keyArb = fc.string({
  unit: fc.constantFrom("a", "b", '"', "\\", ",", "{", "}", "[", "]", ":", "é", "😀", " "),
  maxLength: 2,
});
const scalarArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { doc: docArb } = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarArb.map((value): Doc => ({ kind: "scalar", value })),
    fc.array(tie("doc"), { maxLength: 4 }).map((items): Doc => ({ kind: "array", items })),
    fc.array(fc.tuple(keyArb, tie("doc")), { maxLength: 5 }).map((members): Doc => ({ kind: "object", members })),
  ),
}));
const spaceArb = fc.constantFrom("", " ", "\n\t ");

describe("firstRepeatedKey", () => {
  it("finds the model's first repeated key, at its path, however the keys are escaped (property)", () => {
    fc.assert(
      fc.property(docArb, spaceArb, fc.integer({ min: 0, max: 0x7fffffff }), (doc, space, escapeMask) => {
        const text = write(doc, space, escapeMask);
        expect(() => JSON.parse(text)).not.toThrow();
        const expected = modelRepeat(doc);
        const found = firstRepeatedKey(text);
        if (expected === undefined) expect(found).toBeUndefined();
        else expect(found).toEqual({ kind: "duplicate_key", ...expected });
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with JSON.parse on any JSON value: nothing repeated, the same value back (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), spaceArb, (value, space) => {
        const text = JSON.stringify(value, null, space);
        const parsed = parseJsonText(text);
        expect(parsed).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 1000 },
    );
  });

  it("reads a key written with escapes as the key JSON.parse reads", () => {
    expect(firstRepeatedKey('{"price":"1","pric\\u0065":"2"}')).toEqual({
      kind: "duplicate_key",
      path: "",
      key: "price",
    });
    expect(firstRepeatedKey('{"a\\"b":1,"a\\u0022b":2}')).toEqual({ kind: "duplicate_key", path: "", key: 'a"b' });
    expect(firstRepeatedKey('{"\\ud83d\\ude00":1,"😀":2}')).toEqual({ kind: "duplicate_key", path: "", key: "😀" });
    // Different keys that look alike once unescaped carelessly.
    expect(firstRepeatedKey('{"a\\\\":1,"a":2,"a\\\\\\\\":3}')).toBeUndefined();
  });

  it("names the path of the object holding the repeat", () => {
    expect(firstRepeatedKey('{"entries":[{"id":"1"},{"id":"2","metadata":{"k":"1","k":"2"}}]}')).toEqual({
      kind: "duplicate_key",
      path: "entries.1.metadata",
      key: "k",
    });
    expect(firstRepeatedKey('[[1,2],{"x":[{"y":1,"y":2}]}]')).toEqual({
      kind: "duplicate_key",
      path: "1.x.0",
      key: "y",
    });
  });

  it("ignores braces, brackets, commas and colons inside strings", () => {
    expect(firstRepeatedKey('{"a":"},{\\"a\\":1,","b":"[\\"a\\"]"}')).toBeUndefined();
    expect(firstRepeatedKey('{"a":"\\\\","a":1}')).toEqual({ kind: "duplicate_key", path: "", key: "a" });
  });

  it("stops with an assertion, not a loop, if handed text JSON.parse would refuse", () => {
    expect(() => firstRepeatedKey('{"a')).toThrow(InvariantViolation);
  });

  it(`refuses nesting deeper than json_nesting_depth_max (${limits.json_nesting_depth_max})`, () => {
    const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
    expect(firstRepeatedKey(nested(limits.json_nesting_depth_max))).toBeUndefined();
    expect(firstRepeatedKey(nested(limits.json_nesting_depth_max + 1))).toMatchObject({ kind: "too_deep" });
    const deepObject = `${'{"a":'.repeat(limits.json_nesting_depth_max + 1)}1${"}".repeat(limits.json_nesting_depth_max + 1)}`;
    expect(parseJsonText(deepObject)).toMatchObject({ ok: false, problem: { reason: "too_deep" } });
    // A million levels: refused, with no recursion anywhere to overflow.
    expect(parseJsonText(nested(1_000_000))).toMatchObject({ ok: false, problem: { reason: "too_deep" } });
  });
});

describe("parseJsonBody", () => {
  it("refuses bytes that are not UTF-8, and only those (property, Node's decoder as the oracle)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (tail) => {
        const bytes = new Uint8Array([
          ...utf8('"'),
          ...tail.filter((b) => b !== 0x22 && b !== 0x5c && b >= 0x20),
          ...utf8('"'),
        ]);
        const wellFormed = Buffer.from(Buffer.from(bytes).toString("utf8"), "utf8").equals(Buffer.from(bytes));
        const parsed = parseJsonBody(bytes);
        if (wellFormed) expect(parsed).toEqual({ ok: true, value: Buffer.from(bytes).toString("utf8").slice(1, -1) });
        else expect(parsed).toMatchObject({ ok: false, problem: { reason: "invalid_utf8" } });
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["a lone 0xff", [0xff]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["an overlong encoding", [0xc0, 0xaf]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
  ])("refuses %s", (_, raw) => {
    expect(parseJsonBody(new Uint8Array([0x22, ...raw, 0x22]))).toMatchObject({
      ok: false,
      problem: { reason: "invalid_utf8" },
    });
  });

  it("ignores a leading byte order mark, and only a leading one", () => {
    expect(parseJsonBody(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"a":"b"}')]))).toEqual({
      ok: true,
      value: { a: "b" },
    });
    expect(parseJsonBody(utf8('{"a":"b"}\ufeff'))).toMatchObject({ ok: false, problem: { reason: "syntax" } });
  });

  it("reports syntax, depth and repeats as distinct reasons", () => {
    expect(parseJsonBody(utf8("{"))).toMatchObject({ ok: false, problem: { reason: "syntax" } });
    expect(parseJsonBody(utf8('{"a":1,"a":1}'))).toMatchObject({
      ok: false,
      problem: { reason: "duplicate_key", path: "", key: "a" },
    });
  });
});

describe("Content-Type charset", () => {
  it.each([
    ["application/json", []],
    ["application/json; charset=utf-8", ["utf-8"]],
    ['application/json;charset="UTF-8"', ["utf-8"]],
    ["application/json; foo=bar; Charset = Latin1 ", ["latin1"]],
    ["application/json; charset=utf-8; charset=latin1", ["utf-8", "latin1"]],
  ])("charsetsOf(%j) is %j", (type, charsets) => expect(charsetsOf(type)).toEqual(charsets));

  it("knows UTF-8 by its names only", () => {
    for (const label of ["utf-8", "utf8", "unicode-1-1-utf-8"]) expect(isUtf8Label(label)).toBe(true);
    for (const label of ["latin1", "iso-8859-1", "utf-16", "utf-16le", "windows-1252", "no-such", ""])
      expect(isUtf8Label(label)).toBe(false);
  });
});
