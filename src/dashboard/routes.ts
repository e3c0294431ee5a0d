/**
 * The operators' dashboard, served by the Worker: `GET /` answers the HTML page to a client that
 * asks for text/html (a browser) and the JSON service description to every other client; the page's
 * script, stylesheet, icon and uPlot come from `/assets/*`, out of the Worker bundle (text modules,
 * see the [[rules]] in wrangler.toml), so the page makes no request to any other origin. The script
 * is the bundle of src/dashboard/browser/ that scripts/build-dashboard.mjs generates before start,
 * test and build.
 *
 * Asset URLs in the page carry a content hash (`?v=`): with the current hash an asset is cached for
 * a year (immutable), without it for five minutes. The page itself is never cached, and its
 * Content-Security-Policy allows scripts, styles and fetches from this origin only.
 */
import type { Context, Hono } from "hono";
import uplotJs from "uplot/dist/uPlot.iife.min.js";
import uplotCss from "uplot/dist/uPlot.min.css";
import dashboardJs from "./generated/dashboard.browser.js";
import { dashboardHtml } from "./page.js";
import { dashboard_css } from "./styles.js";

const icon_svg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#14213d"/>' +
  '<path d="M7 22h4V12H7zm7 0h4V8h-4zm7 0h4V15h-4z" fill="#ffffff"/></svg>';

interface Asset {
  readonly body: string;
  readonly type: string;
}

/** The assets by name (`/assets/<name>`). */
const assets: Readonly<Record<string, Asset>> = {
  "dashboard.js": { body: dashboardJs, type: "text/javascript; charset=utf-8" },
  "dashboard.css": { body: dashboard_css, type: "text/css; charset=utf-8" },
  "uplot.js": { body: uplotJs, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: uplotCss, type: "text/css; charset=utf-8" },
  "icon.svg": { body: icon_svg, type: "image/svg+xml" },
};

export const content_security_policy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const security_headers: Readonly<Record<string, string>> = {
  "content-security-policy": content_security_policy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const asset_max_age_s = 300;
const asset_immutable_max_age_s = 365 * 24 * 3600;

/** FNV-1a (32 bits) of the text, in hex: a cache-busting version for the asset URLs, not a security hash. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

let versions: Map<string, string> | undefined;
let page: string | undefined;

/** The content hash of each asset, computed once per isolate on first use. */
function assetVersions(): Map<string, string> {
  versions ??= new Map(Object.entries(assets).map(([name, a]) => [name, fnv1a(a.body)]));
  return versions;
}

function assetUrl(name: string): string {
  return `/assets/${name}?v=${assetVersions().get(name)}`;
}

function pageHtml(): string {
  page ??= dashboardHtml({
    css: assetUrl("dashboard.css"),
    uplotCss: assetUrl("uplot.css"),
    uplotJs: assetUrl("uplot.js"),
    js: assetUrl("dashboard.js"),
    icon: assetUrl("icon.svg"),
  });
  return page;
}

/**
 * True when the Accept header lists text/html (or application/xhtml+xml) with a non-zero q: what
 * browsers send for a page. `*\/*` alone (curl, fetch, the test harness) is not enough: those get JSON.
 */
export function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/html" && type !== "application/xhtml+xml") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

export function registerDashboardRoutes<E extends { Bindings: Env }>(
  // biome-ignore lint/suspicious/noExplicitAny: any app's schema and base path: this only adds two GET routes to it
  app: Hono<E, any, any>,
  serviceInfo: (c: Context<E>) => Response,
): void {
  app.get("/", (c) => {
    c.header("vary", "Accept");
    if (!wantsHtml(c.req.header("accept"))) return serviceInfo(c);
    return c.html(pageHtml(), 200, { ...security_headers, "cache-control": "no-store" });
  });

  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (asset === undefined) return c.notFound();
    const version = assetVersions().get(name)!;
    const etag = `"${version}"`;
    const headers = {
      "content-type": asset.type,
      "x-content-type-options": "nosniff",
      etag,
      "cache-control":
        c.req.query("v") === version
          ? `public, max-age=${asset_immutable_max_age_s}, immutable`
          : `public, max-age=${asset_max_age_s}`,
    };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, headers);
  });
}
