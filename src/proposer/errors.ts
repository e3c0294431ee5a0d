/** The API's error shape: `{"error": {"code", "message", "details"}}`, never a stack trace. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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

export function errorResponse(c: Context, e: ApiError): Response {
  const body: ApiErrorBody = { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } };
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(body, e.status);
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
      return i.keys.map((k) => ({ path: [...at, k].join("."), code: i.code, message: `unknown field ${k}` }));
    }
    return [{ path: at.join("."), code: i.code, message: i.message }];
  });
}
