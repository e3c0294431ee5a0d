/**
 * Benchmark-only routes (`npm run bench`), local-only (`routes/local-only.ts`), and only for an
 * admin key that holds every ledger:
 * - `PUT /v1/_bench/mode` `{"classic": true|false, "proposers"?: [{"rtt_from": region}, ...],
 *   "design"?: "coordinator"|"direct"}`: classic Paxos (phase 1 before every commit) as the baseline
 *   mode, or Multi-Paxos; with `proposers`, k (at most `bench_proposers_max`) Worker isolates per
 *   ledger, each with its own id and simulated region, appends taken by each in turn: forwarders to
 *   the coordinator (`bench-forwarders.ts`, the production design) or, `design` direct, proposers of
 *   their own (`bench-proposers.ts`, the design before issue #12); forgets every cached proposer;
 * - `POST /v1/_bench/reset`: forgets every cached proposer, the coordinators' too (the next request
 *   is a cold isolate's, to a cold coordinator);
 * - `GET /v1/_bench/stats?ledger=`: the ledger's proposer counters (acceptor calls, slots, entries),
 *   the k proposers' added up; with k proposers, also each one's id, region, counters and append times;
 * - `POST /v1/_bench/unreplicated/:ledger/entries`: the same append, applied straight to one Durable
 *   Object with no replication: the throughput baseline.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { validator } from "hono/validator";
import { ledger_name, ledgerParams } from "../api-schemas.js";
import { benchProposersSchema } from "../bench-proposers.js";
import { coordinatorServices } from "../coordinator-services.js";
import { ApiError, issueDetails, validationError } from "../errors.js";
import { type AppEnv, services } from "./app-env.js";
import { appendBodyLimit, appendPreamble, appendResult, readAppendBody } from "./append-request.js";
import { adminOfEveryLedger } from "./keys.js";
import { local_only_docs, localOnly, localOnlyResponses } from "./local-only.js";

const modeBodySchema = z.strictObject({
  classic: z.boolean(),
  /** The bench's k proposers per ledger, one simulated region each; absent: one proposer, as in production. */
  proposers: benchProposersSchema.optional(),
  /** How the Worker proposes: through the ledger's coordinator (production, the default) or itself (the old design). */
  design: z.enum(["coordinator", "direct"]).optional(),
});
/** Strict: an unknown query parameter (a typo) is refused rather than ignored. */
const statsQuerySchema = z.strictObject({ ledger: z.string().regex(ledger_name) });

/** The unreplicated append's path parameters, as the v1 append's (`ledgerParams`). */
const ledgerParam = validator("param", (value) => {
  const parsed = ledgerParams.safeParse(value);
  if (!parsed.success) throw validationError("param", parsed.error);
  return parsed.data;
});

/** The group, mounted at `/v1/_bench`. */
export function benchRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", localOnly);

  app.put("/mode", adminOfEveryLedger, async (c) => {
    const parsed = modeBodySchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      throw new ApiError(
        400,
        "invalid_request",
        'send {"classic": true|false, "proposers"?: [{"rtt_from": region}, ...], "design"?: "coordinator"|"direct"}',
        issueDetails(parsed.error.issues),
      );
    }
    const { classic, proposers, design = "coordinator" } = parsed.data;
    for (const each of [services, coordinatorServices]) {
      each.proposerOptions = classic ? { prepareEveryCommitForBaseline: true } : {};
      each.benchProposers = proposers;
      each.clear();
    }
    services.design = design;
    return c.json({ classic, proposers: proposers ?? null, design });
  });

  app.post("/reset", adminOfEveryLedger, async (c) => {
    services.clear();
    coordinatorServices.clear();
    return c.json({ reset: true });
  });

  app.get("/stats", adminOfEveryLedger, async (c) => {
    const parsed = statsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      throw new ApiError(400, "invalid_request", "invalid query parameters", issueDetails(parsed.error.issues));
    }
    const { ledger } = parsed.data;
    const service = services.peek(ledger);
    if (service === undefined) return c.json({ ledger, stats: null, proposers: null, design: services.design });
    const proposers = service.bench?.describe() ?? service.benchForwarders?.describe() ?? null;
    // An unreachable coordinator is `stats: null` (the bench reports it), not a 500.
    const stats = await service.proposerStats().catch(() => null);
    return c.json({ ledger, stats, proposers, design: service.proposing.kind });
  });

  app.post(
    "/unreplicated/:ledger/entries",
    adminOfEveryLedger,
    appendPreamble("append"),
    appendBodyLimit,
    ledgerParam,
    async (c) => {
      const { ledger } = c.req.valid("param");
      const entries = await readAppendBody(c);
      const stub = c.env.ACCEPTOR.getByName(`${ledger}:unreplicated`);
      const { body, created } = appendResult(ledger, await stub.appendUnreplicated(entries, Date.now()));
      return c.json(body, created ? 201 : 200);
    },
  );

  const { tags, security, description } = local_only_docs;
  app.openAPIRegistry.registerPath({
    method: "put",
    path: "/mode",
    tags,
    security,
    summary:
      "Classic Paxos (phase 1 on every commit) or Multi-Paxos, for the benchmark's baseline; optionally k proposers per ledger, each in its own simulated region",
    description,
    request: { body: { content: { "application/json": { schema: modeBodySchema } } } },
    responses: localOnlyResponses("The mode."),
  });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/reset",
    tags,
    security,
    summary: "Forget every cached proposer (the next request is a cold isolate's)",
    description,
    responses: localOnlyResponses("Reset."),
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/stats",
    tags,
    security,
    summary: "A ledger's proposer counters (and, with k proposers, each one's)",
    description,
    request: { query: statsQuerySchema },
    responses: localOnlyResponses("The counters, or null."),
  });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/unreplicated/{ledger}/entries",
    tags,
    security,
    summary: "The same append, applied straight to one Durable Object with no replication (the throughput baseline)",
    description,
    request: {
      params: ledgerParams,
      body: { content: { "application/json": { schema: { $ref: "#/components/schemas/AppendRequest" } } } },
    },
    responses: localOnlyResponses("Receipts."),
  });
  return app;
}
