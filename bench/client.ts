/** A bounded HTTP client for the bench (loopback only) and the entries it posts. */
import { performance } from "node:perf_hooks";

/** The development key of .dev.vars.example: scopes append, read and admin on every ledger. */
export const api_key = "dev-key-quorum-ledger";
/** Every request of the bench gives up after this long. */
export const request_timeout_ms = 15_000;

export const json_headers: Readonly<Record<string, string>> = {
  authorization: `Bearer ${api_key}`,
  "content-type": "application/json",
};

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  /** Client-side time from sending the request to the end of the response body. */
  readonly ms: number;
}

export class BenchHttpError extends Error {
  override name = "BenchHttpError";
}

/** One request with the dev key; the body (if any) as JSON. Throws on a network error or timeout. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const url = new URL(path, base);
  if (url.hostname !== "127.0.0.1") throw new BenchHttpError(`the bench only talks to 127.0.0.1, not ${url.hostname}`);
  const started = performance.now();
  const response = await fetch(url, {
    method,
    headers: body === undefined ? { authorization: json_headers.authorization! } : json_headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(request_timeout_ms),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body: parsed, ms };
}

/** Like `call`, but a status outside 2xx is an error. */
export async function callOk(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const reply = await call(base, method, path, body);
  if (reply.status < 200 || reply.status > 299) {
    throw new BenchHttpError(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body).slice(0, 500)}`);
  }
  return reply;
}

const accounts = 16;
const symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AVGO"] as const;

/**
 * Unique ids for one bench run: `<run>:<label>:<n>`. `n` keeps counting across every body made by
 * this process, so no two requests of a run ever share an id.
 */
export class EntryFactory {
  private n = 0;
  constructor(private readonly run: string) {}

  entry(label: string): Record<string, string> {
    const n = ++this.n;
    return {
      id: `${this.run}:${label}:${n}`,
      account: `ACC-${n % accounts}`,
      symbol: symbols[n % symbols.length]!,
      side: n % 3 === 0 ? "sell" : "buy",
      quantity: String(1 + (n % 100)),
      price: `${100 + (n % 50)}.${String(n % 100).padStart(2, "0")}`,
      currency: "USD",
    };
  }

  /** A single-entry body (the entry itself). */
  single(label: string): string {
    return JSON.stringify(this.entry(label));
  }

  /** A batch body `{"entries": [...]}` of `size` entries. */
  batch(label: string, size: number): string {
    const entries = Array.from({ length: size }, () => this.entry(label));
    return JSON.stringify({ entries });
  }

  get made(): number {
    return this.n;
  }
}
