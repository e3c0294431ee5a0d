/**
 * Request helpers for the Workers-integration tests: every request goes through the Worker's own
 * fetch (`exports.default.fetch`), with one of the test keys of `bindings.ts`. Durable Object storage
 * is shared by the tests of one file, so every test writes to its own `uniqueLedger(...)`.
 */

import { exports } from "cloudflare:workers";
import canonicalize from "canonicalize";
import { expect } from "vitest";
import { test_keys } from "./bindings.js";

export const origin = "https://ledger.test";

export type KeyName = keyof typeof test_keys;

/** A response with its body read once: as text, and as JSON when it parses. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body; `undefined` when the body is not JSON. */
  readonly json: unknown;
}

export interface CallOptions {
  /** The test key to send as `Authorization: Bearer`; `null` sends no Authorization header. */
  readonly key?: KeyName | null;
  /** Sent as JSON (`JSON.stringify`) unless `rawBody` is given. */
  readonly body?: unknown;
  /** Sent as is, instead of `body`. */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

/** A ledger name no other test uses (lowercase, within the 63 characters the API allows). */
export function uniqueLedger(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export function authHeader(key: KeyName): Record<string, string> {
  return { authorization: `Bearer ${test_keys[key]}` };
}

export async function call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const key = options.key === undefined ? "test-all" : options.key;
  const headers: Record<string, string> = { ...(key === null ? {} : authHeader(key)) };
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  Object.assign(headers, options.headers ?? {});
  const res = await exports.default.fetch(`${origin}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return readApiResponse(res);
}

/** Reads a response's body once: as text, and as JSON when it parses. */
export async function readApiResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function get(
  path: string,
  key: KeyName | null = "test-all",
  headers?: Record<string, string>,
): Promise<ApiResponse> {
  return call("GET", path, { key, ...(headers === undefined ? {} : { headers }) });
}

export function post(path: string, body: unknown, key: KeyName | null = "test-all"): Promise<ApiResponse> {
  return call("POST", path, { key, body });
}

/** The path of a ledger's resource: `ledgerPath("l", "entries")` is `/v1/ledgers/l/entries`. */
export function ledgerPath(ledger: string, rest: string): string {
  return `/v1/ledgers/${ledger}/${rest}`;
}

// Shapes of the API's bodies (README, "The API"), as the tests read them.

export interface Receipt {
  id: string;
  status: "created" | "exists";
  seq: number;
  hash: string;
  committedAt: string;
  slot: number;
}

export interface AppendResult {
  ledger: string;
  results: Receipt[];
}

export type Entry = Record<string, unknown> & {
  id: string;
  seq: number;
  slot: number;
  committedAt: string;
  prevHash: string;
  hash: string;
};

export interface ListResult {
  ledger: string;
  entries: Entry[];
  next: number | null;
  head: Head;
}

export interface Head {
  seq: number;
  hash: string;
  committedAt: string | null;
}

export interface Position {
  account: string;
  symbol: string;
  quantity: string;
  costBasis: string;
  averagePrice: string;
  realizedPnl: string;
  fees: string;
  lastSeq: number;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A fill with every required field; `overrides` replaces or adds fields. */
export function fill(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "10", price: "100.5", ...overrides };
}

export const hex64 = /^[0-9a-f]{64}$/;
export const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const genesis_hash = "0".repeat(64);

/** Text that only a stack trace or a leaked source location would contain. */
const stack_trace = /\n\s*at\s|\bat\s+\S+\s+\(|\.(ts|js|mjs):\d+|node_modules|\bsrc\/(core|proposer|acceptor)\//;

/** Asserts the API's error shape: the status, JSON content, the code, a message, no stack trace. */
export function expectApiError(res: ApiResponse, status: number, code: string): ErrorBody {
  expect({ status: res.status, body: res.json }).toMatchObject({ status, body: { error: { code } } });
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json\b/i);
  const body = res.json as ErrorBody;
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(res.text).not.toMatch(stack_trace);
  return body;
}

/** Asserts a successful append and returns its body. */
export function expectAppended(res: ApiResponse, status: 200 | 201 = 201): AppendResult {
  expect({ status: res.status, body: res.json }).toMatchObject({ status });
  return res.json as AppendResult;
}

export async function append(ledger: string, body: unknown): Promise<AppendResult> {
  return expectAppended(await post(ledgerPath(ledger, "entries"), body));
}

/** The ledger's head, read linearizably with the all-scopes key. */
export async function head(ledger: string): Promise<Head> {
  const res = await get(ledgerPath(ledger, "head"));
  expect(res.status).toBe(200);
  return res.json as Head;
}

export async function listAll(ledger: string): Promise<Entry[]> {
  const res = await get(ledgerPath(ledger, "entries?limit=1000"));
  expect(res.status).toBe(200);
  return (res.json as ListResult).entries;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Recomputes the hash chain as README describes it, independently of `src/`:
 * hash_n = hex(SHA-256(prevHash_n + RFC 8785 canonical JSON of entry_n without "hash")).
 * Returns the last hash (the genesis hash for no entries).
 */
export async function expectValidChain(entries: readonly Entry[]): Promise<string> {
  let prev = genesis_hash;
  for (const [i, e] of entries.entries()) {
    expect(e.seq).toBe(i + 1);
    expect(e.prevHash).toBe(prev);
    const { hash, ...rest } = e;
    const text = canonicalize(rest);
    if (text === undefined) throw new Error(`entry ${e.seq} has no canonical JSON`);
    expect(hash).toBe(await sha256Hex(prev + text));
    prev = hash;
  }
  return prev;
}
