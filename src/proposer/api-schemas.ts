/**
 * The API's schemas, once: the routes validate path and query parameters with them, the append body
 * with the core's entry schema, and `/openapi.json` is generated from the very same objects (with
 * their examples). Response schemas describe what the handlers send; a test validates every
 * documented example against them.
 */
import { z } from "@hono/zod-openapi";
import { batchBodySchema, entryInputSchema } from "../core/entry-schema.js";
import { limits } from "../core/limits.js";
import { region_hints } from "../core/region-rtt.js";

/** Entries one list page returns by default and at most. */
export const list_limit_default = 100;
export const list_limit_max = 1000;

export const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;
const hash_hex = /^[0-9a-f]{64}$/;

const example_entry_input = {
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
const example_receipt = { id: "XNAS:exec-1001", status: "created", seq: 1, hash: example_hash, committedAt: "2026-11-26T14:30:00.120Z", slot: 1 } as const;
const example_position = { account: "ACC-1", symbol: "AAPL", quantity: "100", costBasis: "18725", averagePrice: "187.25", realizedPnl: "-1", fees: "1", lastSeq: 1 };
const example_head = { seq: 1, hash: example_hash, committedAt: "2026-11-26T14:30:00.120Z" };

// ---- parameters -------------------------------------------------------------------------------

export const ledgerParams = z.object({
  ledger: z
    .string()
    .regex(ledger_name)
    .openapi({ param: { name: "ledger", in: "path" }, description: "The ledger's name: lowercase letters, digits and dashes.", example: "desk-1" }),
});
export const seqParams = ledgerParams.extend({
  seq: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/)
    .refine((s) => Number.isSafeInteger(Number(s)))
    .openapi({ param: { name: "seq", in: "path" }, description: "A seq: a positive whole number.", example: "1" }),
});
export const idParams = ledgerParams.extend({
  id: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/)
    .openapi({ param: { name: "id", in: "path" }, description: "An entry's id (1 to 128 visible ASCII characters).", example: "XNAS:exec-1001" }),
});

