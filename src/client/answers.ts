/**
 * The client's checks of an answer before it hands the answer out typed. They cover only what the
 * client relies on itself (a page's `entries` and `head`, each receipt's id, seq and status, ...), so
 * that a proxy's error page or a server of another version fails loudly here instead of surfacing as
 * `undefined` in the caller's code; the rest of the answer is taken as its schema says (a full parse
 * would bring zod into the SDK's runtime). The field names are typed by the answer types, which are
 * the schemas' (`types.ts`): a field renamed in `src/api/responses.ts` stops compiling here.
 */
import { isRecord, UnexpectedResponseError } from "./errors.js";
import type { Head } from "./types.js";

/** An answer not checked yet: the fields of `T`, each maybe missing and of a type still unknown. */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/** The error for an answer that is not the API's: what is wrong, and the start of the body. */
export function fail(what: string, body: unknown): never {
  throw new UnexpectedResponseError({
    code: "unexpected_response",
    message: `unexpected response: ${what} (${JSON.stringify(body)?.slice(0, 200)})`,
  });
}

/** The answer as an object whose fields are those of `T`, not checked yet; fails when it is no object. */
export function expectRecord<T>(body: unknown, what: string): Unchecked<T> {
  if (!isRecord(body)) fail(`${what} is not an object`, body);
  return body as Unchecked<T>;
}

export function expectHead(value: unknown, what: string): void {
  const head = expectRecord<Head>(value, what);
  if (typeof head.seq !== "number" || typeof head.hash !== "string") fail(`${what} lacks seq or hash`, value);
}
