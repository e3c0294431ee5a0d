/**
 * What every route group shares: the Hono environment (the Worker's bindings, and the key a request
 * was authorized with), the ledger configuration parsed from those bindings, and this isolate's
 * ledger services (per ledger: the forward to its coordinator and the read path, cached across requests).
 */
import type { Context } from "hono";
import { ConfigError, type LedgerConfig, parseLedgerConfig } from "../../config.js";
import type { ApiKey } from "../auth.js";
import { ApiError } from "../errors.js";
import type { LedgerService } from "../ledger-service.js";
import { LedgerServices } from "../ledger-services.js";

export type AppEnv = { Bindings: Env; Variables: { key: ApiKey } };

/** Per isolate: the bench routes reset it (`routes/bench.ts`), every ledger route uses it. */
export const services = new LedgerServices("worker");

let configFrom: string | undefined;
let config: LedgerConfig | undefined;

/** The configuration, parsed again only when a binding it reads changes; a bad one is a 500 for every request. */
export function ledgerConfig(env: Env): LedgerConfig {
  const source = JSON.stringify([
    env.ACCEPTOR_REGIONS,
    env.QUORUM_PREPARE,
    env.QUORUM_ACCEPT,
    env.ALLOW_FAULT_INJECTION,
    env.SUBREQUESTS_PER_REQUEST_MAX,
    env.CORS_ALLOWED_ORIGINS,
    env.COORDINATOR_REGION,
  ]);
  if (config === undefined || source !== configFrom) {
    try {
      config = parseLedgerConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) throw new ApiError(500, "server_misconfigured", error.message);
      throw error;
    }
    configFrom = source;
  }
  return config;
}

/**
 * The ledger's service, with this request's `waitUntil` for the work that outlives it. A missing
 * Durable Object binding (a hand-edited wrangler.toml) is the deployment's fault, named as such,
 * before anything is sent: the Worker forwards to `COORDINATOR` and reads from `ACCEPTOR`.
 */
export function service(c: Context<AppEnv>, ledger: string): LedgerService {
  const missing = [
    ...(c.env.ACCEPTOR === undefined ? ["ACCEPTOR"] : []),
    ...(c.env.COORDINATOR === undefined && services.design === "coordinator" ? ["COORDINATOR"] : []),
  ];
  if (missing.length > 0) {
    throw new ApiError(
      500,
      "server_misconfigured",
      `the Durable Object binding ${missing.join(" and ")} is missing: see [[durable_objects.bindings]] in wrangler.toml`,
    );
  }
  const s = services.get(ledger, ledgerConfig(c.env), c.env.ACCEPTOR, c.env.COORDINATOR);
  s.useWaitUntil((work) => c.executionCtx.waitUntil(work));
  return s;
}
