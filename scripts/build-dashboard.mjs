#!/usr/bin/env node
/**
 * Bundles the dashboard's browser code (src/dashboard/browser/main.ts and what it imports, the SDK's
 * SSE parser and backoff included) into one classic script, src/dashboard/generated/dashboard.browser.js,
 * which the Worker imports as text (wrangler.toml [[rules]]) and serves as /assets/dashboard.js.
 * The output is generated, not committed: this runs before start and build (package.json) and as
 * the global setup of the vitest worker and e2e projects (vitest.config.ts).
 *
 * `node scripts/build-dashboard.mjs --watch` rebuilds on every change of the sources, for working on
 * the page beside `npm start` (wrangler dev then reloads the Worker with the new bundle).
 *
 * The file is written only when its content changes, so that a `wrangler dev` already running in
 * this tree is not reloaded for nothing. Not minified: the script stays readable in the browser's
 * developer tools, and at about 30 KB it is smaller than uPlot, which the page loads beside it.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, context } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry_point = join(root, "src/dashboard/browser/main.ts");
const out_file = join(root, "src/dashboard/generated/dashboard.browser.js");

/** @type {import("esbuild").BuildOptions & { write: false }} */
const options = {
  entryPoints: [entry_point],
  outfile: out_file,
  bundle: true,
  // A classic script (the page loads it with <script defer>, no modules). esbuild starts it with
  // "use strict" (the tsconfig's strict), as the hand-written script was.
  format: "iife",
  platform: "browser",
  target: "es2022",
  tsconfig: join(root, "tsconfig.dashboard.json"),
  charset: "utf8",
  minify: false,
  sourcemap: false,
  write: false,
  logLevel: "warning",
};

/** Writes the one output file if its content changed; returns its size in bytes and whether it did. */
function writeOutput(/** @type {import("esbuild").BuildResult<typeof options>} */ result) {
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1) {
    throw new Error(`esbuild produced ${result.outputFiles.length} files, expected 1`);
  }
  let before;
  try {
    before = readFileSync(out_file, "utf8");
  } catch {
    before = undefined; // the first build
  }
  const changed = before !== output.text;
  if (changed) {
    mkdirSync(dirname(out_file), { recursive: true });
    writeFileSync(out_file, output.text);
  }
  return { bytes: output.contents.byteLength, changed };
}

function report({ bytes, changed }) {
  process.stderr.write(
    `dashboard: ${relative(root, out_file)} ${changed ? "built" : "unchanged"} (${(bytes / 1024).toFixed(1)} KiB)\n`,
  );
}

/** Bundles the dashboard once; returns the bundle's size in bytes and whether the file changed. */
export async function buildDashboard() {
  return writeOutput(await build(options));
}

/** Vitest's global setup (vitest.config.ts): the worker and e2e tests need the bundle. */
export async function setup() {
  await buildDashboard();
}

async function watch() {
  const ctx = await context({
    ...options,
    plugins: [
      {
        name: "write-if-changed",
        setup(b) {
          b.onEnd((result) => {
            if (result.errors.length === 0) report(writeOutput(result));
          });
        },
      },
    ],
  });
  await ctx.watch();
  process.stderr.write("dashboard: watching src/dashboard/browser/ (Ctrl-C to stop)\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--watch")) await watch();
  else report(await buildDashboard());
}
