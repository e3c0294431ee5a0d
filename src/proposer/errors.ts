/** The API's error shape: `{"error": {"code", "message", "details"}}`, never a stack trace. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { limits } from "../core/limits.js";
import { ledger_name } from "./api-schemas.js";

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * `value` cut to at most `max` characters, the last of them a marker saying how long it was. An
 * error may quote what the client sent (a ledger name, a field name, a path); quoted whole, a 1 MiB
 * field name makes a 1 MiB error, and a log line or a front-end's message box as long. The result
 * is never longer than `max`, so bounding it again changes nothing.
 */
export function echo(value: string, max: number = limits.echoed_value_chars_max): string {
  if (value.length <= max) return value;
  const marker = `… (${value.length} characters)`;
  let end = Math.max(0, max - marker.length);
  // Never cut between the two halves of a surrogate pair: the answer stays well-formed Unicode.
  if (end > 0 && /[\uD800-\uDBFF]/.test(value.charAt(end - 1))) end -= 1;
  return value.slice(0, end) + marker;
}

/** Nesting of `details` that `echoAll` walks; deeper values are left out (details are built here, a few levels deep). */
const details_depth_max = 8;

/** `details` with every string in it bounded by `echo`: whatever an error quotes, it quotes briefly. */
function echoAll(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return echo(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= details_depth_max) return "…";
  if (Array.isArray(value)) return value.map((v) => echoAll(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, echoAll(v, depth + 1)]));
}

export function errorResponse(c: Context, e: ApiError): Response {
  const message = echo(e.message, limits.error_message_chars_max);
  const body: ApiErrorBody = {
    error: { code: e.code, message, ...(e.details === undefined ? {} : { details: echoAll(e.details) }) },
  };
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(body, e.status);
}

/** The answer for a path and method the app does not serve, and for a local-only route that is off. */
export function noRoute(c: Context): ApiError {
  return new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
}

/** A validation failure of a route's parameters, query or body, in the API's own error codes. */
export function validationError(target: string, error: z.ZodError): ApiError {
  const at = (name: string) => error.issues.some((i) => i.path[0] === name);
  if (target === "param") {
    if (at("ledger")) return new ApiError(400, "invalid_ledger_name", `ledger names match ${ledger_name.source}`);
    if (at("seq")) return new ApiError(400, "invalid_request", "seq must be a positive whole number");
    if (at("id")) return new ApiError(400, "invalid_request", "id must be 1 to 128 visible ASCII characters");
  }
  const what = target === "query" ? "query parameters" : target;
  return new ApiError(400, "invalid_request", `invalid ${what}`, issueDetails(error.issues));
}

interface Issue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
  readonly code: string;
  readonly keys?: readonly string[];
}

/**
 * zod issues as the API reports them: where (a dotted JSON path) and what. An unknown field is
 * reported at its own path (zod puts it in `keys`, beside the path of the object holding it).
 */
export function issueDetails(issues: readonly Issue[]): Array<{ path: string; code: string; message: string }> {
  return issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === "unrecognized_keys" && i.keys !== undefined && i.keys.length > 0) {
      return i.keys.map((k) => ({
        path: echo([...at, k].join(".")),
        code: i.code,
        message: `unknown field ${echo(k)}`,
      }));
    }
    return [{ path: echo(at.join(".")), code: i.code, message: i.message }];
  });
}
