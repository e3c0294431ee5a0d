/**
 * The v1 HTTP API (the API section of README.md; its design in docs/design.md) as a Hono app. It validates, authorizes, and hands the work
 * to the ledger's proposer (appends) or to a replica (reads); errors are always JSON.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { parseLedgerConfig, ConfigError, type LedgerConfig } from "../config.js";
import { parseAppendBody } from "../core/entry-schema.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { BatchOutcome, Entry, LedgerHead, Receipt } from "../core/ledger-types.js";
import { limits } from "../core/limits.js";
import { ProposerOverloadedError, QuorumUnavailableError } from "../core/proposer.js";
import { apiKeys, authenticate, authorize, type ApiKey, type Scope } from "./auth.js";
import { registerDashboardRoutes } from "../dashboard/routes.js";
import { apiRoutes } from "./api-routes.js";
import { appendRequestSchema, ledger_name, ledgerParams, list_limit_default } from "./api-schemas.js";
import { corsPolicy } from "./cors.js";
import { ApiError, echo, errorResponse, issueDetails } from "./errors.js";
import { currentFaults, faultConfigSchema, setFaults } from "./faults.js";
import { charsetsOf, isUtf8Label, parseJsonBody } from "./json-body.js";
import { LedgerServices, ReadUnavailableError, ReplicaBehindError, type Consistency, type LedgerService } from "./ledger-service.js";
import { currentRequestBudget, requestBudget } from "./request-budget.js";
import { stream_limits, streamHubs, tooManyStreams } from "./stream-hub.js";

/** Request bodies larger than this are refused with 413. */
export const body_bytes_max = 1024 * 1024;
/** A stream lives this long, then ends; the client reconnects with Last-Event-ID and misses nothing. */
export const stream_duration_ms_max = stream_limits.duration_ms_max;
/** The status page's window of recent commits (this isolate's proposer for the ledger). */
export const status_commit_window_ms = 60_000;

/** Where `/docs` loads the API reference's script from: vendored by `npm run vendor`, served as a static asset. */
export const scalar_bundle_path = "/vendor/scalar-api-reference.js";

type AppEnv = { Bindings: Env; Variables: { key: ApiKey } };

const services = new LedgerServices();
let configFrom: string | undefined;
let config: LedgerConfig | undefined;

