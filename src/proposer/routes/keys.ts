/**
 * The key checks of the routes, as route middleware: they run before the route's parameter and query
 * validators, so a request without a fitting key is refused before its parameters are looked at (all
 * but the ledger's name, which the key is authorized for).
 */
import type { Context, MiddlewareHandler } from "hono";
import { ledger_name } from "../api-schemas.js";
import { apiKeys, authenticate, authorize, type Scope } from "../auth.js";
import { ApiError, echo } from "../errors.js";
import type { AppEnv } from "./app-env.js";

/** 401 without a known key, 403 unless it holds `scope` on `ledger` (`"*"`: on every ledger). */
export async function requireKey(c: Context<AppEnv>, scope: Scope, ledger: string): Promise<void> {
  const key = await authenticate(c.req.header("authorization"), apiKeys(c.env.LEDGER_API_KEYS));
  authorize(key, scope, ledger);
  c.set("key", key);
}

/**
 * The path's ledger name, checked here because a key is authorized per ledger: a malformed name is
 * 400 (quoting it) before any key is asked for. Only the key checks read the raw parameter; the
 * handlers get the name from the route's param schema (`ledgerParams`), which cannot fail after this.
 */
export function pathLedger(c: Context<AppEnv>): string {
  const ledger = c.req.param("ledger") ?? "";
  if (!ledger_name.test(ledger)) {
    throw new ApiError(400, "invalid_ledger_name", `ledger names match ${ledger_name.source}`, {
      ledger: echo(ledger),
    });
  }
  return ledger;
}

/** Route middleware: the key must hold `scope` on the route's ledger (checked before anything else). */
export function keyFor(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await requireKey(c, scope, pathLedger(c));
    await next();
  };
}

/** Route middleware: an admin key for every ledger (`*`), for what changes every ledger the isolate serves. */
export const adminOfEveryLedger: MiddlewareHandler<AppEnv> = async (c, next) => {
  await requireKey(c, "admin", "*");
  await next();
};
