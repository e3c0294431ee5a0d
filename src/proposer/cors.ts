/**
 * Cross-origin access for browser front-ends served from another origin, with Hono's own CORS
 * middleware (`hono/cors`). The policy:
 *
 * - Only the origins listed in `CORS_ALLOWED_ORIGINS` (src/config.ts validates them) are granted,
 *   each by exact match of the browser's `Origin` header. None by default: then this middleware
 *   does nothing at all, and no response carries an `Access-Control-*` header.
 * - No wildcard and no credentials (cookies): clients authenticate with `Authorization: Bearer`,
 *   which a page sets itself, so `Access-Control-Allow-Credentials` is never needed.
 * - A preflight (`OPTIONS`) from a listed origin is answered 204 here, before any key is asked for
 *   (browsers never send `Authorization` on a preflight), allowing the methods and request headers
 *   the API uses. A preflight from any other origin is refused with 403 `origin_not_allowed` and no
 *   `Access-Control-*` header, so that someone debugging sees why rather than a bare browser error.
 *   Other requests from other origins (or without `Origin`) are served as before, with no
 *   `Access-Control-*` header: the browser then withholds the answer from the page.
 * - Every other request is served as usual; a listed origin gets `Access-Control-Allow-Origin` on
 *   every answer (errors included) and may read `Retry-After`, which tells it when to retry a 429
 *   or 503. Responses vary by `Origin`, so that no cache hands one origin's answer to another.
 */
import type { Context, Env, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { ApiError, errorResponse } from "./errors.js";

/** What a cross-origin page may call: the API's reads (and the stream) and its appends. */
export const cors_allowed_methods = ["GET", "POST", "OPTIONS"];
/** Request headers a cross-origin page may send (the last two: a client deadline, a stream resume). */
export const cors_allowed_headers = ["Authorization", "Content-Type", "X-Deadline-Ms", "Last-Event-ID"];
/** Response headers, beyond the CORS-safelisted ones, a cross-origin page may read. */
export const cors_exposed_headers = ["Retry-After"];
/** How long a browser may reuse one preflight's answer (browsers cap it lower: Chromium at 2 h). */
export const cors_preflight_max_age_s = 600;

/**
 * The CORS middleware for the origins `allowedOriginsOf` returns (read per request from the
 * configuration, which is parsed once per isolate: the same array until the configuration changes).
 */
export function corsPolicy<E extends Env>(
  allowedOriginsOf: (c: Context<E>) => readonly string[],
): MiddlewareHandler<E> {
  let builtFor: readonly string[] | undefined;
  let grant: MiddlewareHandler | undefined;
  return async (c, next) => {
    const allowed = allowedOriginsOf(c);
    if (allowed.length === 0) return next();
    const origin = c.req.header("origin");
    if (origin === undefined || !allowed.includes(origin)) {
      // Not a listed origin (or no browser at all): no Access-Control-* header, only Vary.
      if (c.req.method === "OPTIONS" && origin !== undefined) {
        return errorResponse(
          c,
          new ApiError(
            403,
            "origin_not_allowed",
            "this origin is not in CORS_ALLOWED_ORIGINS: no cross-origin request is granted to it",
            undefined,
            {
              Vary: "Origin",
            },
          ),
        );
      }
      await next();
      c.header("Vary", "Origin", { append: true });
      return;
    }
    if (grant === undefined || builtFor !== allowed) {
      grant = cors({
        origin: [...allowed],
        allowMethods: cors_allowed_methods,
        allowHeaders: cors_allowed_headers,
        exposeHeaders: cors_exposed_headers,
        maxAge: cors_preflight_max_age_s,
        credentials: false,
      });
      builtFor = allowed;
    }
    return grant(c, next);
  };
}
