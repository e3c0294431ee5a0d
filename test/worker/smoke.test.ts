import { exports } from "cloudflare:workers";
import { expect, test } from "vitest";
import { test_keys } from "./bindings.js";

test("append then read back through the Worker's own fetch", async () => {
  const auth = { authorization: `Bearer ${test_keys["test-all"]}` };
  const res = await exports.default.fetch("https://ledger.test/v1/ledgers/smoke-1/entries", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ id: "s:1", account: "A", symbol: "X", side: "buy", quantity: "1", price: "2" }),
  });
  expect(res.status).toBe(201);
  const head = await exports.default.fetch("https://ledger.test/v1/ledgers/smoke-1/head", { headers: auth });
  expect(await head.json()).toMatchObject({ seq: 1 });
});
