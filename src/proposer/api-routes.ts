/**
 * The v1 routes as OpenAPI route declarations (the API section of README.md; its design in docs/design.md): path, parameters, body and
 * responses, from the schemas of `api-schemas.ts`. `routes/ledger.ts` attaches a handler to each;
 * the parameters are validated by these schemas before the handler runs (after the key is checked),
 * and reach it typed (`c.req.valid("param")`).
 */
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { coordinator_answer_margin_ms } from "../core/coordinator/index.js";
import { limits } from "../core/limits.js";
import {
  appendResponseSchema,
  consistencyQuery,
  entryResponseSchema,
  errorSchema,
  headResponseSchema,
  idParams,
  ledgerParams,
  listQuery,
  listResponseSchema,
  noQuery,
  positionsQuery,
  positionsResponseSchema,
  seqParams,
  statusResponseSchema,
  streamQuery,
  verifyQuery,
  verifyResponseSchema,
} from "./api-schemas.js";

const json = <S>(schema: S) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(errorSchema) });

const read_errors = {
  400: error("Invalid ledger name, parameter or query (`invalid_ledger_name`, `invalid_request`)."),
  401: error("No API key, or an unknown one (`unauthorized`)."),
  403: error("The key lacks the scope or the ledger (`forbidden`)."),
  503: error("No quorum or replica answered in time (`quorum_unavailable`); retry after `Retry-After`."),
} as const;

const security = [{ Bearer: [] }];

/** Route middleware runs before the parameter validators: the key is checked first. */
type Middleware = MiddlewareHandler;

