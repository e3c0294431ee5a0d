/**
 * The entry a front-end sends, validated strictly: unknown fields (a client-set `seq`, say) are
 * refused, money is a decimal string, times are RFC 3339. The HTTP API reuses these schemas.
 */
import { z } from "zod";
import { isDecimalString } from "./decimal.js";
import { limits } from "./limits.js";

const printable = /^[\x21-\x7e]+$/; // visible ASCII, no spaces: safe in URLs, logs and keys

const identifier = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .regex(printable, `${what} must be visible ASCII without spaces`);

/**
 * Refuses lone UTF-16 surrogates: they have no UTF-8 encoding, so canonical JSON (and so the hash
 * chain) cannot represent them. An entry that validated but could not be hashed would stop every
 * replica at its slot.
 */
const wellFormed = (schema: z.ZodString, what: string) =>
  schema.refine((s) => !/\p{Cs}/u.test(s), { message: `${what} must be well-formed Unicode (no lone surrogates)` });

/**
 * Refuses a metadata key `__proto__` (JSON.parse makes it an own key). A record copies keys into a
 * new object by assignment, where `__proto__` sets the prototype instead and vanishes: zod's record
 * skips it silently, and so would any client's `out[key] = value`. What is stored must be what was
 * sent, so it is refused, naming the key, rather than dropped or kept in a form readers lose.
 */
function refuseProtoKey(value: unknown, ctx: { issues: z.core.$ZodRawIssue[] }): unknown {
  if (typeof value === "object" && value !== null && Object.hasOwn(value, "__proto__")) {
    ctx.issues.push({
      code: "custom",
      path: ["__proto__"],
      message:
        "metadata key __proto__ is not allowed: JavaScript objects cannot hold it as a plain key; use another key",
      input: value,
    });
  }
  return value;
}

const decimalString = (what: string) =>
  z.string().refine(isDecimalString, {
    message:
      `${what} must be a decimal string such as "100.25" (at most ${limits.decimal_integer_digits_max} ` +
      `integer and ${limits.decimal_fraction_digits_max} fraction digits, no exponent)`,
  });

export const side_values = ["buy", "sell"] as const;
export const exec_type_values = ["trade", "correction", "bust"] as const;

export const entryInputSchema = z
  .strictObject({
    id: identifier("id", limits.id_chars_max),
    account: identifier("account", limits.name_chars_max),
    symbol: identifier("symbol", limits.name_chars_max),
    side: z.enum(side_values),
    quantity: decimalString("quantity").refine((s) => !s.startsWith("-") && /[1-9]/.test(s), {
      message: "quantity must be greater than zero",
    }),
    price: decimalString("price"),
    fee: decimalString("fee").optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "currency must be an ISO 4217 code such as USD")
      .optional(),
    venue: identifier("venue", limits.name_chars_max).optional(),
    orderId: identifier("orderId", limits.id_chars_max).optional(),
    clOrdId: identifier("clOrdId", limits.id_chars_max).optional(),
    execType: z.enum(exec_type_values).optional(),
    refId: identifier("refId", limits.id_chars_max).optional(),
    tradeTime: z.iso.datetime({ offset: true, message: "tradeTime must be an RFC 3339 date-time" }).optional(),
    metadata: z
      .preprocess(
        refuseProtoKey,
        z
          .record(
            wellFormed(z.string().min(1).max(limits.name_chars_max), "metadata key"),
            wellFormed(z.string().max(limits.text_chars_max), "metadata value"),
          )
          .refine((m) => Object.keys(m).length <= limits.metadata_keys_max, {
            message: `metadata may hold at most ${limits.metadata_keys_max} keys`,
          }),
      )
      .optional(),
  })
  .superRefine((e, ctx) => {
    const refers = e.execType === "correction" || e.execType === "bust";
    if (refers && e.refId === undefined) {
      ctx.addIssue({ code: "custom", path: ["refId"], message: `refId is required when execType is ${e.execType}` });
    }
    if (!refers && e.refId !== undefined) {
      ctx.addIssue({ code: "custom", path: ["refId"], message: "refId is only allowed on a correction or a bust" });
    }
    if (e.refId !== undefined && e.refId === e.id) {
      ctx.addIssue({ code: "custom", path: ["refId"], message: "an entry cannot refer to itself" });
    }
  });

export type EntryInput = z.infer<typeof entryInputSchema>;

export const entryBatchSchema = z
  .array(entryInputSchema)
  .min(1, "a batch holds at least one entry")
  .max(limits.request_entries_max, `a batch holds at most ${limits.request_entries_max} entries`)
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
      const first = seen.get(e.id);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id ${e.id} (also at index ${first})` });
      } else {
        seen.set(e.id, i);
      }
    });
  });

export const batchBodySchema = z.strictObject({ entries: entryBatchSchema });

/**
 * Parses the body of an append: one entry, or `{"entries": [...]}`. The two shapes are told apart by
 * the `entries` key so that each gets its own precise errors rather than a union's.
 */
export type AppendBodyParse = { success: true; data: EntryInput[] } | { success: false; error: z.ZodError };

export function parseAppendBody(body: unknown): AppendBodyParse {
  if (typeof body === "object" && body !== null && !Array.isArray(body) && "entries" in body) {
    const parsed = batchBodySchema.safeParse(body);
    return parsed.success ? { success: true, data: parsed.data.entries } : { success: false, error: parsed.error };
  }
  const parsed = entryInputSchema.safeParse(body);
  return parsed.success ? { success: true, data: [parsed.data] } : { success: false, error: parsed.error };
}
