/**
 * Authentication and authorization through the Worker (README, "The API"): `Authorization: Bearer
 * <key>`, scopes append/read/admin, and per-key ledgers. A refused request changes nothing.
 */
import { describe, expect, test } from "vitest";
import { test_keys } from "./bindings.js";
import {
  type ApiResponse,
  append,
  call,
  expectApiError,
  fill,
  get,
  head,
  type KeyName,
  ledgerPath,
  listAll,
  post,
  uniqueLedger,
} from "./http.js";

function expectUnauthorized(res: ApiResponse): void {
  expectApiError(res, 401, "unauthorized");
  expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/);
}

/** A ledger with one entry, and a check that it is still exactly so. */
async function seededLedger(prefix: string): Promise<{ ledger: string; unchanged: () => Promise<void> }> {
  const ledger = uniqueLedger(prefix);
  await append(ledger, fill("seed:1"));
  const before = await head(ledger);
  return {
    ledger,
    unchanged: async () => {
      expect(await head(ledger)).toEqual(before);
      expect((await listAll(ledger)).map((e) => e.id)).toEqual(["seed:1"]);
    },
  };
}

function postWithHeaders(
  ledger: string,
  headers: Record<string, string>,
  body: unknown = fill("x:1"),
): Promise<ApiResponse> {
  return call("POST", ledgerPath(ledger, "entries"), { key: null, body, headers });
}

describe("authentication", () => {
  test("no Authorization header is 401 unauthorized with WWW-Authenticate, for writes and reads", async () => {
    const { ledger, unchanged } = await seededLedger("auth-missing");
    expectUnauthorized(await post(ledgerPath(ledger, "entries"), fill("x:1"), null));
    for (const path of [
      "entries",
      "entries/1",
      "ids/seed:1",
      "head",
      "positions?account=ACC-1",
      "status",
      "verify",
      "stream",
    ]) {
      expectUnauthorized(await get(ledgerPath(ledger, path), null));
    }
    await unchanged();
  });

  test("an unknown key is 401", async () => {
    const { ledger, unchanged } = await seededLedger("auth-unknown");
    const res = await postWithHeaders(ledger, { authorization: "Bearer not-a-key" });
    expectUnauthorized(res);
    expect(res.text).not.toContain("not-a-key");
    expectUnauthorized(await get(ledgerPath(ledger, "entries"), null, { authorization: "Bearer not-a-key" }));
    // A known key's digest is not a key.
    expectUnauthorized(
      await get(ledgerPath(ledger, "entries"), null, {
        authorization: "Bearer 31a65195ae16798d1e0d6d435b997168cc1cc4175b7f8a46c1484ed962f7c041",
      }),
    );
    // A known key with something added.
    expectUnauthorized(
      await get(ledgerPath(ledger, "entries"), null, { authorization: `Bearer ${test_keys["test-all"]}x` }),
    );
    // A very long key.
    expectUnauthorized(await get(ledgerPath(ledger, "entries"), null, { authorization: `Bearer ${"k".repeat(4096)}` }));
    await unchanged();
  });

  test("a malformed Authorization header is 401", async () => {
    const { ledger, unchanged } = await seededLedger("auth-malformed");
    for (const authorization of [
      "Basic x",
      `Basic ${btoa(`user:${test_keys["test-all"]}`)}`,
      "Bearer",
      "Bearer ",
      test_keys["test-all"],
      `Bearer ${test_keys["test-all"]} extra`,
      `Token ${test_keys["test-all"]}`,
    ]) {
      expectUnauthorized(await postWithHeaders(ledger, { authorization }));
      expectUnauthorized(await get(ledgerPath(ledger, "head"), null, { authorization }));
    }
    await unchanged();
  });

  test("an unauthenticated request learns nothing about its body: 401 before validation", async () => {
    const { ledger, unchanged } = await seededLedger("auth-first");
    expectUnauthorized(await postWithHeaders(ledger, {}, { not: "an entry" }));
    expectUnauthorized(
      await call("POST", ledgerPath(ledger, "entries"), {
        key: null,
        rawBody: "{bad",
        headers: { "content-type": "text/plain" },
      }),
    );
    await unchanged();
  });
});