export function apiRoutes(auth: { append: Middleware; read: Middleware; admin: Middleware }, appendBody: Middleware[]) {
  return {
    append: createRoute({
      method: "post",
      path: "/v1/ledgers/{ledger}/entries",
      tags: ["entries"],
      summary: "Append one entry, or an atomic batch",
      description:
        "Committed once a quorum of regions holds it durably. Ids are idempotency keys: resending the same request returns the original receipts (`exists`). " +
        "`exists` means the id was in the ledger before this request; an entry this request created is `created`, even when an earlier attempt inside the server committed it. " +
        `The server answers within ${limits.commit_deadline_ms} ms (less with \`X-Deadline-Ms\`) plus the hop to the ledger's coordinator (at most ${coordinator_answer_margin_ms} ms more), and at once with 503 when it knows fewer than a quorum of regions can be reached. ` +
        "A 503 means the outcome is unknown (`details.outcome: unknown`; `details.proposed: false` when this request was never proposed, so it applied nothing itself): retrying the same ids is safe.",
      security,
      middleware: [auth.append, ...appendBody] as const,
      request: {
        params: ledgerParams,
        // Documented here, parsed by the handler (its bounds get a precise message).
        headers: z.object({
          "x-deadline-ms": z
            .string()
            .optional()
            .openapi({
              description:
                `The caller's deadline for this append, in whole milliseconds from ${limits.append_deadline_header_ms_min} to ${limits.append_deadline_header_ms_max}: ` +
                `the server answers by then, give or take the hop to the ledger's coordinator (at most ${coordinator_answer_margin_ms} ms more; 503, outcome unknown, if not committed). It caps the server's own ${limits.commit_deadline_ms} ms; ` +
                "a larger value has no further effect. Anything else is `400 invalid_request`. (`Request-Timeout` is not a standard request header, hence this one.) " +
                "Example: `X-Deadline-Ms: 1500`.",
            }),
        }),
        // Documented here, parsed by the handler itself (size limits first, then the entry schema),
        // so that its errors keep their precise codes.
        body: { required: true, content: json({ $ref: "#/components/schemas/AppendRequest" }) },
      },
      responses: {
        201: { description: "Committed; at least one entry was created.", content: json(appendResponseSchema) },
        200: {
          description: "Every entry already existed (an idempotent resend).",
          content: json(appendResponseSchema),
        },
        ...read_errors,
        409: error(
          "`id_conflict` (an id exists with another body) or `invalid_reference` (a bad refId); the batch applied nothing.",
        ),
        413: error(
          `Body over 1 MiB (\`payload_too_large\`) or more than ${limits.request_entries_max} entries (\`too_many_entries\`).`,
        ),
        415: error("Not `Content-Type: application/json` (`unsupported_media_type`)."),
        429: error("The proposer's queue is full (`overloaded`); retry after `Retry-After`."),
        503: error(
          "No quorum of regions could commit it in time (`quorum_unavailable`), answered as soon as fewer than a quorum can be reached and at the latest at the deadline; " +
            "`details.outcome` is `unknown` (retry the same request after `Retry-After`); `details.proposed` is false when this request itself was never proposed.",
        ),
      },
    }),
    list: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/entries",
      tags: ["entries"],
      summary: "Entries in seq order, a page at a time",
      security,
      middleware: [auth.read] as const,
      request: { params: ledgerParams, query: listQuery },
      responses: {
        200: { description: "A page of entries, with `next` and the head.", content: json(listResponseSchema) },
        ...read_errors,
      },
    }),
    entryBySeq: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/entries/{seq}",
      tags: ["entries"],
      summary: "One entry, by seq",
      security,
      middleware: [auth.read] as const,
      request: { params: seqParams, query: consistencyQuery },
      responses: {
        200: { description: "The entry.", content: json(entryResponseSchema) },
        ...read_errors,
        404: error("No entry at that seq."),
      },
    }),
    entryById: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/ids/{id}",
      tags: ["entries"],
      summary: "One entry, by id",
      security,
      middleware: [auth.read] as const,
      request: { params: idParams, query: consistencyQuery },
      responses: {
        200: { description: "The entry.", content: json(entryResponseSchema) },
        ...read_errors,
        404: error("No entry with that id."),
      },
    }),
    head: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/head",
      tags: ["entries"],
      summary: "The head: last seq, its hash and time",
      security,
      middleware: [auth.read] as const,
      request: { params: ledgerParams, query: consistencyQuery },
      responses: { 200: { description: "The head.", content: json(headResponseSchema) }, ...read_errors },
    }),
    positions: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/positions",
      tags: ["positions"],
      summary: "An account's positions (average cost)",
      security,
      middleware: [auth.read] as const,
      request: { params: ledgerParams, query: positionsQuery },
      responses: {
        200: { description: "Positions per symbol, as of a head.", content: json(positionsResponseSchema) },
        ...read_errors,
      },
    }),
    stream: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/stream",
      tags: ["entries"],
      summary: "Server-Sent Events: replay from a seq, then follow live",
      description:
        "Each entry is an event `entry` with `id` = its seq and `data` = the entry's JSON; `heartbeat` events carry the head when idle. " +
        "A stream ends after 5 minutes, or earlier when its client reads too slowly or its request's subrequest budget is nearly spent: " +
        "reconnect with `Last-Event-ID` (or `after`) and nothing is missed or repeated. " +
        "A server serves a bounded number of streams per ledger and per API key: beyond them it answers 429 `too_many_streams` with `Retry-After`.",
      security,
      middleware: [auth.read] as const,
      request: { params: ledgerParams, query: streamQuery },
      responses: {
        200: { description: "An event stream (`text/event-stream`)." },
        ...read_errors,
        429: error(
          "Too many open streams of this ledger or this API key on this server (`too_many_streams`); retry after `Retry-After`.",
        ),
      },
    }),
    status: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/status",
      tags: ["operations"],
      summary: "Per acceptor: reachable, latency, ballot, chosenThrough, applied head",
      security,
      middleware: [auth.admin] as const,
      request: { params: ledgerParams, query: noQuery },
      responses: {
        200: {
          description: "The acceptors' state and the ledger's recent commits.",
          content: json(statusResponseSchema),
        },
        ...read_errors,
      },
    }),
    verify: createRoute({
      method: "get",
      path: "/v1/ledgers/{ledger}/verify",
      tags: ["operations"],
      summary: "Recompute the hash chain on a replica",
      security,
      middleware: [auth.admin] as const,
      request: { params: ledgerParams, query: verifyQuery },
      responses: {
        200: { description: "Whether the chain verifies, and how far.", content: json(verifyResponseSchema) },
        ...read_errors,
      },
    }),
  } satisfies Record<string, RouteConfig>;
}
