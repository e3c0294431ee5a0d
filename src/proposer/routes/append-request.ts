/**
 * An append request, read strictly before anything is proposed: its Content-Type and key, its size,
 * its `X-Deadline-Ms`, its body (UTF-8 JSON, each entry valid), and its answer. The v1 append and the
 * benchmark's unreplicated append (`routes/bench.ts`) read the same request the same way.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { EntryInput } from "../../core/entry-schema.js";
import { parseAppendBody } from "../../core/entry-schema.js";
import type { BatchOutcome, Receipt } from "../../core/ledger-types.js";
import { limits } from "../../core/limits.js";
import type { Scope } from "../auth.js";
import { ApiError, echo, issueDetails } from "../errors.js";
import { charsetsOf, isUtf8Label, parseJsonBody } from "../json-body.js";
import type { AppEnv } from "./app-env.js";
import { pathLedger, requireKey } from "./keys.js";

/** Request bodies larger than this are refused with 413. */
export const body_bytes_max = 1024 * 1024;

/** Route middleware: checks the key and the Content-Type of an append, before the body is read. */
export function appendPreamble(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await requireKey(c, scope, pathLedger(c));
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
    }
    // JSON is UTF-8 (RFC 8259 section 8.1): a body declared in another charset would be read as
    // other characters than the client meant, so it is refused rather than guessed at.
    const foreign = charsetsOf(type).find((charset) => !isUtf8Label(charset));
    if (foreign !== undefined) {
      throw new ApiError(
        415,
        "unsupported_media_type",
        "send the body as UTF-8 JSON: Content-Type: application/json (charset, if given, utf-8)",
        { charset: echo(foreign) },
      );
    }
    await next();
  };
}

/** Route middleware: 413 for a body over `body_bytes_max`, counted as it arrives. */
export const appendBodyLimit = bodyLimit({
  maxSize: body_bytes_max,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `the body exceeds ${body_bytes_max} bytes`);
  },
});

/** `X-Deadline-Ms`: whole milliseconds within the named bounds, or 400. */
export function appendDeadline_ms(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const min = limits.append_deadline_header_ms_min;
  const max = limits.append_deadline_header_ms_max;
  const value = /^[0-9]{1,9}$/.test(header.trim()) ? Number(header.trim()) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ApiError(
      400,
      "invalid_request",
      `X-Deadline-Ms must be a whole number of milliseconds from ${min} to ${max}`,
      {
        header: "X-Deadline-Ms",
        value: header.slice(0, 32),
      },
    );
  }
  return value;
}

/**
 * Validates an append's body: strict UTF-8 JSON with no repeated key (`json-body.ts`), at most
 * `request_entries_max` entries, each entry strictly. What is stored is what was sent, or nothing.
 */
export async function readAppendBody(c: Context<AppEnv>): Promise<EntryInput[]> {
  const json = parseJsonBody(new Uint8Array(await c.req.arrayBuffer()));
  if (!json.ok) {
    const { message, ...details } = json.problem;
    throw new ApiError(400, "invalid_json", message, details);
  }
  const body = json.value;
  if (
    typeof body === "object" &&
    body !== null &&
    "entries" in body &&
    Array.isArray(body.entries) &&
    body.entries.length > limits.request_entries_max
  ) {
    throw new ApiError(413, "too_many_entries", `a batch holds at most ${limits.request_entries_max} entries`, {
      entries: body.entries.length,
    });
  }
  const parsed = parseAppendBody(body);
  if (!parsed.success)
    throw new ApiError(400, "invalid_request", "the entry is invalid", issueDetails(parsed.error.issues));
  return parsed.data;
}

/** An append's answer: its receipts (201 when one was created, else 200), or 409 when refused. */
export function appendResult(
  ledger: string,
  outcome: BatchOutcome,
): { body: { ledger: string; results: Receipt[] }; created: boolean } {
  if (outcome.kind === "rejected") {
    const r = outcome.rejection;
    throw new ApiError(409, r.code, r.message, {
      index: r.index,
      id: r.id,
      ...(r.fields === undefined ? {} : { fields: r.fields }),
    });
  }
  return {
    body: { ledger, results: [...outcome.receipts] },
    created: outcome.receipts.some((r) => r.status === "created"),
  };
}
