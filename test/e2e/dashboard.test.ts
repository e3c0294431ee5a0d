/**
 * The operators' dashboard in a real browser: `wrangler dev` and a headless Chromium driven by
 * playwright-core (the Debian package, `/usr/bin/chromium`, or `CHROMIUM_PATH`).
 *
 * The page is opened, the dev key and a fresh ledger are typed in, and then, while a small load
 * appends entries through the API: the three regions show as reachable; an appended entry shows up
 * in the live tail, and the tail reconnects after failed connections to the stream (aborted in the
 * browser); `PUT /v1/_faults {"down":["weur"]}` makes weur show as DOWN (then healed, and it
 * comes back); the account's positions show up; axe-core finds no WCAG 2.0/2.1 A or AA violation
 * (with a region down and at the end). Throughout: no console error, no page error, no failed
 * request, and no request to any other origin (each one is aborted and recorded).
 *
 * Screenshots go to test/e2e/artifacts/ (git-ignored): dashboard.png (the end, all healthy) and
 * dashboard-weur-down.png. With UPDATE_SCREENSHOT=1 the run also writes docs/dashboard.png, the
 * README's picture: half a minute more load for the charts' history, then weur down (about 45 s
 * in all instead of about 20).
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import axe from "axe-core";
import { type Browser, type BrowserContext, chromium, type Page, type Route } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort, project_root, sleep, WranglerDev } from "../../scripts/wrangler-dev.js";
import { browserTestsCanRun, chromium_path } from "./browser.js";

// The functions passed to page.evaluate/waitForFunction run in the browser. This file is checked
// without the DOM library (tsconfig.node.json), so the little of the DOM they use is declared here.
interface InPageElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): InPageElement | null;
  querySelectorAll(selector: string): ArrayLike<InPageElement> & Iterable<InPageElement>;
  getElementById(id: string): InPageElement | null;
  readonly documentElement: { readonly outerHTML: string };
  readonly activeElement: unknown;
};
declare function getComputedStyle(element: unknown): { readonly outlineStyle: string };
declare const window: object;
declare const sessionStorage: Record<string, string>;

const api_key = "dev-key-quorum-ledger"; // .dev.vars.example: scopes append, read, admin
const read_only_key = "dev-read-key-quorum-ledger"; // scope read only
const regions = ["enam", "wnam", "weur"] as const;
/** Every wait for the page has this bound (the page polls the status every 2 s). */
const wait_ms = 15_000;
const request_timeout_ms = 10_000;
/** The background load: one small append this often, while the page is watched. */
const load_interval_ms = 400;
const load_requests_max = 200;
/** Entries per load request, in turn: the commit rate chart gets some shape. */
const load_batch_sizes = [1, 2, 1, 4, 1, 1, 3, 6, 2, 1] as const;
const update_screenshot = process.env.UPDATE_SCREENSHOT === "1";
/** Load and polls before the screenshot: one more poll, or half a minute of chart history for docs/. */
const screenshot_history_ms = update_screenshot ? 30_000 : 2_500;
/** How long weur stays down before the docs picture (two polls). */
const docs_down_ms = 4_000;
const screenshot_path = join(project_root, "test/e2e/artifacts/dashboard.png");
const screenshot_down_path = join(project_root, "test/e2e/artifacts/dashboard-weur-down.png");
const docs_screenshot_path = join(project_root, "docs/dashboard.png");
const axe_tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/** The live tail's requests (`/v1/ledgers/:ledger/stream?after=<seq>`). */
const stream_url = /\/v1\/ledgers\/[^/]+\/stream\?after=\d+$/;

const ledger = `dash-${randomBytes(4).toString("hex")}`;
const account = "ACC-1";

let persistDir: string | undefined;
let dev: WranglerDev | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page | undefined;

const consoleErrors: string[] = [];
const pageErrors: string[] = [];
const failedRequests: string[] = [];
const offOrigin: string[] = [];

function devUrl(): string {
  if (dev === undefined) throw new Error("wrangler dev is not running");
  return dev.url;
}

