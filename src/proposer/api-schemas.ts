/**
 * The API's schemas, once: the routes validate path and query parameters with them, the append body
 * with the core's entry schema, and `/openapi.json` is generated from the very same objects (with
 * their examples). The response schemas, which describe what the handlers send, live in
 * `src/api/responses.ts` because the client SDK takes its answer types from them too; they are
 * re-exported here for the routes. A test validates every documented example against its schema.
 */
import { z } from "@hono/zod-openapi";
import {
  acceptorStatusSchema,
  appendResponseSchema,
  entryResponseSchema,
  entrySchema,
  errorSchema,
  example_entry_input,
  headResponseSchema,
  headSchema,
  listResponseSchema,
  positionSchema,
  positionsResponseSchema,
  receiptSchema,
  statusResponseSchema,
  verifyResponseSchema,
} from "../api/responses.js";
import { batchBodySchema, entryInputSchema } from "../core/entry-schema.js";
import { limits } from "../core/limits.js";
import { region_hints } from "../core/region-rtt.js";

// The routes import every response schema from here, with the request schemas below.
export * from "../api/responses.js";

/** Entries one list page returns by default and at most. */
export const list_limit_default = 100;
export const list_limit_max = 1000;

export const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;

// ---- parameters -------------------------------------------------------------------------------

export const ledgerParams = z.object({
  ledger: z
    .string()
    .regex(ledger_name)
    .openapi({
      param: { name: "ledger", in: "path" },
      description: "The ledger's name: lowercase letters, digits and dashes.",
      example: "desk-1",
    }),
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
    .openapi({
      param: { name: "id", in: "path" },
      description: "An entry's id (1 to 128 visible ASCII characters).",
      example: "XNAS:exec-1001",
    }),
});

const seqQuery = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const consistencyShape = {
  consistency: z
    .enum(["linearizable", "local"])
    .optional()
    .openapi({ description: "linearizable (default) or local: the nearest replica, possibly behind." }),
  minSeq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().openapi({
    description: "Read-your-writes: any replica whose head has reached this seq (else a linearizable read).",
  }),
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
  after: seqQuery.optional().openapi({
    description: "Replay entries with seq above this one, then follow live. `Last-Event-ID` takes precedence.",
  }),
});
export const verifyQuery = z.strictObject({
  region: z.enum(region_hints).optional().openapi({ description: "The replica to verify (default: the nearest)." }),
});
export const noQuery = z.strictObject({});

// ---- bodies -----------------------------------------------------------------------------------

export const appendRequestSchema = z.union([entryInputSchema, batchBodySchema]).openapi("AppendRequest", {
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
    '`side`, `quantity` and `price` (compared as numbers: "10" equals "10.00"); otherwise the batch is refused ' +
    "with `409 bust_mismatch` and `details.fields` naming the fields that differ. A bust's own fee, times and " +
    "other fields are recorded but move no position. A correction or bust of another account or symbol, of a bust, " +
    "or of an entry already busted or corrected is `409 invalid_reference`.",
  examples: [
    example_entry_input,
    {
      entries: [
        example_entry_input,
        { ...example_entry_input, id: "XNAS:exec-1002", side: "sell", quantity: "40", price: "190.00" },
      ],
    },
  ],
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