function ledgerConfig(env: Env): LedgerConfig {
  const source = JSON.stringify([
    env.ACCEPTOR_REGIONS,
    env.QUORUM_PREPARE,
    env.QUORUM_ACCEPT,
    env.ALLOW_FAULT_INJECTION,
    env.SUBREQUESTS_PER_REQUEST_MAX,
    env.CORS_ALLOWED_ORIGINS,
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

function ledgerOf(c: Context<AppEnv>): string {
  const ledger = c.req.param("ledger") ?? "";
  if (!ledger_name.test(ledger)) {
    throw new ApiError(400, "invalid_ledger_name", `ledger names match ${ledger_name.source}`, { ledger: echo(ledger) });
  }
  return ledger;
}

function service(c: Context<AppEnv>, ledger: string): LedgerService {
  const s = services.get(ledger, ledgerConfig(c.env), c.env.ACCEPTOR);
  s.useWaitUntil((work) => c.executionCtx.waitUntil(work));
  return s;
}

async function requireKey(c: Context<AppEnv>, scope: Scope, ledger: string): Promise<void> {
  const key = await authenticate(c.req.header("authorization"), apiKeys(c.env.LEDGER_API_KEYS));
  authorize(key, scope, ledger);
  c.set("key", key);
}

/** Parses query parameters strictly: unknown ones are refused, so a typo is not silently ignored. */
function query<T extends z.ZodRawShape>(c: Context<AppEnv>, shape: T): z.infer<z.ZodObject<T>> {
  const result = z.strictObject(shape).safeParse(c.req.query());
  if (!result.success) throw new ApiError(400, "invalid_request", "invalid query parameters", issueDetails(result.error.issues));
  return result.data;
}

function consistencyOf(q: { consistency?: "linearizable" | "local" | undefined; minSeq?: number | undefined }): Consistency {
  if (q.minSeq !== undefined) return { mode: "local", minSeq: q.minSeq };
  return q.consistency === "local" ? { mode: "local" } : { mode: "linearizable" };
}

function headOf(h: LedgerHead): { seq: number; hash: string; committedAt: string | null } {
  return { seq: h.seq, hash: h.hash, committedAt: h.seq === 0 ? null : new Date(h.committedAt_ms).toISOString() };
}

function unavailable(message: string): ApiError {
  return new ApiError(
    503,
    "quorum_unavailable",
    `${message}. For an append the outcome is unknown: retrying the same request (same ids) is safe and returns the original receipts.`,
    { outcome: "unknown" },
    { "Retry-After": "1" },
  );
}

/**
 * An append's 503: the proposer's reason once (it says nothing of outcomes or retries itself), then
 * what the client may conclude. `details.outcome` stays `unknown` even when this request was never
 * proposed (`details.proposed: false`): an earlier send of the same ids may have been, so only the
 * client knows whether its ids are settled. Either way resending the same request is safe.
 */
function appendUnavailable(error: QuorumUnavailableError): ApiError {
  const conclusion = error.outcomeUnknown
    ? "The outcome is unknown: retrying the same request (same ids) is safe and returns the original receipts."
    : "This request was not proposed, so it applied nothing (an earlier send of the same ids may have): retrying the same request (same ids) is safe.";
  return new ApiError(
    503,
    "quorum_unavailable",
    `This append could not be committed: ${error.message}. ${conclusion}`,
    { outcome: "unknown", proposed: error.outcomeUnknown },
    { "Retry-After": "1" },
  );
}

/** `X-Deadline-Ms`: whole milliseconds within the named bounds, or 400. */
function appendDeadline_ms(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const min = limits.append_deadline_header_ms_min;
  const max = limits.append_deadline_header_ms_max;
  const value = /^[0-9]{1,9}$/.test(header.trim()) ? Number(header.trim()) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ApiError(400, "invalid_request", `X-Deadline-Ms must be a whole number of milliseconds from ${min} to ${max}`, {
      header: "X-Deadline-Ms",
      value: header.slice(0, 32),
    });
  }
  return value;
}

/**
 * Validates an append's body: strict UTF-8 JSON with no repeated key (`json-body.ts`), at most
 * `request_entries_max` entries, each entry strictly. What is stored is what was sent, or nothing.
 */
async function readAppendBody(c: Context<AppEnv>): Promise<EntryInput[]> {
  const json = parseJsonBody(new Uint8Array(await c.req.arrayBuffer()));
  if (!json.ok) {
    const { message, ...details } = json.problem;
    throw new ApiError(400, "invalid_json", message, details);
  }
  const body = json.value;
  if (typeof body === "object" && body !== null && "entries" in body && Array.isArray(body.entries) && body.entries.length > limits.request_entries_max) {
    throw new ApiError(413, "too_many_entries", `a batch holds at most ${limits.request_entries_max} entries`, {
      entries: body.entries.length,
    });
  }
  const parsed = parseAppendBody(body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", "the entry is invalid", issueDetails(parsed.error.issues));
  return parsed.data;
}

/** An append's answer: its receipts (201 when one was created, else 200), or 409 when refused. */
function appendResult(ledger: string, outcome: BatchOutcome): { body: { ledger: string; results: Receipt[] }; created: boolean } {
  if (outcome.kind === "rejected") {
    const r = outcome.rejection;
    throw new ApiError(409, r.code, r.message, { index: r.index, id: r.id, ...(r.fields === undefined ? {} : { fields: r.fields }) });
  }
  return { body: { ledger, results: [...outcome.receipts] }, created: outcome.receipts.some((r) => r.status === "created") };
}

/** Checks the Content-Type and the key of an append, before the body is read. */
function appendPreamble(scope: Scope) {
  return async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const ledger = ledgerOf(c);
    await requireKey(c, scope, ledger);
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
    }
    // JSON is UTF-8 (RFC 8259 section 8.1): a body declared in another charset would be read as
    // other characters than the client meant, so it is refused rather than guessed at.
    const foreign = charsetsOf(type).find((charset) => !isUtf8Label(charset));
    if (foreign !== undefined) {
      throw new ApiError(415, "unsupported_media_type", "send the body as UTF-8 JSON: Content-Type: application/json (charset, if given, utf-8)", {
        charset: echo(foreign),
      });
    }
    await next();
  };
}

const appendBodyLimit = bodyLimit({
  maxSize: body_bytes_max,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `the body exceeds ${body_bytes_max} bytes`);
  },
});

