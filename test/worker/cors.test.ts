/**
 * CORS (src/proposer/cors.ts, `CORS_ALLOWED_ORIGINS`): the configuration is validated strictly, and
 * the Worker grants cross-origin access to the listed origins only. The Worker under test is the
 * production app (`createApp()`) run with the test bindings plus one `CORS_ALLOWED_ORIGINS`, since
 * the bindings every other test shares leave CORS off (the default, checked through the Worker's own
 * fetch).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, parseLedgerConfig } from "../../src/config.js";
import { createApp } from "../../src/proposer/app.js";
import { authHeader, call, uniqueLedger } from "./http.js";

const desk = "https://desk.example";
const local_front_end = "http://localhost:5173";
const stranger = "https://evil.example";

function originsOf(value: string | undefined): readonly string[] {
  return parseLedgerConfig({ CORS_ALLOWED_ORIGINS: value }).corsAllowedOrigins;
}

describe("CORS_ALLOWED_ORIGINS parsing", () => {
  it("is empty by default", () => {
    expect(originsOf(undefined)).toEqual([]);
    expect(originsOf("")).toEqual([]);
    expect(originsOf(" , ")).toEqual([]);
  });

  it("takes a comma-separated list of exact origins", () => {
    expect(originsOf(` ${desk}, ${local_front_end},http://[::1]:8080 `)).toEqual([
      desk,
      local_front_end,
      "http://[::1]:8080",
    ]);
  });

  it.each([
    ["*", /not an origin/],
    ["https://*.example.com", /not an origin/],
    ["desk.example", /not an origin/],
    ["null", /not an origin/],
    ["ftp://desk.example", /not an origin/],
    ["file:///tmp/page.html", /not an origin/],
    [`${desk}/`, /write it as https:\/\/desk\.example$/],
    [`${desk}/app`, /write it as https:\/\/desk\.example$/],
    [`${desk}?x=1`, /write it as https:\/\/desk\.example$/],
    ["https://Desk.Example", /write it as https:\/\/desk\.example$/],
    ["https://desk.example:443", /write it as https:\/\/desk\.example$/],
    ["https://user@desk.example", /write it as https:\/\/desk\.example$/],
    [`${desk},${desk}`, /listed twice/],
  ])("refuses %j", (value, message) => {
    expect(() => originsOf(value)).toThrow(ConfigError);
    expect(() => originsOf(value)).toThrow(message);
  });
});

/** The production app with the test bindings and this CORS configuration. */
async function fetchWith(origins: string, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(
    new Request(`https://ledger.test${path}`, init),
    { ...env, CORS_ALLOWED_ORIGINS: origins },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

function corsHeaderNames(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
}

function varyOf(response: Response): string[] {
  return (response.headers.get("vary") ?? "").split(",").map((v) => v.trim().toLowerCase());
}

const preflight = (origin: string, method = "POST"): RequestInit => ({
  method: "OPTIONS",
  headers: {
    origin,
    "access-control-request-method": method,
    "access-control-request-headers": "authorization, content-type",
  },
});

const fill = (id: string) => ({ id, account: "ACC-1", symbol: "AAPL", side: "buy", quantity: "10", price: "187.25" });

describe("CORS off (the default configuration)", () => {
  it("grants nothing: no Access-Control-* header on a preflight or an answer", async () => {
    const ledger = uniqueLedger("cors-off");
    const options = await call("OPTIONS", `/v1/ledgers/${ledger}/entries`, {
      key: null,
      headers: preflight(desk).headers as Record<string, string>,
    });
    expect(options.status).toBe(404);
    expect([...options.headers.keys()].filter((n) => n.startsWith("access-control-"))).toEqual([]);
    const head = await call("GET", `/v1/ledgers/${ledger}/head`, { headers: { origin: desk } });
    expect(head.status).toBe(200);
    expect([...head.headers.keys()].filter((n) => n.startsWith("access-control-"))).toEqual([]);
  });
});

describe("CORS with an allow-list", () => {
  const origins = `${desk}, ${local_front_end}`;

  it("answers a preflight from a listed origin 204 without a key", async () => {
    for (const origin of [desk, local_front_end]) {
      const response = await fetchWith(origins, `/v1/ledgers/${uniqueLedger("cors-pre")}/entries`, preflight(origin));
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
      expect(response.headers.get("access-control-allow-headers")?.toLowerCase().split(",")).toEqual([
        "authorization",
        "content-type",
        "x-deadline-ms",
        "last-event-id",
      ]);
      expect(response.headers.get("access-control-max-age")).toBe("600");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(varyOf(response)).toContain("origin");
      expect(await response.text()).toBe("");
    }
  });

  it("grants a listed origin on answers, errors included, and exposes Retry-After", async () => {
    const ledger = uniqueLedger("cors-post");
    const appended = await fetchWith(origins, `/v1/ledgers/${ledger}/entries`, {
      method: "POST",
      headers: { origin: desk, ...authHeader("test-all"), "content-type": "application/json" },
      body: JSON.stringify(fill("cors:1")),
    });
    expect(appended.status).toBe(201);
    expect(appended.headers.get("access-control-allow-origin")).toBe(desk);
    expect(appended.headers.get("access-control-expose-headers")).toBe("Retry-After");
    expect(varyOf(appended)).toContain("origin");
    expect(await appended.json()).toMatchObject({ results: [{ id: "cors:1", status: "created", seq: 1 }] });

    // A page must be able to read why it was refused.
    const refused = await fetchWith(origins, `/v1/ledgers/${ledger}/head`, { headers: { origin: local_front_end } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(local_front_end);
    expect(await refused.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("refuses a preflight from any other origin with 403 and no grant, and changes nothing", async () => {
    const ledger = uniqueLedger("cors-stranger");
    for (const origin of [
      stranger,
      `${desk}.evil.example`,
      "https://desk.example:8443",
      "http://desk.example",
      "null",
    ]) {
      const response = await fetchWith(origins, `/v1/ledgers/${ledger}/entries`, preflight(origin));
      expect(response.status).toBe(403);
      expect(corsHeaderNames(response)).toEqual([]);
      expect(varyOf(response)).toContain("origin");
      expect(await response.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    }
    const head = await call("GET", `/v1/ledgers/${ledger}/head`);
    expect(head.json).toMatchObject({ seq: 0 });
  });

  it("serves other origins and origin-less clients as before, without any grant", async () => {
    const ledger = uniqueLedger("cors-plain");
    const stranger_or_none: Array<Record<string, string>> = [{ origin: stranger }, {}];
    for (const headers of stranger_or_none) {
      const response = await fetchWith(origins, `/v1/ledgers/${ledger}/head`, {
        headers: { ...headers, ...authHeader("test-read") },
      });
      expect(response.status).toBe(200);
      expect(corsHeaderNames(response)).toEqual([]);
      expect(varyOf(response)).toContain("origin");
      await response.body?.cancel();
    }
  });

  it("keeps the page's own Vary (the dashboard varies by Accept)", async () => {
    const response = await fetchWith(origins, "/", { headers: { origin: desk, accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(varyOf(response)).toEqual(expect.arrayContaining(["accept", "origin"]));
    expect(response.headers.get("access-control-allow-origin")).toBe(desk);
    await response.body?.cancel();
  });

  it("answers 500 server_misconfigured, never a grant, when the list is invalid", async () => {
    const response = await fetchWith("*", "/v1/ledgers/any/entries", preflight(desk));
    expect(response.status).toBe(500);
    expect(corsHeaderNames(response)).toEqual([]);
    expect(await response.json()).toMatchObject({
      error: { code: "server_misconfigured", message: expect.stringMatching(/CORS_ALLOWED_ORIGINS/) },
    });
  });
});
