/**
 * Without Chromium, `npm test` skips only the browser tests and says so, with how to install it; on
 * CI it fails them instead (test/e2e/browser.ts). Checked by running vitest itself on
 * test/e2e/docs.test.ts with `CHROMIUM_PATH` pointing nowhere.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { project_root } from "../../scripts/wrangler-dev.js";
import { chromiumMissing, missingChromiumMessage, onCi } from "./browser.js";

const vitest_cli = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));
const no_chromium = "/nonexistent/quorum-ledger-test/chromium";
/** A vitest run of one file whose tests are all skipped: start-up and collection only. */
const run_timeout_ms = 120_000;
const install_hint = "sudo apt-get install chromium";

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** `vitest run --project e2e <file>` in a child process, with this environment on top of ours. */
function vitest(file: string, env: Record<string, string>): Promise<Run> {
  // The child is a fresh vitest, not a worker of this one: none of this run's VITEST_* variables.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest_cli, "run", "--project", "e2e", file], {
      cwd: project_root,
      env: { ...inherited, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`vitest on ${file} did not finish within ${run_timeout_ms} ms:\n${output}`));
    }, run_timeout_ms);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("the browser the browser tests need", () => {
  it("is found where CHROMIUM_PATH (or Debian's /usr/bin/chromium) says, and missing otherwise", () => {
    expect(chromiumMissing(no_chromium)).toBe(`no Chromium at ${no_chromium}`);
    expect(chromiumMissing(process.execPath)).toBeUndefined();
    expect(chromiumMissing(fileURLToPath(import.meta.url))).toMatch(/cannot be executed \(EACCES\)/);
  });

  it("knows a CI runner from a developer's machine", () => {
    expect(onCi({ CI: "true" })).toBe(true);
    expect(onCi({ CI: "1" })).toBe(true);
    expect(onCi({})).toBe(false);
    expect(onCi({ CI: "false" })).toBe(false);
    expect(onCi({ CI: "0" })).toBe(false);
  });

  it("is asked for by name, with how to install it", () => {
    const local = missingChromiumMessage("test/e2e/docs.test.ts", `no Chromium at ${no_chromium}`, false);
    expect(local).toContain("SKIPPING");
    expect(local).toContain(install_hint);
    expect(local).toContain("CHROMIUM_PATH");
    expect(missingChromiumMessage("test/e2e/docs.test.ts", "x", true)).toContain("failing");
  });

  it("when absent, skips only the browser tests, loudly; on CI it fails them", async () => {
    const [local, ci] = await Promise.all([
      vitest("test/e2e/docs.test.ts", { CHROMIUM_PATH: no_chromium, CI: "" }),
      vitest("test/e2e/docs.test.ts", { CHROMIUM_PATH: no_chromium, CI: "true" }),
    ]);
    expect(local.code, local.output).toBe(0);
    expect(local.output).toContain(`test/e2e/docs.test.ts: no Chromium at ${no_chromium}. SKIPPING`);
    expect(local.output).toContain(install_hint);
    expect(local.output).toMatch(/Tests\s+1 skipped/);
    // Skipped before anything started: no wrangler dev was waited for.
    expect(local.output).not.toMatch(/wrangler dev (exited|did not answer)/);

    expect(ci.code, ci.output).not.toBe(0);
    expect(ci.output).toContain("On CI the browser tests are required: failing.");
    expect(ci.output).toContain(install_hint);
  });
});
