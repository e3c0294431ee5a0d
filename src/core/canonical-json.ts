/**
 * Canonical JSON (RFC 8785, JCS): sorted keys, no white space, one spelling per value. The hash chain
 * and idempotency comparisons use it so that two equal entries always serialize to the same bytes.
 */
import canonicalize from "canonicalize";
import { assert } from "./assert.js";

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  assert(text !== undefined, "canonical JSON of undefined");
  return text;
}
