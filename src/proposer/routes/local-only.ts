/**
 * The routes for local runs, tests and benchmarks (`routes/faults.ts`, `routes/bench.ts`): absent
 * unless ALLOW_FAULT_INJECTION is set, which only a local `.dev.vars` ever does. Each group puts
 * `localOnly` before all of its routes, so that the check is made once, in one place.
 */
import type { MiddlewareHandler } from "hono";
import { noRoute } from "../errors.js";
import { type AppEnv, ledgerConfig } from "./app-env.js";

/** Group middleware: without the flag, the answer of a route that does not exist (404 `not_found`). */
export const localOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!ledgerConfig(c.env).faultInjection) throw noRoute(c);
  await next();
};

/**
 * What the OpenAPI document says of every local-only route (every route the app serves is there),
 * under their own tag.
 */
export const local_only_docs = {
  tags: ["local testing (ALLOW_FAULT_INJECTION only)"],
  security: [{ Bearer: [] }],
  description: "Absent (404) unless ALLOW_FAULT_INJECTION is set; an admin key for every ledger (`*`).",
};

/** A local-only route's documented answers: `description` when on, 404 when off. */
export function localOnlyResponses(description: string) {
  return { 200: { description }, 404: { description: "Fault injection is off." } };
}
