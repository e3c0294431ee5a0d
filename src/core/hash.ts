/**
 * The hash chain. For the entry at seq n:
 *
 *   hash_n = hex(SHA-256(UTF-8(prevHash_n + canonicalJson(entry_n without its "hash" field))))
 *
 * where prevHash_n = hash_{n-1} and prevHash_1 = 64 zeros (`genesis_hash`). The entry includes its
 * server fields (seq, slot, committedAt, prevHash), so a client holding the entries can recompute the
 * whole chain; README spells this out.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { canonicalJson } from "./canonical-json.js";

export const genesis_hash = "0".repeat(64);

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

export function entryHash(prevHash: string, entryWithoutHash: object): string {
  return sha256Hex(prevHash + canonicalJson(entryWithoutHash));
}
