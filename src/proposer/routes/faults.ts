/**
 * `GET` and `PUT /v1/_faults`: the fault injection of `faults.ts` (regions down, delays, simulated
 * RTT, jitter, loss) for local runs, tests and benchmarks. Local-only (`routes/local-only.ts`).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError, issueDetails } from "../errors.js";
import { currentFaults, faultConfigSchema, setFaults } from "../faults.js";
import type { AppEnv } from "./app-env.js";
import { adminOfEveryLedger } from "./keys.js";
import { local_only_docs, localOnly, localOnlyResponses } from "./local-only.js";

/** The group, mounted at `/v1/_faults`. */
export function faultRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", localOnly);
  // Faults apply to every ledger the isolate serves: only an admin key for every ledger may set them.
  app.on(["GET", "PUT"], "/", adminOfEveryLedger, async (c) => {
    if (c.req.method === "PUT") {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new ApiError(400, "invalid_json", "the body is not valid JSON");
      }
      const parsed = faultConfigSchema.safeParse(body);
      if (!parsed.success) {
        throw new ApiError(400, "invalid_request", "invalid fault configuration", issueDetails(parsed.error.issues));
      }
      setFaults(parsed.data);
    }
    return c.json({ faults: currentFaults() });
  });

  const { tags, security, description } = local_only_docs;
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/",
    tags,
    security,
    summary: "The faults in force",
    description,
    responses: localOnlyResponses("The fault configuration."),
  });
  app.openAPIRegistry.registerPath({
    method: "put",
    path: "/",
    tags,
    security,
    summary: "Set faults: regions down, added delay, simulated RTT from a region, jitter, loss",
    description: `${description} Applies to every ledger this isolate serves; \`{}\` heals.`,
    request: { body: { content: { "application/json": { schema: faultConfigSchema } } } },
    responses: localOnlyResponses("The fault configuration now in force."),
  });
  return app;
}
