/**
 * The v1 HTTP API (DESIGN.md section 4) as a Hono app. It validates, authorizes, and hands the work
 * to the ledger's proposer (appends) or to a replica (reads); errors are always JSON.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { parseLedgerConfig, ConfigError, type LedgerConfig } from "../config.js";
import { parseAppendBody } from "../core/entry-schema.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { BatchOutcome, Entry, LedgerHead } from "../core/ledger-types.js";
import { limits } from "../core/limits.js";
import { ProposerOverloadedError, QuorumUnavailableError } from "../core/proposer.js";
import { region_hints } from "../core/region-rtt.js";
import { apiKeys, authenticate, authorize, type ApiKey, type Scope } from "./auth.js";
import { ApiError, errorResponse, issueDetails } from "./errors.js";
import { currentFaults, faultConfigSchema, setFaults } from "./faults.js";
import { registerDashboardRoutes } from "../dashboard/routes.js";
import { LedgerServices, ReplicaBehindError, type Consistency, type LedgerService } from "./ledger-service.js";

/** Request bodies larger than this are refused with 413. */
export const body_bytes_max = 1024 * 1024;
/** Entries one list page returns by default and at most. */
export const list_limit_default = 100;
export const list_limit_max = 1000;
/** A stream lives this long, then ends; the client reconnects with Last-Event-ID and misses nothing. */
export const stream_duration_ms_max = 5 * 60_000;
const stream_poll_interval_ms = 250;
const stream_heartbeat_ms = 15_000;
/** The status page's window of recent commits (this isolate's proposer for the ledger). */
export const status_commit_window_ms = 60_000;

const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;

type AppEnv = { Bindings: Env; Variables: { key: ApiKey } };

const services = new LedgerServices();
let configFrom: string | undefined;
let config: LedgerConfig | undefined;

