/**
 * The API's own documentation, served by the Worker: `/openapi.json` (generated from every mounted
 * group's route declarations), the `/docs` reference page, and its vendored script under `/vendor/`.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { appendRequestSchema } from "../api-schemas.js";
import type { AppEnv } from "./app-env.js";

/** Where `/docs` loads the API reference's script from: vendored by `npm run vendor`, served as a static asset. */
export const scalar_bundle_path = "/vendor/scalar-api-reference.js";

export const openapi_info = {
  title: "Quorum Ledger API",
  version: "1.0.0",
  description:
    "An edge-replicated trade ledger: an entry is acknowledged once a quorum of regions holds it durably, " +
    "and every replica applies the same log in the same order. " +
    "Authenticate with `Authorization: Bearer <key>`. " +
    'Errors are always `{"error": {"code", "message", "details"}}`.',
};

/**
 * The document's shared components: the bearer scheme every route names, and the append body, which
 * two groups reference by `$ref` (their handlers parse the body themselves, for precise errors).
 * Registered on the root app before the groups are mounted, so they lead the document as before.
 */
export function registerApiComponents(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.register("AppendRequest", appendRequestSchema);
  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key from LEDGER_API_KEYS (locally: `dev-key-quorum-ledger`).",
  });
}

/** The documentation routes, on the root app: the document is the root's, with every group mounted. */
export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  // The vendored API reference script (wrangler.toml [assets], run_worker_first): only these paths
  // reach the asset store, so API requests pay no asset lookup.
  app.get("/vendor/*", (c) => c.env.ASSETS.fetch(c.req.raw));
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: openapi_info,
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get(
    "/docs",
    Scalar({
      url: "/openapi.json",
      pageTitle: "Quorum Ledger API",
      // Served by this Worker (`npm run vendor`), not a CDN: the page loads no third-party code.
      cdn: scalar_bundle_path,
      withDefaultFonts: false,
      telemetry: false,
      // No hosted extras (AI agent, MCP, share/deploy toolbar): they would talk to Scalar's services.
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
      authentication: { preferredSecurityScheme: "Bearer" },
    }),
  );
}