/** A validation failure of a route's parameters, in the API's own error codes. */
function validationError(target: string, error: z.ZodError): ApiError {
  const at = (name: string) => error.issues.some((i) => i.path[0] === name);
  if (target === "param") {
    if (at("ledger")) return new ApiError(400, "invalid_ledger_name", `ledger names match ${ledger_name.source}`);
    if (at("seq")) return new ApiError(400, "invalid_request", "seq must be a positive whole number");
    if (at("id")) return new ApiError(400, "invalid_request", "id must be 1 to 128 visible ASCII characters");
  }
  return new ApiError(400, "invalid_request", `invalid ${target === "query" ? "query parameters" : target}`, issueDetails(error.issues));
}

/** Route middleware: the key must hold `scope` on the route's ledger (checked before anything else). */
function needKey(scope: Scope) {
  return async (c: Context<AppEnv>, next: () => Promise<void>) => {
    await requireKey(c, scope, ledgerOf(c));
    await next();
  };
}

export const openapi_info = {
  title: "Quorum Ledger API",
  version: "1.0.0",
  description:
    "An edge-replicated trade ledger: an entry is acknowledged once a quorum of regions holds it durably, and every replica applies the same log in the same order. " +
    "Authenticate with `Authorization: Bearer <key>`. Errors are always `{\"error\": {\"code\", \"message\", \"details\"}}`.",
};

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error);
    },
  });
  // Every request gets its own subrequest budget and connection limit, in force for everything it
  // starts (its waitUntil work too); the test headers only count with fault injection on.
  app.use(requestBudget<AppEnv>((c) => ledgerConfig(c.env).faultInjection));

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    // Checked before the append case: a read changes nothing, so it has no unknown outcome to report.
    if (error instanceof ReadUnavailableError || error instanceof ReplicaBehindError) {
      return errorResponse(
        c,
        new ApiError(
          503,
          "quorum_unavailable",
          `the read could not be served: ${error.message}. Nothing was changed; retry the read after Retry-After.`,
          undefined,
          { "Retry-After": "1" },
        ),
      );
    }
    if (error instanceof QuorumUnavailableError) {
      return errorResponse(c, unavailable(error.message));
    }
    if (error instanceof ProposerOverloadedError) {
      return errorResponse(c, new ApiError(429, "overloaded", error.message, undefined, { "Retry-After": "1" }));
    }
    if (error instanceof HTTPException && error.status < 500) {
      const code = error.status === 415 ? "unsupported_media_type" : error.status === 413 ? "payload_too_large" : "invalid_request";
      return errorResponse(c, new ApiError(error.status, code, error.message));
    }
    console.error("unhandled error", error);
    return errorResponse(c, new ApiError(500, "internal", "internal error; it has been logged"));
  });
  app.notFound((c) => errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)));
  // Before every route, so that a preflight is answered without a key (src/proposer/cors.ts).
  app.use("*", corsPolicy<AppEnv>((c) => ledgerConfig(c.env).corsAllowedOrigins));

  registerDashboardRoutes(app, (c) =>
    c.json({ service: "quorum-ledger", api: "/v1/ledgers/:ledger/...", docs: "/docs", openapi: "/openapi.json", regions: ledgerConfig(c.env).regions }),
  );

  const routes = apiRoutes({ append: appendPreamble("append"), read: needKey("read"), admin: needKey("admin") }, [appendBodyLimit]);
  app.openAPIRegistry.register("AppendRequest", appendRequestSchema);
  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key from LEDGER_API_KEYS (locally: `dev-key-quorum-ledger`).",
  });

  app.openapi(routes.append, async (c) => {
    const ledger = ledgerOf(c);
    const deadline_ms = appendDeadline_ms(c.req.header("x-deadline-ms"));
    const entries = await readAppendBody(c);
    // The request stays alive until its slot is decided even if the client goes away: another
    // request may be waiting for it to drive the next round (group commit hands the turn on).
    const appended = service(c, ledger).proposer.append(
      entries,
      (work) => c.executionCtx.waitUntil(work),
      deadline_ms === undefined ? {} : { deadline_ms },
    );
    c.executionCtx.waitUntil(appended.catch(() => undefined));
    let outcome: BatchOutcome;
    try {
      outcome = await appended;
    } catch (error) {
      if (error instanceof QuorumUnavailableError) throw appendUnavailable(error);
      throw error;
    }
    const { body, created } = appendResult(ledger, outcome);
    return created ? c.json(body, 201) : c.json(body, 200);
  });

  app.openapi(routes.list, async (c) => {
    const ledger = ledgerOf(c);
    const q = c.req.valid("query");
    const limit = q.limit ?? list_limit_default;
    const after = q.after ?? 0;
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readEntries(after, limit));
    const entries = r.entries as Entry[];
    const last = entries.at(-1)?.seq;
    return c.json({ ledger, entries, next: last !== undefined && entries.length === limit ? last : null, head: headOf(r.state.head) }, 200);
  });

  app.openapi(routes.entryBySeq, async (c) => {
    const ledger = ledgerOf(c);
    const seq = Number(c.req.valid("param").seq);
    const r = await service(c, ledger).read(consistencyOf(c.req.valid("query")), (stub) => stub.readEntry(seq));
    if (r.entry === null) throw new ApiError(404, "not_found", `no entry at seq ${seq}`, { head: headOf(r.state.head) });
    return c.json({ ledger, entry: r.entry }, 200);
  });

  app.openapi(routes.entryById, async (c) => {
    const ledger = ledgerOf(c);
    const { id } = c.req.valid("param");
    const r = await service(c, ledger).read(consistencyOf(c.req.valid("query")), (stub) => stub.readEntryById(id));
    if (r.entry === null) throw new ApiError(404, "not_found", `no entry with id ${id}`);
    return c.json({ ledger, entry: r.entry }, 200);
  });

  app.openapi(routes.head, async (c) => {
    const ledger = ledgerOf(c);
    const r = await service(c, ledger).read(consistencyOf(c.req.valid("query")), async (stub) => ({ state: await stub.readState() }));
    return c.json({ ledger, ...headOf(r.state.head) }, 200);
  });

  app.openapi(routes.positions, async (c) => {
    const ledger = ledgerOf(c);
    const q = c.req.valid("query");
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readPositions(q.account));
    return c.json({ ledger, account: q.account, positions: r.positions, asOf: headOf(r.state.head) }, 200);
  });

  app.openapi(routes.stream, async (c) => {
    const ledger = ledgerOf(c);
    const q = c.req.valid("query");
    const lastEventId = c.req.header("last-event-id");
    const resumeFrom = lastEventId !== undefined && /^[0-9]{1,15}$/.test(lastEventId) ? Number(lastEventId) : undefined;
    const after = resumeFrom ?? q.after ?? 0;
    const s = service(c, ledger);
    // The stream stops reading before its request's subrequests run out (stream-hub.ts); the count
    // is the transport's for this request (request-budget.ts).
    const configured = s.config.subrequestsPerRequestMax;
    const budget = currentRequestBudget();
    const admission = streamHubs.admit(ledger, c.get("key").name, after, Date.now(), {
      budget: { max: budget?.max(configured) ?? configured, used: () => budget?.subrequests ?? 0 },
      regions: s.config.regions.length,
    });
    if (!admission.admitted) throw tooManyStreams(admission);
    const sub = admission.subscriber;
    try {
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => streamHubs.release(sub, "aborted"));
        // Every await below is this request's own (timer, write, replica read): the hub hands over
        // plain data only, so no stream waits on another request's I/O.
        const ended = await streamHubs.serve(sub, {
          now_ms: () => Date.now(),
          sleep: async (ms) => {
            await stream.sleep(ms);
          },
          write: async (text) => {
            await stream.write(text);
          },
          // The nearest replica: every replica's ledger is a prefix of the chosen log, so reading on
          // from a cursor can neither skip nor repeat an entry.
          readPage: async (from, limit, onSubrequest) => {
            const page = await s.read({ mode: "local" }, (stub) => {
              onSubrequest();
              return stub.readEntries(from, limit);
            });
            return { entries: page.entries as Entry[], head: page.state.head };
          },
        });
        // A comment line (ignored by SSE clients) for whoever reads the stream by hand.
        if (ended !== "aborted") await stream.write(`: the stream ends (${ended}); reconnect with Last-Event-ID to resume\n\n`);
      });
    } catch (error) {
      streamHubs.release(sub, "error");
      throw error;
    }
  });

  app.openapi(routes.status, async (c) => {
    const ledger = ledgerOf(c);
    const s = service(c, ledger);
    const probes = await s.probeAll((stub) => stub.status());
    const acceptors = probes.map((p) => ({
      region: p.region,
      reachable: p.reachable,
      latency_ms: p.latency_ms,
      promised: p.value === undefined ? null : `${p.value.promised.round}.${p.value.promised.proposerId}`,
      chosenThrough: p.value?.chosenThrough ?? null,
      appliedSeq: p.value?.head.seq ?? null,
      headHash: p.value?.head.hash ?? null,
      ...(p.error === undefined ? {} : { error: p.error }),
    }));
    const reachable = acceptors.filter((a) => a.reachable);
    const bySeq = new Map<number, string>();
    let headsAgree = true;
    for (const a of reachable) {
      const seen = bySeq.get(a.appliedSeq!);
      if (seen !== undefined && seen !== a.headHash) headsAgree = false;
      bySeq.set(a.appliedSeq!, a.headHash!);
    }
    const recent = s.proposer.recentCommits(status_commit_window_ms);
    return c.json(
      {
        ledger,
        quorum: s.config.quorum,
        acceptors,
        headsAgree,
        // What this Worker isolate's proposer committed lately: another isolate has its own.
        commits: { window_s: recent.window_ms / 1000, commits: recent.commits, entries: recent.entries, latency_ms: recent.latency_ms },
      },
      200,
    );
  });

  app.openapi(routes.verify, async (c) => {
    const ledger = ledgerOf(c);
    const q = c.req.valid("query");
    const s = service(c, ledger);
    if (q.region !== undefined && !s.config.regions.includes(q.region)) {
      throw new ApiError(400, "invalid_request", `region ${q.region} holds no replica of this ledger`, { regions: s.config.regions });
    }
    const result = await s.verify(q.region);
    return c.json(
      {
        ledger,
        region: result.region,
        verified: result.brokenAt === undefined,
        checkedThrough: result.checkedThrough,
        head: headOf(result.head),
        complete: result.complete,
        ...(result.brokenAt === undefined ? {} : { brokenAt: result.brokenAt }),
      },
      200,
    );
  });

  // The vendored API reference script (wrangler.toml [assets], run_worker_first): only these paths
  // reach the asset store, so API requests pay no asset lookup.
  app.get("/vendor/*", (c) => c.env.ASSETS.fetch(c.req.raw));
  app.doc31("/openapi.json", (c) => ({ openapi: "3.1.0", info: openapi_info, servers: [{ url: new URL(c.req.url).origin }] }));
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

  // Fault injection for local runs, tests and benchmarks: absent (404) unless ALLOW_FAULT_INJECTION.
  app.on(["GET", "PUT"], "/v1/_faults", async (c) => {
    if (!ledgerConfig(c.env).faultInjection) {
      throw new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
    }
    // Faults apply to every ledger the isolate serves: only an admin key for every ledger may set them.
    await requireKey(c, "admin", "*");
    if (c.req.method === "PUT") {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new ApiError(400, "invalid_json", "the body is not valid JSON");
      }
      const parsed = faultConfigSchema.safeParse(body);
      if (!parsed.success) throw new ApiError(400, "invalid_request", "invalid fault configuration", issueDetails(parsed.error.issues));
      setFaults(parsed.data);
    }
    return c.json({ faults: currentFaults() });
  });

  registerBenchRoutes(app);
  documentTestingRoutes(app);
  return app;
}