function ledgerConfig(env: Env): LedgerConfig {
  const source = JSON.stringify([env.ACCEPTOR_REGIONS, env.QUORUM_PREPARE, env.QUORUM_ACCEPT, env.ALLOW_FAULT_INJECTION]);
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
    throw new ApiError(400, "invalid_ledger_name", `ledger names match ${ledger_name.source}`, { ledger });
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

const seqParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const consistencyParams = {
  consistency: z.enum(["linearizable", "local"]).optional(),
  minSeq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
};

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

/** Validates an append's body: JSON, at most `request_entries_max` entries, each entry strictly. */
async function readAppendBody(c: Context<AppEnv>): Promise<EntryInput[]> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch (error) {
    throw new ApiError(400, "invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body === "object" && body !== null && "entries" in body && Array.isArray(body.entries) && body.entries.length > limits.request_entries_max) {
    throw new ApiError(413, "too_many_entries", `a batch holds at most ${limits.request_entries_max} entries`, {
      entries: body.entries.length,
    });
  }
  const parsed = parseAppendBody(body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", "the entry is invalid", issueDetails(parsed.error.issues));
  return parsed.data;
}

function appendResponse(c: Context<AppEnv>, ledger: string, outcome: BatchOutcome): Response {
  if (outcome.kind === "rejected") {
    const r = outcome.rejection;
    throw new ApiError(409, r.code, r.message, { index: r.index, id: r.id });
  }
  const created = outcome.receipts.some((r) => r.status === "created");
  return c.json({ ledger, results: outcome.receipts }, created ? 201 : 200);
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
    await next();
  };
}

const appendBodyLimit = bodyLimit({
  maxSize: body_bytes_max,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `the body exceeds ${body_bytes_max} bytes`);
  },
});

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof QuorumUnavailableError || error instanceof ReplicaBehindError) {
      return errorResponse(c, unavailable(error.message));
    }
    if (error instanceof ProposerOverloadedError) {
      return errorResponse(c, new ApiError(429, "overloaded", error.message, undefined, { "Retry-After": "1" }));
    }
    console.error("unhandled error", error);
    return errorResponse(c, new ApiError(500, "internal", "internal error; it has been logged"));
  });
  app.notFound((c) => errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)));

  registerDashboardRoutes(app, (c) =>
    c.json({ service: "quorum-ledger", api: "/v1/ledgers/:ledger/...", docs: "/docs", openapi: "/openapi.json", regions: ledgerConfig(c.env).regions }),
  );

  app.post(
    "/v1/ledgers/:ledger/entries",
    appendPreamble("append"),
    appendBodyLimit,
    async (c) => {
      const ledger = ledgerOf(c);
      const entries = await readAppendBody(c);
      // The request stays alive until its slot is decided even if the client goes away: another
      // request may be waiting for it to drive the next round (group commit hands the turn on).
      const appended = service(c, ledger).proposer.append(entries, (work) => c.executionCtx.waitUntil(work));
      c.executionCtx.waitUntil(appended.catch(() => undefined));
      return appendResponse(c, ledger, await appended);
    },
  );

  app.get("/v1/ledgers/:ledger/entries", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const q = query(c, {
      after: seqParam.optional(),
      limit: z.coerce.number().int().min(1).max(list_limit_max).optional(),
      ...consistencyParams,
    });
    const limit = q.limit ?? list_limit_default;
    const after = q.after ?? 0;
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readEntries(after, limit));
    const entries = r.entries as Entry[];
    const last = entries.at(-1)?.seq;
    return c.json({ ledger, entries, next: last !== undefined && entries.length === limit ? last : null, head: headOf(r.state.head) });
  });

  app.get("/v1/ledgers/:ledger/entries/:seq", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).safeParse(c.req.param("seq"));
    if (!seq.success || !/^[0-9]+$/.test(c.req.param("seq"))) {
      throw new ApiError(400, "invalid_request", "seq must be a positive whole number");
    }
    const q = query(c, consistencyParams);
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readEntry(seq.data));
    if (r.entry === null) throw new ApiError(404, "not_found", `no entry at seq ${seq.data}`, { head: headOf(r.state.head) });
    return c.json({ ledger, entry: r.entry });
  });

  app.get("/v1/ledgers/:ledger/ids/:id", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const id = c.req.param("id");
    if (!/^[\x21-\x7e]{1,128}$/.test(id)) throw new ApiError(400, "invalid_request", "id must be 1 to 128 visible ASCII characters");
    const q = query(c, consistencyParams);
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readEntryById(id));
    if (r.entry === null) throw new ApiError(404, "not_found", `no entry with id ${id}`);
    return c.json({ ledger, entry: r.entry });
  });

  app.get("/v1/ledgers/:ledger/head", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const q = query(c, consistencyParams);
    const r = await service(c, ledger).read(consistencyOf(q), async (stub) => ({ state: await stub.readState() }));
    return c.json({ ledger, ...headOf(r.state.head) });
  });

  app.get("/v1/ledgers/:ledger/positions", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const q = query(c, { account: z.string().regex(/^[\x21-\x7e]{1,64}$/, "account must be 1 to 64 visible ASCII characters"), ...consistencyParams });
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readPositions(q.account));
    return c.json({ ledger, account: q.account, positions: r.positions, asOf: headOf(r.state.head) });
  });

  app.get("/v1/ledgers/:ledger/stream", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "read", ledger);
    const q = query(c, { after: seqParam.optional() });
    const lastEventId = c.req.header("last-event-id");
    const resumeFrom = lastEventId !== undefined && /^[0-9]{1,15}$/.test(lastEventId) ? Number(lastEventId) : undefined;
    let after = resumeFrom ?? q.after ?? 0;
    const s = service(c, ledger);
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      const started = Date.now();
      let lastWrite = Date.now();
      while (open && Date.now() - started < stream_duration_ms_max) {
        // The nearest replica: every replica's ledger is a prefix of the chosen log, so reading on
        // from `after` can neither skip nor repeat an entry.
        const page = await s.read({ mode: "local" }, (stub) => stub.readEntries(after, list_limit_max));
        for (const e of page.entries as Entry[]) {
          await stream.writeSSE({ id: String(e.seq), event: "entry", data: JSON.stringify(e) });
          after = e.seq;
          lastWrite = Date.now();
        }
        if (page.entries.length === list_limit_max) continue;
        if (Date.now() - lastWrite >= stream_heartbeat_ms) {
          await stream.writeSSE({ event: "heartbeat", data: JSON.stringify({ head: headOf(page.state.head) }) });
          lastWrite = Date.now();
        }
        await stream.sleep(stream_poll_interval_ms);
      }
    });
  });

  app.get("/v1/ledgers/:ledger/status", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "admin", ledger);
    query(c, {});
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
    return c.json({
      ledger,
      quorum: s.config.quorum,
      acceptors,
      headsAgree,
      // What this Worker isolate's proposer committed lately: another isolate has its own.
      commits: { window_s: recent.window_ms / 1000, commits: recent.commits, entries: recent.entries, latency_ms: recent.latency_ms },
    });
  });

  app.get("/v1/ledgers/:ledger/verify", async (c) => {
    const ledger = ledgerOf(c);
    await requireKey(c, "admin", ledger);
    const q = query(c, { region: z.enum(region_hints).optional() });
    const s = service(c, ledger);
    if (q.region !== undefined && !s.config.regions.includes(q.region)) {
      throw new ApiError(400, "invalid_request", `region ${q.region} holds no replica of this ledger`, { regions: s.config.regions });
    }
    const result = await s.verify(q.region);
    return c.json({
      ledger,
      region: result.region,
      verified: result.brokenAt === undefined,
      checkedThrough: result.checkedThrough,
      head: headOf(result.head),
      complete: result.complete,
      ...(result.brokenAt === undefined ? {} : { brokenAt: result.brokenAt }),
    });
  });

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
    return appendResponse(c, ledger, await stub.appendUnreplicated(entries, Date.now()));
  });
}
