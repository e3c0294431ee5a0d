/**
 * The v1 ledger routes (`/v1/ledgers/{ledger}/...`, declared in `api-routes.ts`): the append goes to
 * the ledger's coordinator (its one proposer), the reads to a replica (linearizable by default), the stream to the
 * per-ledger hub, status and verify to every acceptor or one. Each handler gets its ledger name, and
 * its other parameters, already validated from the route's param and query schemas.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { BatchOutcome, Entry, LedgerHead } from "../../core/ledger-types.js";
import { QuorumUnavailableError, type RecentCommits } from "../../core/proposer/index.js";
import { apiRoutes } from "../api-routes.js";
import { list_limit_default } from "../api-schemas.js";
import { ApiError } from "../errors.js";
import type { Consistency, LedgerService } from "../ledger-service.js";
import { currentRequestBudget } from "../request-budget.js";
import { streamHubs, tooManyStreams } from "../stream-hub.js";
import { type AppEnv, service } from "./app-env.js";
import { appendBodyLimit, appendDeadline_ms, appendPreamble, appendResult, readAppendBody } from "./append-request.js";
import { keyFor } from "./keys.js";

/** The status page's window of recent commits (the ledger's coordinator's). */
export const status_commit_window_ms = 60_000;

function consistencyOf(q: {
  consistency?: "linearizable" | "local" | undefined;
  minSeq?: number | undefined;
}): Consistency {
  if (q.minSeq !== undefined) return { mode: "local", minSeq: q.minSeq };
  return q.consistency === "local" ? { mode: "local" } : { mode: "linearizable" };
}

function headOf(h: LedgerHead): { seq: number; hash: string; committedAt: string | null } {
  return { seq: h.seq, hash: h.hash, committedAt: h.seq === 0 ? null : new Date(h.committedAt_ms).toISOString() };
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
    : "This request was not proposed, so it applied nothing (an earlier send of the same ids may have): " +
      "retrying the same request (same ids) is safe.";
  return new ApiError(
    503,
    "quorum_unavailable",
    `This append could not be committed: ${error.message}. ${conclusion}`,
    { outcome: "unknown", proposed: error.outcomeUnknown },
    { "Retry-After": "1" },
  );
}

/** The ledger's recent commits, or none when its coordinator does not answer (the status page still answers). */
async function recentCommitsOf(s: LedgerService): Promise<RecentCommits> {
  try {
    return await s.recentCommits(status_commit_window_ms);
  } catch {
    return { window_ms: status_commit_window_ms, commits: 0, entries: 0, latency_ms: null };
  }
}

/**
 * The group, mounted at `/` (its paths are whole). Validation failures go to the parent app's
 * `defaultHook` (app.ts), which `OpenAPIHono` resolves through the mount.
 */
export function ledgerRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const routes = apiRoutes({ append: appendPreamble("append"), read: keyFor("read"), admin: keyFor("admin") }, [
    appendBodyLimit,
  ]);

  app.openapi(routes.append, async (c) => {
    const { ledger } = c.req.valid("param");
    const deadline_ms = appendDeadline_ms(c.req.header("x-deadline-ms"));
    const entries = await readAppendBody(c);
    // The request stays alive until its slot is decided even if the client goes away: another
    // request may be waiting for it to drive the next round (group commit hands the turn on).
    const appended = service(c, ledger).append(
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
    const { ledger } = c.req.valid("param");
    const q = c.req.valid("query");
    const limit = q.limit ?? list_limit_default;
    const after = q.after ?? 0;
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readEntries(after, limit));
    const entries = r.entries as Entry[];
    const last = entries.at(-1)?.seq;
    const next = last !== undefined && entries.length === limit ? last : null;
    return c.json({ ledger, entries, next, head: headOf(r.state.head) }, 200);
  });

  app.openapi(routes.entryBySeq, async (c) => {
    const { ledger, seq: seqText } = c.req.valid("param");
    const seq = Number(seqText);
    const r = await service(c, ledger).read(consistencyOf(c.req.valid("query")), (stub) => stub.readEntry(seq));
    if (r.entry === null)
      throw new ApiError(404, "not_found", `no entry at seq ${seq}`, { head: headOf(r.state.head) });
    return c.json({ ledger, entry: r.entry }, 200);
  });

  app.openapi(routes.entryById, async (c) => {
    const { ledger, id } = c.req.valid("param");
    const r = await service(c, ledger).read(consistencyOf(c.req.valid("query")), (stub) => stub.readEntryById(id));
    if (r.entry === null) throw new ApiError(404, "not_found", `no entry with id ${id}`);
    return c.json({ ledger, entry: r.entry }, 200);
  });

  app.openapi(routes.head, async (c) => {
    const { ledger } = c.req.valid("param");
    const consistency = consistencyOf(c.req.valid("query"));
    const r = await service(c, ledger).read(consistency, async (stub) => ({ state: await stub.readState() }));
    return c.json({ ledger, ...headOf(r.state.head) }, 200);
  });

  app.openapi(routes.positions, async (c) => {
    const { ledger } = c.req.valid("param");
    const q = c.req.valid("query");
    const r = await service(c, ledger).read(consistencyOf(q), (stub) => stub.readPositions(q.account));
    return c.json({ ledger, account: q.account, positions: r.positions, asOf: headOf(r.state.head) }, 200);
  });

  app.openapi(routes.stream, async (c) => {
    const { ledger } = c.req.valid("param");
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
        if (ended !== "aborted")
          await stream.write(`: the stream ends (${ended}); reconnect with Last-Event-ID to resume\n\n`);
      });
    } catch (error) {
      streamHubs.release(sub, "error");
      throw error;
    }
  });

  app.openapi(routes.status, async (c) => {
    const { ledger } = c.req.valid("param");
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
    const recent = await recentCommitsOf(s);
    return c.json(
      {
        ledger,
        quorum: s.config.quorum,
        acceptors,
        headsAgree,
        // What the ledger's coordinator committed lately (every Worker's appends): zeros when it
        // cannot be reached, as the acceptors' probes above say whether the ledger can commit.
        commits: {
          window_s: recent.window_ms / 1000,
          commits: recent.commits,
          entries: recent.entries,
          latency_ms: recent.latency_ms,
        },
      },
      200,
    );
  });

  app.openapi(routes.verify, async (c) => {
    const { ledger } = c.req.valid("param");
    const q = c.req.valid("query");
    const s = service(c, ledger);
    if (q.region !== undefined && !s.config.regions.includes(q.region)) {
      throw new ApiError(400, "invalid_request", `region ${q.region} holds no replica of this ledger`, {
        regions: s.config.regions,
      });
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

  return app;
}