/**
 * Benchmark-only routes (`npm run bench`), absent (404) unless ALLOW_FAULT_INJECTION, and only for
 * an admin key that holds every ledger:
 * - `PUT /v1/_bench/mode` `{"classic": true|false}`: classic Paxos (phase 1 before every commit) as
 *   the baseline mode, or Multi-Paxos; forgets every cached proposer;
 * - `POST /v1/_bench/reset`: forgets every cached proposer (the next request is a cold isolate's);
 * - `GET /v1/_bench/stats?ledger=`: the ledger's proposer counters (acceptor calls, slots, entries);
 * - `POST /v1/_bench/unreplicated/:ledger/entries`: the same append, applied straight to one Durable
 *   Object with no replication: the throughput baseline.
 */
function registerBenchRoutes(app: Hono<AppEnv>): void {
  const enabled = async (c: Context<AppEnv>) => {
    if (!ledgerConfig(c.env).faultInjection) throw new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
    await requireKey(c, "admin", "*");
  };
  app.put("/v1/_bench/mode", async (c) => {
    await enabled(c);
    const parsed = z.strictObject({ classic: z.boolean() }).safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw new ApiError(400, "invalid_request", "send {\"classic\": true|false}", issueDetails(parsed.error.issues));
    services.proposerOptions = parsed.data.classic ? { prepareEveryCommitForBaseline: true } : {};
    services.clear();
    return c.json({ classic: parsed.data.classic });
  });
  app.post("/v1/_bench/reset", async (c) => {
    await enabled(c);
    services.clear();
    return c.json({ reset: true });
  });
  app.get("/v1/_bench/stats", async (c) => {
    await enabled(c);
    const q = query(c, { ledger: z.string().regex(ledger_name) });
    const s = services.peek(q.ledger);
    return c.json({ ledger: q.ledger, stats: s?.proposer.stats ?? null });
  });
  app.post("/v1/_bench/unreplicated/:ledger/entries", async (c, next) => {
    await enabled(c);
    await next();
  }, appendPreamble("append"), appendBodyLimit, async (c) => {
    const ledger = ledgerOf(c);
    const entries = await readAppendBody(c);
    const stub = c.env.ACCEPTOR.getByName(`${ledger}:unreplicated`);
    const { body, created } = appendResult(ledger, await stub.appendUnreplicated(entries, Date.now()));
    return c.json(body, created ? 201 : 200);
  });
}

