/**
 * The interactive API reference in a real browser: `wrangler dev` serves `/docs`, whose script is
 * the vendored Scalar bundle (a static asset) and whose content is this Worker's `/openapi.json`.
 * Headless Debian Chromium (playwright-core) must render the operations with no page error and no
 * request to any other origin (each one is aborted and recorded). A screenshot goes to
 * test/e2e/artifacts/docs.png (git-ignored).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, project_root, WranglerDev } from "../../scripts/wrangler-dev.js";
import { browserTestsCanRun, chromium_path } from "./browser.js";

/** Scalar renders asynchronously; every wait is bounded by this. */
const render_wait_ms = 30_000;
const screenshot_path = join(project_root, "test/e2e/artifacts/docs.png");

let persistDir: string | undefined;
let dev: WranglerDev | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "quorum-ledger-docs-"));
  dev = await WranglerDev.start({ port: await freePort(), persistTo: persistDir, label: "docs", logLevel: "warn" });
  browser = await chromium.launch({
    executablePath: chromium_path,
    headless: true,
    // This machine's network is closed: no background traffic, no sandbox (root in CI).
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  if (persistDir !== undefined) await rm(persistDir, { recursive: true, force: true });
});

// Without Chromium: skipped with a printed message, or failed on CI (test/e2e/browser.ts).
describe.runIf(browserTestsCanRun("test/e2e/docs.test.ts"))("/docs in Chromium", () => {
  it("renders every API operation from /openapi.json, with no page error and nothing from another origin", async () => {
    const origin = dev!.url;
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const offOrigin: string[] = [];
    const pageErrors: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== origin) {
        offOrigin.push(url.href);
        return route.abort();
      }
      return route.continue();
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const res = await page.goto(`${origin}/docs`, { waitUntil: "load", timeout: render_wait_ms });
    expect(res?.status()).toBe(200);
    // The title, the first tag's operations (open), and every tag of the document in the sidebar.
    for (const text of [
      "Quorum Ledger API",
      "Append one entry, or an atomic batch",
      "Entries in seq order, a page at a time",
      "positions",
      "operations",
    ]) {
      await page.getByText(text, { exact: true }).first().waitFor({ timeout: render_wait_ms });
    }
    await mkdir(join(project_root, "test/e2e/artifacts"), { recursive: true });
    await page.screenshot({ path: screenshot_path });
    expect(pageErrors).toEqual([]);
    expect(offOrigin).toEqual([]);
    await context.close();
  });
});
