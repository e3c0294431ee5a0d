/**
 * The local-only routes (fault injection and benchmarks: `src/proposer/routes/local-only.ts`) against
 * the production app: without ALLOW_FAULT_INJECTION every one of them answers exactly what a route
 * that does not exist answers, whatever key is sent; with it, each asks for an admin key for every
 * ledger. The routes checked are the ones the OpenAPI document lists under the local-only tag, so a
 * route added there is checked too.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { createApp } from "../../src/proposer/app.js";
import { local_only_docs } from "../../src/proposer/routes/local-only.js";
import { type ApiResponse, authHeader, get, readApiResponse } from "./http.js";

/** The production app with the test bindings, fault injection set to `flag`. */
async function fetchWith(
  flag: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<ApiResponse> {
  const ctx = createExecutionContext();
  const init: RequestInit = { method, headers: { ...headers, "content-type": "application/json" } };
  if (method !== "GET") init.body = "{}";
  const response = await createApp().fetch(
    new Request(`https://ledger.test${path}`, init),
    { ...env, ALLOW_FAULT_INJECTION: flag },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return readApiResponse(response);
}

/** Every documented local-only operation, `[METHOD, path]` with its parameters filled in. */
async function localOnlyOperations(): Promise<Array<[string, string]>> {
  const res = await get("/openapi.json", null);
  const doc = res.json as { paths: Record<string, Record<string, { tags?: string[] }>> };
  const operations: Array<[string, string]> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op.tags?.includes(local_only_docs.tags[0]!) !== true) continue;
      operations.push([method.toUpperCase(), `${path.replace("{ledger}", "local-only-test")}?ledger=local-only-test`]);
    }
  }
  return operations;
}

describe("local-only routes", () => {
  test("are documented: the fault and bench routes", async () => {
    const paths = (await localOnlyOperations()).map(([method, path]) => `${method} ${path.split("?")[0]}`);
    expect(paths.sort()).toEqual([
      "GET /v1/_bench/stats",
      "GET /v1/_faults",
      "POST /v1/_bench/reset",
      "POST /v1/_bench/unreplicated/local-only-test/entries",
      "PUT /v1/_bench/mode",
      "PUT /v1/_faults",
    ]);
  });

  test.each(["false", ""])(
    "answer as an unknown route does with ALLOW_FAULT_INJECTION=%j, with or without a key",
    async (flag) => {
      for (const [method, path] of await localOnlyOperations()) {
        const unknown = await fetchWith(flag, method, "/v1/_no-such-route", authHeader("test-all"));
        for (const headers of [authHeader("test-all"), authHeader("test-read"), {}]) {
          const res = await fetchWith(flag, method, path, headers);
          const route = `${method} ${path}`;
          expect(res.status, route).toBe(404);
          expect(res.json, route).toEqual({
            error: { code: "not_found", message: `no route for ${method} ${path.split("?")[0]}` },
          });
          expect([...res.headers.keys()].sort(), route).toEqual([...unknown.headers.keys()].sort());
        }
      }
    },
  );

  test("ask for an admin key for every ledger with ALLOW_FAULT_INJECTION=true", async () => {
    for (const [method, path] of await localOnlyOperations()) {
      const route = `${method} ${path}`;
      expect((await fetchWith("true", method, path, {})).status, route).toBe(401);
      expect((await fetchWith("true", method, path, authHeader("test-read"))).status, route).toBe(403);
      expect((await fetchWith("true", method, path, authHeader("test-one-ledger"))).status, route).toBe(403);
    }
  });
});
