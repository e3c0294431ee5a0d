/**
 * The API's response shapes, checked at compile time: `npm run typecheck` compiles this file
 * (tsconfig.json includes test/worker) and fails on any mismatch; nothing here runs. The shapes are
 * defined once, by the zod schemas of `src/api/responses.ts`; this file checks the places that still
 * hold a shape of their own against them:
 *
 * 1. The client SDK's exported answer types are the schemas' outputs (read-only). They are derived,
 *    so a field added to a schema reaches SDK users by construction; the check keeps them derived.
 * 2. The core's `Entry`, `Receipt` and `Position` (`src/core/ledger-types.ts`): the server stores,
 *    hashes and sends these very objects, so each must be exactly its schema's shape. A field added,
 *    renamed or retyped in one and not the other fails here.
 * 3. The fields the client checks at runtime before it hands an answer out (`answers.ts`,
 *    `client.ts`, `chain.ts`, `stream.ts`, `errors.ts`), with the types those checks expect: a schema that renames or retypes
 *    one of them would make every real answer fail the client's check, so it fails here first.
 *
 * The `@ts-expect-error` sentinels at the end prove the assertions can fail.
 */
import { expectTypeOf } from "vitest";
import type { z } from "zod";
import type * as api from "../../src/api/responses.js";
import type * as sdk from "../../src/client/index.js";
import type * as core from "../../src/core/ledger-types.js";

/** The same shape with every `readonly` removed, at every depth: read-only-ness is not the wire's. */
type Plain<T> = T extends readonly (infer E)[]
  ? Plain<E>[]
  : T extends object
    ? { -readonly [K in keyof T]: Plain<T[K]> }
    : T;
/** What a schema says the server sends. */
type Wire<S extends z.ZodType> = Plain<z.output<S>>;

// ---- 1. the SDK's answer types are the schemas' -------------------------------------------------

expectTypeOf<Plain<sdk.Entry>>().toEqualTypeOf<Wire<typeof api.entrySchema>>();
expectTypeOf<Plain<sdk.Receipt>>().toEqualTypeOf<Wire<typeof api.receiptSchema>>();
expectTypeOf<Plain<sdk.Position>>().toEqualTypeOf<Wire<typeof api.positionSchema>>();
expectTypeOf<Plain<sdk.Head>>().toEqualTypeOf<Wire<typeof api.headSchema>>();
expectTypeOf<Plain<Omit<sdk.AppendResult, "created">>>().toEqualTypeOf<Wire<typeof api.appendResponseSchema>>();
expectTypeOf<sdk.AppendResult["created"]>().toEqualTypeOf<boolean>();
expectTypeOf<Plain<sdk.EntryPage>>().toEqualTypeOf<Wire<typeof api.listResponseSchema>>();
expectTypeOf<Plain<sdk.HeadResult>>().toEqualTypeOf<Wire<typeof api.headResponseSchema>>();
expectTypeOf<Plain<sdk.PositionsResult>>().toEqualTypeOf<Wire<typeof api.positionsResponseSchema>>();
expectTypeOf<Plain<sdk.AcceptorStatus>>().toEqualTypeOf<Wire<typeof api.acceptorStatusSchema>>();
expectTypeOf<Plain<sdk.LedgerStatus>>().toEqualTypeOf<Wire<typeof api.statusResponseSchema>>();
expectTypeOf<Plain<sdk.VerifyResult>>().toEqualTypeOf<Wire<typeof api.verifyResponseSchema>>();

// What the SDK's methods return is those types.
expectTypeOf<sdk.QuorumLedgerClient["list"]>().returns.resolves.toEqualTypeOf<sdk.EntryPage>();
expectTypeOf<sdk.QuorumLedgerClient["entry"]>().returns.resolves.toEqualTypeOf<sdk.Entry>();
expectTypeOf<sdk.QuorumLedgerClient["append"]>().returns.resolves.toEqualTypeOf<sdk.AppendResult>();
expectTypeOf<sdk.QuorumLedgerClient["status"]>().returns.resolves.toEqualTypeOf<sdk.LedgerStatus>();

// ---- 2. the core's types, which the server sends as they are, are the schemas' -------------------

expectTypeOf<Plain<core.Entry>>().toEqualTypeOf<Wire<typeof api.entrySchema>>();
expectTypeOf<Plain<core.Receipt>>().toEqualTypeOf<Wire<typeof api.receiptSchema>>();
expectTypeOf<Plain<core.Position>>().toEqualTypeOf<Wire<typeof api.positionSchema>>();

// ---- 3. what the client checks at runtime is in the schemas, with the checked types -------------

// answers.ts `expectHead`, on the head of a page and of `head()`.
expectTypeOf<sdk.Head>().toExtend<{ readonly seq: number; readonly hash: string }>();
expectTypeOf<sdk.HeadResult>().toExtend<{ readonly seq: number; readonly hash: string }>();
expectTypeOf<sdk.EntryPage>().toExtend<{
  readonly entries: readonly unknown[];
  readonly head: sdk.Head;
  readonly next: number | null;
}>();
// `append`: one receipt per entry sent, each naming the id sent, a seq and one of two statuses.
expectTypeOf<sdk.AppendResult>().toExtend<{ readonly results: readonly sdk.Receipt[] }>();
expectTypeOf<sdk.Receipt>().toExtend<{
  readonly id: sdk.EntryInput["id"];
  readonly seq: number;
  readonly status: "created" | "exists";
}>();
expectTypeOf<sdk.PositionsResult>().toExtend<{ readonly positions: readonly unknown[] }>();
expectTypeOf<sdk.LedgerStatus>().toExtend<{ readonly acceptors: readonly unknown[] }>();
expectTypeOf<sdk.VerifyResult>().toExtend<{ readonly verified: boolean }>();
// `entry`/`entryById` read `{ entry }` and compare its seq and id; chain.ts checks seq, prevHash, hash.
expectTypeOf<Wire<typeof api.entryResponseSchema>>().toExtend<{ entry: object }>();
expectTypeOf<sdk.Entry>().toExtend<{
  readonly id: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}>();
// errors.ts reads a non-2xx answer's `error.code` and `error.message` (and passes `details` on).
expectTypeOf<Wire<typeof api.errorSchema>>().toExtend<{
  error: { code: string; message: string; details?: unknown };
}>();

// ---- the assertions can fail ----------------------------------------------------------------------

// Each sentinel is one line, so that its directive covers the whole assertion.
type ReceiptWithAnExtraField = Plain<core.Receipt> & { venue: string };
type PositionWithARetypedField = Omit<Plain<core.Position>, "lastSeq"> & { lastSeq: string };
type HeadWithARenamedField = { readonly sequence: number; readonly hash: string };
// @ts-expect-error a field the schema lacks is a mismatch
expectTypeOf<ReceiptWithAnExtraField>().toEqualTypeOf<Wire<typeof api.receiptSchema>>();
// @ts-expect-error a field retyped is a mismatch
expectTypeOf<PositionWithARetypedField>().toEqualTypeOf<Wire<typeof api.positionSchema>>();
// @ts-expect-error a field renamed is a mismatch
expectTypeOf<sdk.Head>().toExtend<HeadWithARenamedField>();
