/**
 * A request body read exactly as sent, or refused: strict UTF-8, then JSON, then no repeated key in
 * any object. `JSON.parse` alone keeps the last of two equal keys, so a proxy, a front-end and the
 * ledger could each read a different quantity out of the same bytes; and `Response.text()` turns
 * bytes that are not UTF-8 into U+FFFD, so the ledger would store text nobody sent.
 *
 * Why not a parser from npm? None of the well-kept ones refuses repeated keys itself: the syntax
 * trees of `@humanwhocodes/momoa` and `jsonc-parser` list them, and code of ours would still walk the
 * tree, find them and build the value. They also cost more on the commit path, inside the Worker's
 * CPU budget: on a 1,000-entry batch (419 kB, Node 24, a loaded machine, medians of three runs)
 * `JSON.parse` took about 3 ms, `JSON.parse` plus this scan 9 ms, jsonc-parser's tree 17-43 ms and
 * momoa 40-100 ms. So the platform's parser builds the value, exactly as before, and
 * `firstRepeatedKey` only looks for repeats in the text it accepted: one pass, no recursion, and no
 * syntax of its own to get wrong, because every text it sees is valid JSON. Its tests check it
 * against a model and against `JSON.parse` with fast-check.
 *
 * Pure: no I/O, no `cloudflare:*`, so the core's tests run it on Node.
 */
import { assert } from "../core/assert.js";
import { limits } from "../core/limits.js";

export type JsonBodyProblem =
  | { readonly reason: "invalid_utf8"; readonly message: string }
  | { readonly reason: "syntax"; readonly message: string }
  | { readonly reason: "too_deep"; readonly message: string; readonly path: string }
  | { readonly reason: "duplicate_key"; readonly message: string; readonly path: string; readonly key: string };

export type JsonBodyParse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: JsonBodyProblem };

/**
 * `fatal`: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD. A leading byte
 * order mark is dropped (the default): RFC 8259 section 8.1 lets a parser ignore it, it carries no
 * content, and some clients (.NET, PowerShell) send one; what is stored is the same either way.
 */
const utf8_strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Parses a request body's bytes as JSON, refusing invalid UTF-8, nesting beyond the limit and repeated keys. */
export function parseJsonBody(bytes: Uint8Array): JsonBodyParse {
  let text: string;
  try {
    text = utf8_strict.decode(bytes);
  } catch {
    return {
      ok: false,
      problem: { reason: "invalid_utf8", message: "the body is not valid UTF-8 (JSON is UTF-8, RFC 8259 section 8.1)" },
    };
  }
  return parseJsonText(text);
}

/** `JSON.parse`, refusing nesting beyond `json_nesting_depth_max` and any object with a repeated key. */
export function parseJsonText(text: string): JsonBodyParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problem: { reason: "syntax", message: `the body is not valid JSON: ${(error as Error).message}` },
    };
  }
  const found = firstRepeatedKey(text);
  if (found === undefined) return { ok: true, value };
  if (found.kind === "too_deep") {
    return {
      ok: false,
      problem: {
        reason: "too_deep",
        path: found.path,
        message: `the body nests arrays and objects more than ${limits.json_nesting_depth_max} levels deep`,
      },
    };
  }
  const where = found.path === "" ? "the body" : `the object at ${found.path}`;
  return {
    ok: false,
    problem: {
      reason: "duplicate_key",
      path: found.path,
      key: found.key,
      message: `${where} has the key ${JSON.stringify(found.key)} more than once; send each key once`,
    },
  };
}

/** An open array or object while scanning. `keys` is set for objects only. */
interface Frame {
  readonly keys: Set<string> | undefined;
  /** The object's member being read (objects), or the element's index (arrays). */
  at: string | number;
  /** Objects: the next string is a key (after `{` or `,`), not a value. */
  keyNext: boolean;
}

export type RepeatedKey =
  | { readonly kind: "duplicate_key"; readonly path: string; readonly key: string }
  | { readonly kind: "too_deep"; readonly path: string };

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const open_object = 0x7b;
const close_object = 0x7d;
const open_array = 0x5b;
const close_array = 0x5d;

/**
 * The first object in `text` holding a key twice (keys compared after unescaping, as `JSON.parse`
 * reads them: `"a"` and `"\u0061"` are one key), or the first place nested deeper than
 * `json_nesting_depth_max`. `text` must be valid JSON (`JSON.parse` accepted it): outside strings
 * only structure and literals remain, so brackets, braces and commas are all this needs to see.
 * The path is dotted like the API's issue paths (`entries.1.metadata`); "" is the top level.
 */
export function firstRepeatedKey(text: string): RepeatedKey | undefined {
  const stack: Frame[] = [];
  const pathOf = (): string =>
    stack
      .slice(0, -1)
      .map((f) => String(f.at))
      .join(".");
  // Bounded by the text's length (the body's, at most `body_bytes_max` of routes/append-request.ts):
  // each step consumes a character.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      const start = i;
      i = closingQuote(text, start);
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.keyNext) {
        const raw = text.slice(start + 1, i);
        const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return { kind: "duplicate_key", path: pathOf(), key };
        top.keys.add(key);
        top.at = key;
        top.keyNext = false;
      }
    } else if (c === open_object || c === open_array) {
      stack.push(
        c === open_object ? { keys: new Set(), at: "", keyNext: true } : { keys: undefined, at: 0, keyNext: false },
      );
      if (stack.length > limits.json_nesting_depth_max) return { kind: "too_deep", path: pathOf() };
    } else if (c === close_object || c === close_array) {
      stack.pop();
    } else if (c === comma) {
      const top = stack[stack.length - 1]!;
      if (top.keys !== undefined) top.keyNext = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

/**
 * The index of the quote that closes the string opening at `open`: the next quote not escaped, that
 * is, not preceded by an odd run of backslashes. `indexOf` skips a string's body natively (most of
 * an append's bytes), several times faster than looking at each character here.
 */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  // Each turn moves `at` forward to another quote, so this ends within the text's length.
  for (;;) {
    assert(at > open, "firstRepeatedKey reads only text that JSON.parse accepted: every string is closed");
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === backslash) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
}

/**
 * A `Content-Type`'s charset parameters, lowercased and unquoted: none, usually one. All of them,
 * so that `charset=utf-8; charset=latin1` cannot pass on its first and be read by another reader
 * on its last.
 */
export function charsetsOf(contentType: string): string[] {
  const charsets: string[] = [];
  for (const parameter of contentType.split(";").slice(1)) {
    const eq = parameter.indexOf("=");
    if (eq < 0 || parameter.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    charsets.push(
      parameter
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toLowerCase(),
    );
  }
  return charsets;
}

/** True for the names the Encoding Standard gives UTF-8 (`utf-8`, `utf8`, `unicode-1-1-utf-8`, ...), as the platform resolves them. */
export function isUtf8Label(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === "utf-8";
  } catch {
    return false; // not an encoding the platform knows
  }
}