/**
 * The fault-injection and benchmark routes in the OpenAPI document too (every route the app serves
 * is there), under their own tag: they answer 404 unless ALLOW_FAULT_INJECTION is set, which only a
 * local `.dev.vars` ever does.
 */
function documentTestingRoutes(app: OpenAPIHono<AppEnv>): void {
  const tags = ["local testing (ALLOW_FAULT_INJECTION only)"];
  const security = [{ Bearer: [] }];
  const local_only = "Absent (404) unless ALLOW_FAULT_INJECTION is set; an admin key for every ledger (`*`).";
  const ok = (description: string) => ({ 200: { description }, 404: { description: "Fault injection is off." } });
  const faults = { "application/json": { schema: faultConfigSchema } };
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/_faults", tags, security, summary: "The faults in force", description: local_only, responses: ok("The fault configuration.") });
  app.openAPIRegistry.registerPath({
    method: "put",
    path: "/v1/_faults",
    tags,
    security,
    summary: "Set faults: regions down, added delay, simulated RTT from a region, jitter, loss",
    description: `${local_only} Applies to every ledger this isolate serves; \`{}\` heals.`,
    request: { body: { content: faults } },
    responses: ok("The fault configuration now in force."),
  });
  app.openAPIRegistry.registerPath({ method: "put", path: "/v1/_bench/mode", tags, security, summary: "Classic Paxos (phase 1 on every commit) or Multi-Paxos, for the benchmark's baseline", description: local_only, request: { body: { content: { "application/json": { schema: z.strictObject({ classic: z.boolean() }) } } } }, responses: ok("The mode.") });
  app.openAPIRegistry.registerPath({ method: "post", path: "/v1/_bench/reset", tags, security, summary: "Forget every cached proposer (the next request is a cold isolate's)", description: local_only, responses: ok("Reset.") });
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/_bench/stats", tags, security, summary: "A ledger's proposer counters", description: local_only, request: { query: z.object({ ledger: z.string().regex(ledger_name) }) }, responses: ok("The counters, or null.") });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/_bench/unreplicated/{ledger}/entries",
    tags,
    security,
    summary: "The same append, applied straight to one Durable Object with no replication (the throughput baseline)",
    description: local_only,
    request: { params: ledgerParams, body: { content: { "application/json": { schema: { $ref: "#/components/schemas/AppendRequest" } } } } },
    responses: ok("Receipts."),
  });
}
