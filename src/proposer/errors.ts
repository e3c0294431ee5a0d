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

/** zod issues as the API reports them: where (a JSON path) and what. */
export function issueDetails(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code: string }>) {
  return issues.map((i) => ({ path: i.path.map(String).join("."), code: i.code, message: i.message }));
}
