/**
 * The operators' dashboard as the Worker serves it (src/dashboard/): `GET /` answers the page to a
 * browser and JSON to everyone else; the page embeds no key and loads only same-origin assets; the
 * assets come with their content types and cache headers; an unknown asset is the API's JSON 404.
 */
import { describe, expect, it } from "vitest";
import { test_keys } from "./bindings.js";
import { expectApiError, get } from "./http.js";

const browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

describe("GET /", () => {
  it("answers the page to a client that asks for HTML", async () => {
    const res = await get("/", null, { accept: browser_accept });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html\b/);
    expect(res.headers.get("vary") ?? "").toMatch(/accept/i);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(res.text).toMatch(/^<!doctype html>\s*<html lang="en">/);
    expect(res.text).toContain('type="password"');
    // No key, no inline script or style, nothing from another origin.
    for (const key of Object.values(test_keys)) expect(res.text).not.toContain(key);
    expect(res.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/<style|style="/);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    const assets = [...res.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.map((a) => a.replace(/\?.*$/, "")).sort()).toEqual(
      [
        "/assets/dashboard.css",
        "/assets/dashboard.js",
        "/assets/icon.svg",
        "/assets/uplot.css",
        "/assets/uplot.js",
      ].sort(),
    );
    for (const asset of assets) expect((await get(asset, null)).status).toBe(200);
  });

  it("answers JSON to a client that does not ask for HTML", async () => {
    for (const accept of [undefined, "*/*", "application/json", "text/html;q=0"]) {
      const res = await get("/", null, accept === undefined ? {} : { accept });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json\b/);
      expect(res.headers.get("vary") ?? "").toMatch(/accept/i);
      expect(res.json).toMatchObject({ service: "quorum-ledger" });
    }
  });
});

describe("GET /assets/*", () => {
  const cases = [
    ["dashboard.js", /^text\/javascript\b/, "SseParser"],
    ["dashboard.css", /^text\/css\b/, "--focus"],
    ["uplot.js", /^text\/javascript\b/, "uPlot"],
    ["uplot.css", /^text\/css\b/, ".uplot"],
    ["icon.svg", /^image\/svg\+xml\b/, "<svg"],
  ] as const;

  it.each(cases)("serves %s with its content type", async (name, type, sample) => {
    const res = await get(`/assets/${name}`, null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(type);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.text).toContain(sample);
  });

  it("caches a versioned URL for good and answers 304 to a matching If-None-Match", async () => {
    const page = await get("/", null, { accept: "text/html" });
    const url = /src="(\/assets\/dashboard\.js\?v=[0-9a-f]{8})"/.exec(page.text)?.[1];
    expect(url).toBeDefined();
    const res = await get(url!, null);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toMatch(/immutable/);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{8}"$/);
    const again = await get(url!, null, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
  });

  it("answers the API's JSON 404 for an unknown asset", async () => {
    for (const path of ["/assets/nope.js", "/assets/constructor", "/assets/__proto__", "/assets/"]) {
      expectApiError(await get(path, null), 404, "not_found");
    }
  });

  it("the script is a classic script that keeps the key in sessionStorage only", async () => {
    const text = (await get("/assets/dashboard.js", null)).text;
    // The bundle of src/dashboard/browser/ (scripts/build-dashboard.mjs): one strict function, no modules.
    expect(text).toMatch(/^"use strict";\s*\(\(\) => \{/);
    expect(text).not.toMatch(/^\s*(import|export)\s/m);
    expect(text).toMatch(/sessionStorage, key_storage/);
    expect(text).not.toMatch(/localStorage, key_storage/);
  });
});
