/**
 * Client-side verification of the hash chain (README, "The hash chain"):
 *
 *   hash_n = hex(SHA-256(UTF-8(prevHash_n + canonicalJson(entry_n without "hash"))))
 *   prevHash_1 = 64 zeros, prevHash_n = hash_(n-1)
 *
 * So a client that holds entries can tell, without trusting the server, that none was altered,
 * dropped or reordered since its hash was computed. The hashing is the core's pure code
 * (@noble/hashes and RFC 8785 canonical JSON), which runs unchanged in Node, browsers and Workers.
 */
import { entryHash, genesis_hash } from "../core/hash.js";
import { ChainVerificationError, isRecord } from "./errors.js";
import type { Entry } from "./types.js";

export { genesis_hash };

const hash_pattern = /^[0-9a-f]{64}$/;

/** The last entry a check reached: what the next entry's `seq` and `prevHash` must follow. */
export interface ChainLink {
  readonly seq: number;
  readonly hash: string;
}

export interface VerifyEntriesOptions {
  /**
   * The hash of the entry before the first one given. Defaults to the genesis hash when the first
   * entry is seq 1; otherwise, without it, the first entry's own hash is still checked but its link
   * to the entry before it cannot be (`anchored: false`).
   */
  readonly prevHash?: string;
  /** When given, the first entry must be seq `afterSeq + 1` (a page that starts where it was asked to). */
  readonly afterSeq?: number;
}

export interface ChainCheck {
  readonly count: number;
  /** The last entry checked; `undefined` for no entries. */
  readonly last: ChainLink | undefined;
  /** True when the first entry's prevHash was checked against a known hash (or genesis). */
  readonly anchored: boolean;
}

/** Checks the entry's server fields have the types the chain needs; returns it typed. */
function chainFields(entry: unknown, index: number): { seq: number; prevHash: string; hash: string } {
  const where = isRecord(entry) && typeof entry["seq"] === "number" ? entry["seq"] : undefined;
  const fail = (what: string) =>
    new ChainVerificationError({
      seq: where,
      problem: "shape",
      message: `entry ${where ?? `at index ${index}`}: ${what}`,
    });
  if (!isRecord(entry)) throw fail("is not an object");
  const { seq, prevHash, hash } = entry;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1)
    throw fail("seq is not a positive whole number");
  if (typeof prevHash !== "string" || !hash_pattern.test(prevHash))
    throw fail("prevHash is not 64 lowercase hex digits");
  if (typeof hash !== "string" || !hash_pattern.test(hash)) throw fail("hash is not 64 lowercase hex digits");
  return { seq, prevHash, hash };
}

/** Recomputes one entry's hash from its own prevHash and fields; throws when it differs. */
export function verifyEntry(entry: Entry): void {
  verifyOne(entry, 0);
}

function verifyOne(entry: unknown, index: number): { seq: number; prevHash: string; hash: string } {
  const fields = chainFields(entry, index);
  const { hash: _stated, ...rest } = entry as Record<string, unknown>;
  const computed = entryHash(fields.prevHash, rest);
  if (computed !== fields.hash) {
    throw new ChainVerificationError({
      seq: fields.seq,
      problem: "hash",
      expected: computed,
      actual: fields.hash,
      message: `entry ${fields.seq}: its hash ${fields.hash} is not the hash of its contents (${computed}); the entry was altered`,
    });
  }
  return fields;
}

/**
 * Verifies consecutive entries: each one's hash, seqs dense, and each prevHash equal to the hash of
 * the entry before. Throws `ChainVerificationError` naming the first entry that fails.
 */
export function verifyEntries(entries: readonly Entry[], options: VerifyEntriesOptions = {}): ChainCheck {
  let previous: { seq: number | undefined; hash: string | undefined } = {
    seq: options.afterSeq,
    hash: options.prevHash,
  };
  let anchored = false;
  let last: ChainLink | undefined;
  for (const [index, entry] of entries.entries()) {
    const fields = verifyOne(entry, index);
    if (index === 0 && previous.hash === undefined && fields.seq === 1) previous = { seq: 0, hash: genesis_hash };
    if (previous.seq !== undefined && fields.seq !== previous.seq + 1) {
      throw new ChainVerificationError({
        seq: fields.seq,
        problem: "seq",
        expected: previous.seq + 1,
        actual: fields.seq,
        message: `entry ${fields.seq} follows seq ${previous.seq}: expected seq ${previous.seq + 1} (${fields.seq > previous.seq + 1 ? "a gap" : "a duplicate or reordering"})`,
      });
    }
    if (previous.hash !== undefined) {
      if (fields.prevHash !== previous.hash) {
        throw new ChainVerificationError({
          seq: fields.seq,
          problem: "prevHash",
          expected: previous.hash,
          actual: fields.prevHash,
          message: `entry ${fields.seq}: prevHash ${fields.prevHash} is not the hash of the entry before it (${previous.hash})`,
        });
      }
      if (index === 0) anchored = true;
    }
    previous = { seq: fields.seq, hash: fields.hash };
    last = { seq: fields.seq, hash: fields.hash };
  }
  return { count: entries.length, last, anchored };
}