function thePage(): Page {
  if (page === undefined) throw new Error("no browser page");
  return page;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${devUrl()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${api_key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(request_timeout_ms),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

async function setFaults(faults: unknown): Promise<void> {
  const res = await api("PUT", "/v1/_faults", faults);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

let fillCount = 0;
function fill(symbol: string, side: "buy" | "sell", quantity: string, price: string): Record<string, string> {
  fillCount += 1;
  return { id: `dash:${fillCount}`, account, symbol, side, quantity, price, fee: "0.50", currency: "USD" };
}

async function append(entry: Record<string, string>): Promise<number> {
  const res = await api("POST", `/v1/ledgers/${ledger}/entries`, entry);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return (res.json as { results: Array<{ seq: number }> }).results[0]!.seq;
}

// A small steady load, so that the tail moves and the charts have something to draw.
let loadRunning = false;
let loadDone: Promise<void> = Promise.resolve();
const loadErrors: string[] = [];
function startLoad(): void {
  loadRunning = true;
  const symbols = ["AAPL", "MSFT", "NVDA"] as const;
  loadDone = (async () => {
    for (let i = 0; loadRunning && i < load_requests_max; i++) {
      try {
        const size = load_batch_sizes[i % load_batch_sizes.length]!;
        const entries = Array.from({ length: size }, (_, j) => {
          const n = i * 4 + j;
          return fill(
            symbols[n % symbols.length]!,
            n % 5 === 4 ? "sell" : "buy",
            String(10 + (n % 7)),
            (100 + (n % 40) * 0.25).toFixed(2),
          );
        });
        const res = await api("POST", `/v1/ledgers/${ledger}/entries`, { entries });
        if (res.status !== 201) loadErrors.push(`${res.status} ${JSON.stringify(res.json)}`);
      } catch (error) {
        loadErrors.push(String(error));
      }
      await sleep(load_interval_ms);
    }
  })();
}

/** Takes the console errors that a step expects (and only those) off the list. */
function expectedConsoleErrors(pattern: RegExp): void {
  const expected = consoleErrors.filter((e) => pattern.test(e));
  expect(expected.length).toBeGreaterThan(0);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !pattern.test(e)));
}

/** A bounded wait for the page; on timeout, says what the page showed. */
async function waitInPage(what: string, predicate: (arg: number) => boolean, arg = 0): Promise<void> {
  try {
    await thePage().waitForFunction(predicate, arg, { timeout: wait_ms, polling: 100 });
  } catch (error) {
    const shown = await thePage()
      .evaluate(() =>
        [
          "connection-state",
          "regions-summary",
          "regions-error",
          "tail-state",
          "tail-error",
          "positions-state",
          "positions-error",
        ]
          .map((id) => `${id}: ${document.getElementById(id)?.textContent ?? "(none)"}`)
          .join("\n"),
      )
      .catch(() => "(the page did not answer)");
    throw new Error(
      `${what}: not within ${wait_ms} ms (${String(error).split("\n")[0]})\nthe page showed:\n${shown}\nconsole errors: ${JSON.stringify(consoleErrors)}`,
    );
  }
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/** axe-core in the page, WCAG 2.0 and 2.1 levels A and AA; returns one line per violated node. */
async function axeViolations(): Promise<string[]> {
  const rules_passed_min = 10; // a run that checked (almost) nothing is a broken run, not a clean page
  const p = thePage();
  // Evaluated through the DevTools protocol, so the page's CSP (scripts from 'self' only) allows it.
  if (!(await p.evaluate(() => "axe" in window))) await p.evaluate(axe.source);
  const { passes, violations } = await p.evaluate(async (tags) => {
    const w = window as {
      axe?: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[]; passes: unknown[] }> };
    };
    if (w.axe === undefined) throw new Error("axe-core is not in the page");
    const result = await w.axe.run(document, { runOnly: { type: "tag", values: tags } });
    return {
      passes: result.passes.length,
      violations: result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
      })),
    };
  }, axe_tags);
  expect(passes).toBeGreaterThanOrEqual(rules_passed_min);
  return violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(n.target)}: ${n.failureSummary ?? ""}`),
  );
}

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "quorum-ledger-dashboard-"));
  const [started, launched] = await Promise.all([
    WranglerDev.start({ port: await freePort(), persistTo: persistDir, label: "dashboard" }),
    chromium.launch({
      executablePath: chromium_path,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
  ]);
  dev = started;
  browser = launched;
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US", timezoneId: "UTC" });
  const origin = devUrl();
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin) {
      offOrigin.push(url.href);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("requestfailed", (r) => {
    const failure = r.failure()?.errorText ?? "";
    // The page aborts its own requests when it reconnects or closes; anything else is a failure.
    if (failure !== "net::ERR_ABORTED") failedRequests.push(`${r.method()} ${r.url()}: ${failure}`);
  });
}, 120_000);

afterAll(async () => {
  loadRunning = false;
  await loadDone.catch(() => undefined);
  if (dev !== undefined) await setFaults({}).catch(() => undefined);
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  if (dev !== undefined) {
    try {
      await dev.stop();
    } catch (error) {
      console.error(`cleanup: ${String(error)}`);
      dev.killNow();
    }
  }
  if (persistDir !== undefined) await rm(persistDir, { recursive: true, force: true, maxRetries: 3 });
}, 60_000);

// Without Chromium: skipped with a printed message, or failed on CI (test/e2e/browser.ts).
describe.runIf(browserTestsCanRun("test/e2e/dashboard.test.ts"))("the operators' dashboard in Chromium", () => {
  // The steps build on each other: after a failure the rest are skipped (the screenshot still runs).
  let failedStep: string | undefined;
  beforeEach((ctx) => {
    if (failedStep !== undefined && !ctx.task.name.startsWith("writes a screenshot"))
      ctx.skip(`after the failure of: ${failedStep}`);
    ctx.onTestFailed(() => {
      failedStep ??= ctx.task.name;
    });
  });

  it("loads from the Worker alone, with no console error", async () => {
    const p = thePage();
    const res = await p.goto(`${devUrl()}/`, { waitUntil: "load", timeout: wait_ms });
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-type"]).toMatch(/^text\/html/);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await p.locator("#rate-chart canvas").waitFor({ timeout: wait_ms }); // uPlot drew
    await p.locator("#latency-chart canvas").waitFor({ timeout: wait_ms });
    expect(await p.getAttribute("html", "lang")).toBe("en");
    expect(await p.getByLabel("API key").getAttribute("type")).toBe("password");
    // Keyboard: the skip link comes first, then the key field, and focus is visible on both.
    for (const expected of ["skip", "api-key"]) {
      await p.keyboard.press("Tab");
      const focused = await p.evaluate(() => {
        const el = document.activeElement as (InPageElement & { id: string; className: string }) | null;
        return el === null ? null : { id: el.id, className: el.className, outline: getComputedStyle(el).outlineStyle };
      });
      expect(focused === null ? null : focused.id || focused.className).toBe(expected);
      expect(focused?.outline).not.toBe("none");
    }
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(offOrigin).toEqual([]);
  });

  it("shows a refused key (401) and a key without the admin scope (403) in the page", async () => {
    await append(fill("AAPL", "buy", "100", "187.25")); // the ledger exists before the page looks at it
    const p = thePage();
    await p.getByLabel("Ledger").fill(ledger);
    await p.getByLabel("API key").fill("not-a-key");
    await p.getByRole("button", { name: "Connect", exact: true }).click();
    await waitInPage("the refused key", () =>
      (document.getElementById("connection-state")?.textContent ?? "").includes("not accepted"),
    );
    const panelErrors = await p.locator("#regions-error, #tail-error").allTextContents();
    expect(panelErrors.join(" ")).toMatch(/not accepted \(401 unauthorized\)/);
    await p.getByLabel("API key").fill(read_only_key);
    await p.getByRole("button", { name: "Connect", exact: true }).click();
    await waitInPage("the missing admin scope", () =>
      (document.getElementById("regions-error")?.textContent ?? "").includes("admin scope"),
    );
    await waitInPage(
      "the tail, which a read key may see",
      () => document.querySelector("#tail-body tr[data-seq]") !== null,
    );
    // The browser logs each 4xx response itself ("Failed to load resource"); the page threw nothing.
    expectedConsoleErrors(/the server responded with a status of (401|403)/);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("shows the three regions reachable once the key and ledger are entered", async () => {
    const p = thePage();
    await p.getByLabel("API key").fill(api_key);
    await p.getByLabel("Ledger").fill(ledger);
    await p.getByRole("button", { name: "Connect", exact: true }).click();
    startLoad();
    await waitInPage(
      "three reachable regions",
      () => document.querySelectorAll('#regions-body tr[data-reachable="true"]').length === 3,
    );
    const rows = await p
      .locator("#regions-body tr")
      .evaluateAll((trs) =>
        trs.map((tr) => ({ region: (tr as unknown as InPageElement).dataset.region, text: tr.textContent ?? "" })),
      );
    expect(rows.map((r) => r.region).sort()).toEqual([...regions].sort());
    for (const r of rows) expect(r.text).toContain("reachable");
    await expect(p.locator("#heads-agree").textContent()).resolves.toMatch(/agree/i);
    // The key is in this tab's session storage, and nowhere in the document.
    expect(await p.evaluate(() => Object.values(sessionStorage))).toContain(api_key);
    expect(await p.evaluate((k) => document.documentElement.outerHTML.includes(k), api_key)).toBe(false);
  });

  it("shows an entry appended through the API in the live tail", async () => {
    const entry = fill("MSFT", "buy", "7", "411.10");
    const seq = await append(entry);
    await waitInPage(
      `entry ${entry.id} in the tail`,
      (n) => document.querySelector(`#tail-body tr[data-seq="${n}"]`) !== null,
      seq,
    );
    const row = await thePage().locator(`#tail-body tr[data-seq="${seq}"]`).textContent();
    expect(row).toContain(entry.id);
    expect(row).toContain("MSFT");
    // Newest first, and bounded.
    const seqs = await thePage()
      .locator("#tail-body tr")
      .evaluateAll((trs) => trs.map((tr) => Number((tr as unknown as InPageElement).dataset.seq)));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(seqs.length).toBeLessThanOrEqual(50);
  });

  it("reconnects the live tail after failed connections, and the tail goes on", async () => {
    const p = thePage();
    const stream_failures = 2;
    let failed = 0;
    // The next connections to the stream fail at the network: the page says so, waits (the SDK's
    // backoff), and connects again from the last seq it showed.
    const failStream = (route: Route) => {
      if (failed >= stream_failures) return route.fallback();
      failed += 1;
      return route.abort("connectionfailed");
    };
    await p.route(stream_url, failStream);
    try {
      await p.getByRole("button", { name: "Connect", exact: true }).click();
      await waitInPage("the failed stream, shown", () =>
        /network request failed.*Reconnecting in about \d+ s\./.test(
          document.getElementById("tail-error")?.textContent ?? "",
        ),
      );
      await waitInPage("the tail live again", () =>
        (document.getElementById("tail-state")?.textContent ?? "").startsWith("Live"),
      );
      expect(failed).toBe(stream_failures);
      const entry = fill("NVDA", "buy", "3", "120.50");
      const seq = await append(entry);
      await waitInPage(
        `entry ${entry.id} in the tail after the reconnect`,
        (n) => document.querySelector(`#tail-body tr[data-seq="${n}"]`) !== null,
        seq,
      );
    } finally {
      await p.unroute(stream_url, failStream);
    }
    // The failures this step caused, and only those, come off the lists.
    const caused = /ERR_CONNECTION_FAILED/;
    expect(failedRequests.filter((r) => caused.test(r)).length).toBe(stream_failures);
    failedRequests.splice(0, failedRequests.length, ...failedRequests.filter((r) => !caused.test(r)));
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !caused.test(e)));
    expect(failedRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("shows weur as DOWN when it is taken down, and reachable again once healed", async () => {
    await setFaults({ down: ["weur"] });
    await waitInPage("weur shown as down", () => {
      const row = document.querySelector('#regions-body tr[data-region="weur"]');
      return row?.getAttribute("data-reachable") === "false" && (row.textContent ?? "").includes("DOWN");
    });
    expect(await thePage().locator("#regions-summary").textContent()).toMatch(/^2 of 3 replicas reachable/);
    expect(await axeViolations()).toEqual([]); // the DOWN state's colours and text too
    await mkdir(dirname(screenshot_down_path), { recursive: true });
    await thePage().screenshot({ path: screenshot_down_path, fullPage: false });
    await setFaults({});
    await waitInPage(
      "weur reachable again",
      () => document.querySelectorAll('#regions-body tr[data-reachable="true"]').length === 3,
    );
  });

  it("shows the account's positions", async () => {
    const p = thePage();
    await p.getByLabel("Account").fill(account);
    await p.getByRole("button", { name: "Show positions" }).click();
    await waitInPage("positions of ACC-1", () => {
      const symbols = [...document.querySelectorAll("#positions-body th")].map((th) => th.textContent);
      return symbols.includes("AAPL") && symbols.includes("MSFT");
    });
    expect(await p.locator("#positions-caption").textContent()).toContain(account);
  });

  it("has no axe violations (WCAG 2.0/2.1 A and AA), and the charts have data", async () => {
    const p = thePage();
    await waitInPage("a commit rate and latency summary", () => {
      const rate = document.getElementById("rate-summary")?.textContent ?? "";
      const latency = document.getElementById("latency-summary")?.textContent ?? "";
      return rate.startsWith("Latest") && latency.includes("p99");
    });
    for (const id of ["rate-chart", "latency-chart"]) {
      const chart = p.locator(`#${id}`);
      expect(await chart.getAttribute("role")).toBe("img");
      expect(await chart.getAttribute("aria-labelledby")).toBeTruthy();
    }
    expect(await axeViolations()).toEqual([]);
  });

  it("writes a screenshot; the whole run logged no error and asked no other origin", async () => {
    const p = thePage();
    await sleep(screenshot_history_ms); // more polls, so the charts show the healed state too
    if (update_screenshot) {
      // The README's picture: half a minute of history, then weur down through the fault transport.
      await setFaults({ down: ["weur"] });
      await waitInPage(
        "weur down, for the docs picture",
        () => document.querySelector('#regions-body tr[data-region="weur"][data-reachable="false"]') !== null,
      );
      await sleep(docs_down_ms);
      await mkdir(dirname(docs_screenshot_path), { recursive: true });
      await p.screenshot({ path: docs_screenshot_path, fullPage: true });
      await setFaults({});
      await waitInPage(
        "weur back after the docs picture",
        () => document.querySelectorAll('#regions-body tr[data-reachable="true"]').length === 3,
      );
    }
    loadRunning = false;
    await loadDone;
    await mkdir(dirname(screenshot_path), { recursive: true });
    await p.screenshot({ path: screenshot_path, fullPage: true });
    expect(loadErrors).toEqual([]);
    // wrangler dev reloads the Worker when a source file changes, which cuts the open stream
    // (Chromium logs net::ERR_INCOMPLETE_CHUNKED_ENCODING) and forgets the faults: say so.
    const reloaded = /Reloading local server|Detected changes|Local server updated/.test(
      dev?.outputTail(64 * 1024) ?? "",
    );
    expect(
      consoleErrors,
      reloaded ? "wrangler dev reloaded during the run (a source file changed): run again" : "console errors",
    ).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    expect(offOrigin).toEqual([]);
    expect(dev?.errorLines()).toEqual([]);
  });
});