const seqQuery = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const consistencyShape = {
  consistency: z
    .enum(["linearizable", "local"])
    .optional()
    .openapi({ description: "linearizable (default) or local: the nearest replica, possibly behind." }),
  minSeq: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ description: "Read-your-writes: any replica whose head has reached this seq (else a linearizable read)." }),
};
/** Query parameters are strict: an unknown one (a typo) is refused rather than ignored. */
export const consistencyQuery = z.strictObject(consistencyShape);
export const listQuery = z.strictObject({
  after: seqQuery.optional().openapi({ description: "Entries with seq above this one (default 0)." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(list_limit_max)
    .optional()
    .openapi({ description: `Page size, 1 to ${list_limit_max} (default ${list_limit_default}).` }),
  ...consistencyShape,
});
export const positionsQuery = z.strictObject({
  account: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/, "account must be 1 to 64 visible ASCII characters")
    .openapi({ description: "The account whose positions to read.", example: "ACC-1" }),
  ...consistencyShape,
});
export const streamQuery = z.strictObject({
  after: seqQuery.optional().openapi({ description: "Replay entries with seq above this one, then follow live. `Last-Event-ID` takes precedence." }),
});
export const verifyQuery = z.strictObject({
  region: z.enum(region_hints).optional().openapi({ description: "The replica to verify (default: the nearest)." }),
});
export const noQuery = z.strictObject({});

// ---- bodies -----------------------------------------------------------------------------------

export const appendRequestSchema = z
  .union([entryInputSchema, batchBodySchema])
  .openapi("AppendRequest", {
    description:
      `One entry, or {"entries": [...]} with 1 to ${limits.request_entries_max} entries applied atomically. ` +
      "Money is a decimal string; unknown fields are refused; ids are the idempotency keys.\n\n" +
      "What is stored is exactly what was sent, or the request is refused: the body must be UTF-8 " +
      "(invalid bytes are `400 invalid_json`; a `charset` other than UTF-8 is `415 unsupported_media_type`; " +
      "a leading byte order mark is ignored), no object may hold the same key twice, at any depth " +
      "(`400 invalid_json`, `details.reason` `duplicate_key` with its `path` and `key`), and the metadata key " +
      "`__proto__` is refused (`400 invalid_request`).\n\n" +
      "A correction (`execType` `correction`, `refId`) replaces the fill it refers to and may change its side, " +
      "quantity, price and fee. A bust (`execType` `bust`, `refId`) cancels its fill and must repeat that fill's " +
      "`side`, `quantity` and `price` (compared as numbers: \"10\" equals \"10.00\"); otherwise the batch is refused " +
      "with `409 bust_mismatch` and `details.fields` naming the fields that differ. A bust's own fee, times and " +
      "other fields are recorded but move no position. A correction or bust of another account or symbol, of a bust, " +
      "or of an entry already busted or corrected is `409 invalid_reference`.",
    examples: [example_entry_input, { entries: [example_entry_input, { ...example_entry_input, id: "XNAS:exec-1002", side: "sell", quantity: "40", price: "190.00" }] }],
  });

// ---- responses --------------------------------------------------------------------------------

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "id_conflict" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error", {
    example: { error: { code: "id_conflict", message: "id XNAS:exec-1001 is already in the ledger at seq 1 with a different body", details: { index: 0, id: "XNAS:exec-1001" } } },
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
  .openapi("Receipt", { example: example_receipt });

export const appendResponseSchema = z
  .object({ ledger: z.string(), results: z.array(receiptSchema) })
  .openapi("AppendResponse", { example: { ledger: "desk-1", results: [example_receipt] } });

export const entrySchema = entryInputSchema
  .safeExtend({
    seq: z.number().int().min(1),
    slot: z.number().int().min(1),
    committedAt: z.iso.datetime(),
    prevHash: z.string().regex(hash_hex),
    hash: z.string().regex(hash_hex),
  })
  .openapi("Entry", { example: example_entry });

export const headSchema = z
  .object({ seq: z.number().int().min(0), hash: z.string().regex(hash_hex), committedAt: z.iso.datetime().nullable() })
  .openapi("Head", { example: example_head });

export const listResponseSchema = z
  .object({
    ledger: z.string(),
    entries: z.array(entrySchema),
    next: z.number().int().nullable().openapi({ description: "The `after` of the next page; null on the last page." }),
    head: headSchema,
  })
  .openapi("EntryPage", { example: { ledger: "desk-1", entries: [example_entry], next: null, head: example_head } });

export const entryResponseSchema = z
  .object({ ledger: z.string(), entry: entrySchema })
  .openapi("EntryResponse", { example: { ledger: "desk-1", entry: example_entry } });

export const headResponseSchema = z
  .object({ ledger: z.string(), seq: z.number().int().min(0), hash: z.string().regex(hash_hex), committedAt: z.iso.datetime().nullable() })
  .openapi("HeadResponse", { example: { ledger: "desk-1", ...example_head } });

const decimal = z.string().regex(/^-?[0-9]+(\.[0-9]+)?$/);
export const positionSchema = z
  .object({
    account: z.string(),
    symbol: z.string(),
    quantity: decimal.openapi({ description: "Signed: positive long, negative short." }),
    costBasis: decimal,
    averagePrice: decimal,
    realizedPnl: decimal.openapi({ description: "Realized trading P&L net of fees." }),
    fees: decimal,
    lastSeq: z.number().int().min(1),
  })
  .openapi("Position", { example: example_position });
export const positionsResponseSchema = z
  .object({ ledger: z.string(), account: z.string(), positions: z.array(positionSchema), asOf: headSchema })
  .openapi("Positions", { example: { ledger: "desk-1", account: "ACC-1", positions: [example_position], asOf: example_head } });

export const acceptorStatusSchema = z
  .object({
    region: z.enum(region_hints),
    reachable: z.boolean(),
    latency_ms: z.number().nullable(),
    promised: z.string().nullable().openapi({ description: "The ballot it promised, `round.proposerId`." }),
    chosenThrough: z.number().int().nullable(),
    appliedSeq: z.number().int().nullable(),
    headHash: z.string().nullable(),
    error: z.string().optional(),
  })
  .openapi("AcceptorStatus", {
    example: { region: "weur", reachable: false, latency_ms: null, promised: null, chosenThrough: null, appliedSeq: null, headHash: null, error: "region weur is down" },
  });

export const statusResponseSchema = z
  .object({
    ledger: z.string(),
    quorum: z.object({ acceptors: z.number().int(), prepare: z.number().int(), accept: z.number().int() }),
    acceptors: z.array(acceptorStatusSchema),
    headsAgree: z.boolean().openapi({ description: "True when every reachable replica at the same seq has the same head hash." }),
    commits: z
      .object({
        window_s: z.number(),
        commits: z.number().int(),
        entries: z.number().int(),
        latency_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }).nullable(),
      })
      .openapi({ description: "What this Worker isolate's proposer committed in the window; other isolates have their own." }),
  })
  .openapi("Status", {
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
    complete: z.boolean().openapi({ description: "False when the replica holds more than one request verifies." }),
    brokenAt: z.number().int().optional().openapi({ description: "The first seq whose hash does not match." }),
  })
  .openapi("Verification", {
    example: { ledger: "desk-1", region: "enam", verified: true, checkedThrough: 1, head: example_head, complete: true },
  });

/** Every named schema with examples: the OpenAPI test validates each example against its schema. */
export const documented_schemas = {
  AppendRequest: appendRequestSchema,
  Error: errorSchema,
  Receipt: receiptSchema,
  AppendResponse: appendResponseSchema,
  Entry: entrySchema,
  Head: headSchema,
  EntryPage: listResponseSchema,
  EntryResponse: entryResponseSchema,
  HeadResponse: headResponseSchema,
  Position: positionSchema,
  Positions: positionsResponseSchema,
  AcceptorStatus: acceptorStatusSchema,
  Status: statusResponseSchema,
  Verification: verifyResponseSchema,
} as const;
