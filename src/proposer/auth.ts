/**
 * API keys (the README's API section): `Authorization: Bearer <key>`; the secret LEDGER_API_KEYS holds a
 * JSON array of `{"name", "sha256", "scopes", "ledgers"}` where `sha256` is the hex digest of the key.
 * The presented key's digest is compared with every configured one in constant time.
 */
import { z } from "zod";
import { ApiError } from "./errors.js";

export const scopes = ["append", "read", "admin"] as const;
export type Scope = (typeof scopes)[number];

const apiKeysSchema = z
  .array(
    z.strictObject({
      name: z.string().min(1).max(64),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex digits"),
      scopes: z.array(z.enum(scopes)).min(1),
      ledgers: z.array(z.string().min(1)).min(1),
    }),
  )
  .max(1000);

export type ApiKey = z.infer<typeof apiKeysSchema>[number];

/** Keys in use at most; a longer list is a configuration error. */
export const api_keys_max = 1000;
/** A presented key longer than this is refused before hashing. */
const key_chars_max = 512;

let parsedFrom: string | undefined;
let parsed: ApiKey[] = [];
/** Each configured key's digest as bytes, decoded once per configuration rather than per request. */
const digestBytes = new WeakMap<ApiKey, Uint8Array>();

export function apiKeys(raw: string | undefined): ApiKey[] {
  if (raw === undefined || raw.trim() === "") {
    throw new ApiError(500, "server_misconfigured", "LEDGER_API_KEYS is not set; no request can be authorized");
  }
  if (raw !== parsedFrom) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ApiError(500, "server_misconfigured", "LEDGER_API_KEYS is not valid JSON");
    }
    const result = apiKeysSchema.safeParse(json);
    if (!result.success)
      throw new ApiError(500, "server_misconfigured", `LEDGER_API_KEYS: ${result.error.issues[0]?.message}`);
    parsed = result.data;
    for (const key of parsed) digestBytes.set(key, hexToBytes(key.sha256));
    parsedFrom = raw;
  }
  return parsed;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The key a request presents, matched against the configured ones; 401 when absent or unknown. */
export async function authenticate(header: string | undefined, keys: readonly ApiKey[]): Promise<ApiKey> {
  const match = header === undefined ? null : /^Bearer +([\x21-\x7e]+)$/i.exec(header); // the scheme is case-insensitive
  const challenge = { "WWW-Authenticate": 'Bearer realm="quorum-ledger"' };
  if (match === null) {
    throw new ApiError(401, "unauthorized", "send an API key as Authorization: Bearer <key>", undefined, challenge);
  }
  const presented = match[1]!;
  if (presented.length > key_chars_max)
    throw new ApiError(401, "unauthorized", "unknown API key", undefined, challenge);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(presented)));
  let found: ApiKey | undefined;
  for (const key of keys) {
    // Compare with every key, always the full digest: the time taken says nothing about which matched.
    const expected = digestBytes.get(key) ?? hexToBytes(key.sha256);
    if (crypto.subtle.timingSafeEqual(digest, expected) && found === undefined) found = key;
  }
  if (found === undefined) throw new ApiError(401, "unauthorized", "unknown API key", undefined, challenge);
  return found;
}

/** 403 unless `key` has `scope` on `ledger`; `"*"` asks for a key that holds every ledger. */
export function authorize(key: ApiKey, scope: Scope, ledger: string): void {
  if (!key.scopes.includes(scope)) {
    throw new ApiError(403, "forbidden", `key ${key.name} lacks the ${scope} scope`);
  }
  if (!key.ledgers.includes("*") && !key.ledgers.includes(ledger)) {
    throw new ApiError(403, "forbidden", `key ${key.name} may not use ledger ${ledger}`);
  }
}