describe("scopes", () => {
  test("a read key cannot append (403 forbidden)", async () => {
    const { ledger, unchanged } = await seededLedger("scope-read");
    expectApiError(await post(ledgerPath(ledger, "entries"), fill("x:1"), "test-read"), 403, "forbidden");
    expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("x:2"), fill("x:3")] }, "test-read"),
      403,
      "forbidden",
    );
    // Not even a retry of an entry that exists.
    expectApiError(await post(ledgerPath(ledger, "entries"), fill("seed:1"), "test-read"), 403, "forbidden");
    await unchanged();
    // What it may do: read.
    expect((await get(ledgerPath(ledger, "entries"), "test-read")).status).toBe(200);
    expect((await get(ledgerPath(ledger, "ids/seed:1"), "test-read")).status).toBe(200);
    expect((await get(ledgerPath(ledger, "head"), "test-read")).status).toBe(200);
  });

  test("an append-only key cannot read (403 forbidden)", async () => {
    const { ledger, unchanged } = await seededLedger("scope-append");
    for (const path of [
      "entries",
      "entries/1",
      "ids/seed:1",
      "head",
      "positions?account=ACC-1",
      "status",
      "verify",
      "stream",
    ]) {
      expectApiError(await get(ledgerPath(ledger, path), "test-append"), 403, "forbidden");
    }
    await unchanged();
    // What it may do: append.
    const res = await post(ledgerPath(ledger, "entries"), fill("x:1"), "test-append");
    expect(res.status).toBe(201);
    expect((await head(ledger)).seq).toBe(2);
  });

  test("status and verify need the admin scope: read and append keys get 403", async () => {
    const { ledger, unchanged } = await seededLedger("scope-admin");
    for (const key of ["test-read", "test-append"] as const satisfies readonly KeyName[]) {
      expectApiError(await get(ledgerPath(ledger, "status"), key), 403, "forbidden");
      expectApiError(await get(ledgerPath(ledger, "verify"), key), 403, "forbidden");
    }
    expect((await get(ledgerPath(ledger, "status"), "test-all")).status).toBe(200);
    expect((await get(ledgerPath(ledger, "verify"), "test-all")).status).toBe(200);
    await unchanged();
  });
});

describe("per-ledger keys", () => {
  test("a key for one ledger works there, and is refused (403) on every other", async () => {
    const own = "only-this-ledger";
    const before = await head(own);
    const id = `own:${crypto.randomUUID()}`;
    const res = await post(ledgerPath(own, "entries"), fill(id), "test-one-ledger");
    expect(res.status).toBe(201);
    expect((await get(ledgerPath(own, `ids/${id}`), "test-one-ledger")).status).toBe(200);
    expect((await get(ledgerPath(own, "head"), "test-one-ledger")).json).toMatchObject({ seq: before.seq + 1 });
    expect((await get(ledgerPath(own, "status"), "test-one-ledger")).status).toBe(200);
    expect((await get(ledgerPath(own, "verify"), "test-one-ledger")).status).toBe(200);

    const { ledger: other, unchanged } = await seededLedger("only-this-ledger-not");
    expectApiError(await post(ledgerPath(other, "entries"), fill("x:1"), "test-one-ledger"), 403, "forbidden");
    for (const path of ["entries", "ids/seed:1", "head", "positions?account=ACC-1", "status", "verify"]) {
      expectApiError(await get(ledgerPath(other, path), "test-one-ledger"), 403, "forbidden");
    }
    // A name that only starts like its ledger is another ledger.
    expectApiError(await get(ledgerPath("only-this-ledger2", "head"), "test-one-ledger"), 403, "forbidden");
    await unchanged();
    expect((await get(ledgerPath(own, "head"))).json).toMatchObject({ seq: before.seq + 1 });
  });

  test("the fault-injection endpoint, when enabled, needs the admin scope on every ledger", async () => {
    expectUnauthorized(await get("/v1/_faults", null));
    expectApiError(await get("/v1/_faults", "test-read"), 403, "forbidden");
    expectApiError(await get("/v1/_faults", "test-append"), 403, "forbidden");
    // Faults apply to every ledger of the isolate, so a key limited to one ledger may not see or set them.
    expectApiError(await get("/v1/_faults", "test-one-ledger"), 403, "forbidden");
    expect((await get("/v1/_faults", "test-all")).status).toBe(200);
  });
});
