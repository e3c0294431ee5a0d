/**
 * The v1 HTTP API (the API section of README.md; its design in docs/design.md) as a Hono app. It
 * validates, authorizes, and hands the work to the ledger's proposer (appends) or to a replica
 * (reads); errors are always JSON. This file makes the app: the middleware every request passes, the
 * mapping of every error to the API's answer, and the route groups mounted with `app.route()`:
 * - `routes/ledger.ts`: the v1 ledger routes (declared in `api-routes.ts`);
 * - `routes/faults.ts`, `routes/bench.ts`: for local runs, tests and benchmarks, behind one guard
 *   (`routes/local-only.ts`);
 * - `routes/docs.ts`: `/openapi.json`, `/docs`; the dashboard (`src/dashboard/routes.ts`) at `/`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { ProposerOverloadedError, QuorumUnavailableError } from "../core/proposer/index.js";
import { registerDashboardRoutes } from "../dashboard/routes.js";
import { corsPolicy } from "./cors.js";
import { ApiError, errorResponse, noRoute, validationError } from "./errors.js";
import { ReadUnavailableError, ReplicaBehindError } from "./ledger-service.js";
import { requestBudget } from "./request-budget.js";
import { type AppEnv, ledgerConfig } from "./routes/app-env.js";
import { benchRoutes } from "./routes/bench.js";
import { registerApiComponents, registerDocsRoutes } from "./routes/docs.js";
import { faultRoutes } from "./routes/faults.js";
import { ledgerRoutes } from "./routes/ledger.js";

function unavailable(message: string): ApiError {
  return new ApiError(
    503,
    "quorum_unavailable",
    `${message}. For an append the outcome is unknown: retrying the same request (same ids) is safe and returns the original receipts.`,
    { outcome: "unknown" },
    { "Retry-After": "1" },
  );
}

/** Every error a handler or middleware throws, as the API's JSON answer (`errors.ts`). */
function errorAnswer(error: Error): ApiError {
  if (error instanceof ApiError) return error;
  // Checked before the append case: a read changes nothing, so it has no unknown outcome to report.
  if (error instanceof ReadUnavailableError || error instanceof ReplicaBehindError) {
    return new ApiError(
      503,
      "quorum_unavailable",
      `the read could not be served: ${error.message}. Nothing was changed; retry the read after Retry-After.`,
      undefined,
      { "Retry-After": "1" },
    );
  }
  if (error instanceof QuorumUnavailableError) return unavailable(error.message);
  if (error instanceof ProposerOverloadedError) {
    return new ApiError(429, "overloaded", error.message, undefined, { "Retry-After": "1" });
  }
  if (error instanceof HTTPException && error.status < 500) {
    const code =
      error.status === 415 ? "unsupported_media_type" : error.status === 413 ? "payload_too_large" : "invalid_request";
    return new ApiError(error.status, code, error.message);
  }
  console.error("unhandled error", error);
  return new ApiError(500, "internal", "internal error; it has been logged");
}

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    // Every group's parameter and query validators answer through this hook (the groups have none).
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error);
    },
  });
  // Every request gets its own subrequest budget and connection limit, in force for everything it
  // starts (its waitUntil work too); the test headers only count with fault injection on.
  app.use(requestBudget<AppEnv>((c) => ledgerConfig(c.env).faultInjection));
  app.onError((error, c) => errorResponse(c, errorAnswer(error)));
  app.notFound((c) => errorResponse(c, noRoute(c)));
  // Before every route, so that a preflight is answered without a key (src/proposer/cors.ts).
  app.use(
    "*",
    corsPolicy<AppEnv>((c) => ledgerConfig(c.env).corsAllowedOrigins),
  );

  registerDashboardRoutes(app, (c) =>
    c.json({
      service: "quorum-ledger",
      api: "/v1/ledgers/:ledger/...",
      docs: "/docs",
      openapi: "/openapi.json",
      regions: ledgerConfig(c.env).regions,
    }),
  );
  // The groups' declarations join the document in mounting order, after its shared components.
  registerApiComponents(app);
  app.route("/", ledgerRoutes());
  app.route("/v1/_faults", faultRoutes());
  app.route("/v1/_bench", benchRoutes());
  registerDocsRoutes(app);
  return app;
}
