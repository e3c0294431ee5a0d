/**
 * The browser the browser tests drive (test/e2e/dashboard.test.ts, test/e2e/docs.test.ts):
 * playwright-core brings no browser of its own, so they use the machine's Chromium, Debian's
 * `/usr/bin/chromium` (`apt-get install chromium`) or whatever `CHROMIUM_PATH` names.
 *
 * Without it, a new user's `npm test` should still test everything else: locally, only the browser
 * test files are skipped, and each says so on stderr with how to install Chromium, never silently.
 * On CI (`CI` set) a missing browser fails those files instead, since CI (`.ci/run`) installs it:
 * there, its absence is a broken runner, not a choice.
 */
import { accessSync, constants } from "node:fs";

export const chromium_path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why Chromium cannot be started from `path`, or undefined when it can (an executable file is there). */
export function chromiumMissing(path: string = chromium_path): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `no Chromium at ${path}` : `${path} cannot be executed (${code ?? String(error)})`;
  }
}

/** CI runners set CI (to "true", or "1"); "false" and "0" mean a developer's machine. */
export function onCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "false" && ci !== "0";
}

export function missingChromiumMessage(testFile: string, reason: string, ci: boolean): string {
  return [
    `${testFile}: ${reason}. ${ci ? "On CI the browser tests are required: failing." : "SKIPPING this file's browser tests (every other test still runs)."}`,
    "Install Chromium to run them: sudo apt-get install chromium   (Debian/Ubuntu; .ci/run does this)",
    "or point CHROMIUM_PATH at a Chromium or Chrome binary: CHROMIUM_PATH=/path/to/chrome npm test",
  ].join("\n");
}

/**
 * Called at the top of a browser test file: true when its tests can run. Otherwise it prints why
 * and returns false (the file's tests are then skipped, and none of its hooks run), or on CI throws.
 */
export function browserTestsCanRun(testFile: string): boolean {
  const reason = chromiumMissing();
  if (reason === undefined) return true;
  const message = missingChromiumMessage(testFile, reason, onCi());
  if (onCi()) throw new Error(message);
  const rule = "=".repeat(100);
  console.warn(`\n${rule}\n${message}\n${rule}\n`);
  return false;
}
