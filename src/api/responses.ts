/**
 * What the v1 API answers, as zod schemas: the one definition of every response shape. The server
 * documents its routes with them (`src/proposer/api-routes.ts`, `/openapi.json`, whose component
 * names and examples come from each schema's `.meta()`), and the client SDK takes its result types
 * from them (`src/client/types.ts`, type-only, so no zod reaches the SDK's runtime).
 *
 * Plain zod, not `@hono/zod-openapi`: the SDK's emitted declarations point here, and a consumer of
 * the SDK must be able to resolve them without the server's packages. `@asteasolutions/zod-to-openapi`
 * reads zod's own `.meta()` (`id` names the component) exactly as it reads `.openapi()`.
 */
import { z } from "zod";
import { entryInputSchema } from "../core/entry-schema.js";
import { region_hints } from "../core/region-rtt.js";

const hash_hex = /^[0-9a-f]{64}$/;
const decimal = z.string().regex(/^-?[0-9]+(\.[0-9]+)?$/);

/** The entry the examples show; the append request's examples (`api-schemas.ts`) send it. */
export const example_entry_input = {
  id: "XNAS:exec-1001",
  account: "ACC-1",
  symbol: "AAPL",
  side: "buy",
  quantity: "100",
  price: "187.25",
  fee: "1.00",
  currency: "USD",
  tradeTime: "2026-11-26T14:30:00Z",
} as const;
const example_hash = "9f2b6c1d0e3a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
const example_entry = {
  ...example_entry_input,
  seq: 1,
  slot: 1,
  committedAt: "2026-11-26T14:30:00.120Z",
  prevHash: "0".repeat(64),
  hash: example_hash,
};
const example_receipt = {
  id: "XNAS:exec-1001",
  status: "created",
  seq: 1,
  hash: example_hash,
  committedAt: "2026-11-26T14:30:00.120Z",
  slot: 1,
} as const;
const example_position = {
  account: "ACC-1",
  symbol: "AAPL",
  quantity: "100",
  costBasis: "18725",
  averagePrice: "187.25",
  realizedPnl: "-1",
  fees: "1",
  lastSeq: 1,
};
const example_head = { seq: 1, hash: example_hash, committedAt: "2026-11-26T14:30:00.120Z" };

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: "id_conflict" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({
    id: "Error",
    example: {
      error: {
        code: "id_conflict",
        message: "id XNAS:exec-1001 is already in the ledger at seq 1 with a different body",
        details: { index: 0, id: "XNAS:exec-1001" },
      },
    },
  });

export const receiptSchema = z
  .object({
    id: z.string(),
    status: z.enum(["created", "exists"]),
    seq: z.number().int().min(1),
    hash: z.string().regex(hash_hex),
    committedAt: z.iso.datetime(),
    slot: z.number().int().min(1),
  })
  .meta({ id: "Receipt", example: example_receipt });

export const appendResponseSchema = z
  .object({ ledger: z.string(), results: z.array(receiptSchema) })
  .meta({ id: "AppendResponse", example: { ledger: "desk-1", results: [example_receipt] } });

export const entrySchema = entryInputSchema
  .safeExtend({
    seq: z.number().int().min(1),
    slot: z.number().int().min(1),
    committedAt: z.iso.datetime(),
    prevHash: z.string().regex(hash_hex),
    hash: z.string().regex(hash_hex),
  })
  .meta({ id: "Entry", example: example_entry });

export const headSchema = z
  .object({ seq: z.number().int().min(0), hash: z.string().regex(hash_hex), committedAt: z.iso.datetime().nullable() })
  .meta({ id: "Head", example: example_head });

export const listResponseSchema = z
  .object({
    ledger: z.string(),
    entries: z.array(entrySchema),
    next: z.number().int().nullable().meta({ description: "The `after` of the next page; null on the last page." }),
    head: headSchema,
  })
  .meta({ id: "EntryPage", example: { ledger: "desk-1", entries: [example_entry], next: null, head: example_head } });

export const entryResponseSchema = z
  .object({ ledger: z.string(), entry: entrySchema })
  .meta({ id: "EntryResponse", example: { ledger: "desk-1", entry: example_entry } });

export const headResponseSchema = z
  .object({
    ledger: z.string(),
    seq: z.number().int().min(0),
    hash: z.string().regex(hash_hex),
    committedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "HeadResponse", example: { ledger: "desk-1", ...example_head } });

export const positionSchema = z
  .object({
    account: z.string(),
    symbol: z.string(),
    quantity: decimal.meta({ description: "Signed: positive long, negative short." }),
    costBasis: decimal,
    averagePrice: decimal,
    realizedPnl: decimal.meta({ description: "Realized trading P&L net of fees." }),
    fees: decimal,
    lastSeq: z.number().int().min(1),
  })
  .meta({ id: "Position", example: example_position });

export const positionsResponseSchema = z
  .object({ ledger: z.string(), account: z.string(), positions: z.array(positionSchema), asOf: headSchema })
  .meta({
    id: "Positions",
    example: { ledger: "desk-1", account: "ACC-1", positions: [example_position], asOf: example_head },
  });

export const acceptorStatusSchema = z
  .object({
    region: z.enum(region_hints),
    reachable: z.boolean(),
    latency_ms: z.number().nullable(),
    promised: z.string().nullable().meta({ description: "The ballot it promised, `round.proposerId`." }),
    chosenThrough: z.number().int().nullable(),
    appliedSeq: z.number().int().nullable(),
    headHash: z.string().nullable(),
    error: z.string().optional(),
  })
  .meta({
    id: "AcceptorStatus",
    example: {
      region: "weur",
      reachable: false,
      latency_ms: null,
      promised: null,
      chosenThrough: null,
      appliedSeq: null,
      headHash: null,
      error: "region weur is down",
    },
  });

export const statusResponseSchema = z
  .object({
    ledger: z.string(),
    quorum: z.object({ acceptors: z.number().int(), prepare: z.number().int(), accept: z.number().int() }),
    acceptors: z.array(acceptorStatusSchema),
    headsAgree: z
      .boolean()
      .meta({ description: "True when every reachable replica at the same seq has the same head hash." }),
    commits: z
      .object({
        window_s: z.number(),
        commits: z.number().int(),
        entries: z.number().int(),
        latency_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }).nullable(),
      })
      .meta({
        description:
          "What the ledger's coordinator (its one proposer, for every Worker) committed in the window; zeros when it cannot be reached.",
      }),
  })
  .meta({
    id: "Status",
    example: {
      ledger: "desk-1",
      quorum: { acceptors: 3, prepare: 2, accept: 2 },
      acceptors: (["enam", "wnam", "weur"] as const).map((region) => ({
        region,
        reachable: true,
        latency_ms: 4,
        promised: "1795000000000.p-1a2b",
        chosenThrough: 1,
        appliedSeq: 1,
        headHash: example_hash,
      })),
      headsAgree: true,
      commits: { window_s: 60, commits: 1, entries: 1, latency_ms: { p50: 24, p90: 24, p99: 24, max: 24 } },
    },
  });

export const verifyResponseSchema = z
  .object({
    ledger: z.string(),
    region: z.enum(region_hints),
    verified: z.boolean(),
    checkedThrough: z.number().int().min(0),
    head: headSchema,
    complete: z.boolean().meta({ description: "False when the replica holds more than one request verifies." }),
    brokenAt: z.number().int().optional().meta({ description: "The first seq whose hash does not match." }),
  })
  .meta({
    id: "Verification",
    example: {
      ledger: "desk-1",
      region: "enam",
      verified: true,
      checkedThrough: 1,
      head: example_head,
      complete: true,
    },
  });
