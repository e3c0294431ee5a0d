/**
 * The OpenAPI document (`/openapi.json`) against the app that serves it: every route the app serves
 * is documented, every documented operation is served, every documented example validates against
 * the schema it illustrates, and the append examples are accepted by the real Worker. `/docs` loads
 * its script from this Worker, never from a CDN.
 */
import { describe, expect, test } from "vitest";
import {
  documented_schemas,
  idParams,
  ledgerParams,
  positionsQuery,
  seqParams,
} from "../../src/proposer/api-schemas.js";
import { createApp } from "../../src/proposer/app.js";
import { call, get, ledgerPath, post, uniqueLedger } from "./http.js";

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Array<{ name: string; in: string; schema?: { example?: unknown }; example?: unknown }> }
    >
  >;
  components: {
    schemas: Record<string, { example?: unknown; examples?: unknown[] }>;
    securitySchemes: Record<string, unknown>;
  };
}

async function openapiDocument(): Promise<OpenApiDocument> {
  const res = await get("/openapi.json", null);
  expect(res.status).toBe(200);
  return res.json as OpenApiDocument;
}

/** Routes that are pages and their assets, not the API: the dashboard, the docs, the document itself. */
const pages = [/^\/$/, /^\/docs$/, /^\/openapi\.json$/, /^\/assets\//, /^\/vendor\//];

/** Every (method, path) the app routes, in OpenAPI's `{param}` syntax, middleware left out. */
function servedRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const r of createApp().routes) {
    if (r.method === "ALL" || pages.some((p) => p.test(r.path))) continue;
    routes.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
  }
  return routes;
}

function documentedRoutes(doc: OpenApiDocument): Set<string> {
  const routes = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops)) routes.add(`${method} ${path}`);
  return routes;
}

describe("/openapi.json", () => {
  test("is an OpenAPI 3.1 document with the bearer scheme, served without a key", async () => {
    const doc = await openapiDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("Quorum Ledger API");
    expect(doc.components.securitySchemes).toHaveProperty("Bearer");
  });

  test("documents every route the app serves, and only those", async () => {
    const doc = await openapiDocument();
    const served = servedRoutes();
    expect(served.size).toBeGreaterThanOrEqual(15);
    expect([...documentedRoutes(doc)].sort()).toEqual([...served].sort());
  });

  test("every documented v1 operation is routed (none answers 'no route')", async () => {
    const doc = await openapiDocument();
    const ledger = uniqueLedger("openapi-routed");
    for (const route of documentedRoutes(doc)) {
      const [method, path] = route.split(" ") as [string, string];
      const url = path.replace("{ledger}", ledger).replace("{seq}", "1").replace("{id}", "x");
      // Without a key: a routed operation answers 401 before doing anything (the stream included).
      const res = await call(method.toUpperCase(), url, { key: null, ...(method === "get" ? {} : { body: {} }) });
      expect(res.status, route).toBe(401);
    }
  });

  test("every documented example validates against the schema it illustrates", async () => {
    const doc = await openapiDocument();
    let checked = 0;
    for (const [name, schema] of Object.entries(documented_schemas)) {
      const component = doc.components.schemas[name];
      expect(component, name).toBeDefined();
      const examples = [
        ...(component!.example === undefined ? [] : [component!.example]),
        ...(component!.examples ?? []),
      ];
      expect(examples.length, `${name} has an example`).toBeGreaterThan(0);
      for (const example of examples) {
        const result = schema.safeParse(example);
        expect(result.success, `${name}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
        checked++;
      }
    }
    // Parameter examples, against the parameter schemas.
    const params = {
      ...ledgerParams.shape,
      ...seqParams.shape,
      ...idParams.shape,
      account: positionsQuery.shape.account,
    };
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const p of op.parameters ?? []) {
          const example = p.example ?? p.schema?.example;
          if (example === undefined) continue;
          const schema = params[p.name as keyof typeof params];
          expect(schema, `a schema for parameter ${p.name}`).toBeDefined();
          expect(schema.safeParse(example).success, `parameter ${p.name} example ${JSON.stringify(example)}`).toBe(
            true,
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  test("the documented append examples are accepted by the ledger", async () => {
    const doc = await openapiDocument();
    const examples = doc.components.schemas.AppendRequest!.examples!;
    expect(examples.length).toBe(2);
    for (const example of examples) {
      const res = await post(ledgerPath(uniqueLedger("openapi-example"), "entries"), example);
      expect(res.status, res.text).toBe(201);
    }
  });
});

describe("/docs", () => {
  test("is an HTML page that loads its script from this Worker, not a CDN", async () => {
    const res = await get("/docs", null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain("/openapi.json");
    expect(res.text).toContain('src="/vendor/scalar-api-reference.js"');
    expect(res.text).not.toMatch(/https?:\/\/(?!ledger\.test)[a-z0-9.-]+\//i);
  });

  test("its script is served by the Worker from the vendored assets", async () => {
    const res = await get("/vendor/scalar-api-reference.js", null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.text.length).toBeGreaterThan(1_000_000);
  });
});
