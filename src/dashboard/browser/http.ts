/**
 * The page's requests to the v1 API of its own origin, with the key typed into the page, and what
 * a failure means for a person reading the page.
 */

/** One request may take this long; then it fails (and the loop that sent it retries). */
export const request_timeout_ms = 5_000;

/** The key and ledger the page is connected with, and the signal that ends the connection. */
export interface Connection {
  readonly key: string;
  readonly ledger: string;
  readonly signal: AbortSignal;
}

/** A non-2xx answer, with the API's error code (`{"error": {"code", "message"}}`). */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function httpErrorOf(res: Response): Promise<HttpError> {
  let code = `http_${res.status}`;
  let message = res.statusText;
  try {
    const body: unknown = JSON.parse(await res.text());
    const error = typeof body === "object" && body !== null && "error" in body ? body.error : undefined;
    if (typeof error === "object" && error !== null) {
      const fields = error as { code?: unknown; message?: unknown };
      code = String(fields.code ?? code);
      message = String(fields.message ?? message);
    }
  } catch {
    // not JSON: keep the status line
  }
  return new HttpError(res.status, code, message);
}

function withTimeout(signal: AbortSignal, timeout_ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeout_ms)]);
}

/**
 * GET of a JSON answer. The answer's shape is the API's (the SDK's types) and is not validated
 * here: the page only shows it, and a missing field shows as "–".
 */
export async function getJson<T>(
  connection: Connection,
  path: string,
  signal: AbortSignal = connection.signal,
): Promise<T> {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${connection.key}`, accept: "application/json" },
    cache: "no-store",
    signal: withTimeout(signal, request_timeout_ms),
  });
  if (!res.ok) throw await httpErrorOf(res);
  return (await res.json()) as T;
}

/** The path of `rest` under the connected ledger, e.g. `/v1/ledgers/demo/status`. */
export function ledgerPath(connection: Connection, rest: string): string {
  return `/v1/ledgers/${encodeURIComponent(connection.ledger)}/${rest}`;
}

/** What went wrong, for a person: the key, the scope, the network or the service. */
export function describeError(error: unknown, what: string): string {
  if (error instanceof HttpError) {
    if (error.status === 401)
      return `${what}: the API key was not accepted (401 ${error.code}). Check the key and connect again.`;
    if (error.status === 403)
      return `${what}: this key may not do that on this ledger (403 ${error.code}: ${error.message})`;
    if (error.status === 503) return `${what}: no quorum of replicas answered (503 ${error.code}); retrying.`;
    if (error.status === 429) return `${what}: the Worker is overloaded (429); retrying.`;
    return `${what}: ${error.status} ${error.code}: ${error.message}`;
  }
  if (field(error, "name") === "TimeoutError")
    return `${what}: no answer within ${request_timeout_ms / 1000} s; retrying.`;
  if (error instanceof TypeError) return `${what}: the network request failed (${error.message}); retrying.`;
  return `${what}: ${errorMessage(error)}`;
}

/** The error's message, or the thrown value as text (anything can be thrown, not only an Error). */
export function errorMessage(error: unknown): string {
  const message = field(error, "message");
  return message ? String(message) : String(error);
}

/** A property of a thrown value, whatever it is (a DOMException, an Error, a string). */
function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** An answer that retrying cannot change: a bad request, a refused key, a missing scope. */
export function isFatal(error: unknown): boolean {
  return error instanceof HttpError && (error.status === 400 || error.status === 401 || error.status === 403);
}
