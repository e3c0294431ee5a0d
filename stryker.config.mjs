// @ts-check
/**
 * `npm run mutate`: Stryker mutation testing of the pure core (issue #10 item 5). Survivors and
 * their triage: docs/mutation-triage.md. One file: `npm run mutate -- --mutate src/core/ballot.ts`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  vitest: {
    // The core's Node tests and a bounded simulator run; no workerd or e2e project (see the file).
    configFile: "vitest.mutate.config.ts",
    // Every test imports the core (the simulator through its cluster), so vitest's module graph
    // finds the tests a mutated file can reach.
    related: true,
  },
  mutate: ["src/core/**/*.ts"],
  // Each mutant runs only the tests that executed its code in the dry run; with one test per
  // simulator seed, a mutant in a rarely taken branch runs only the seeds that take it.
  coverageAnalysis: "perTest",
  // Reuses the result of every mutant whose code and covering tests did not change since the last
  // run. The file stays local (reports/ is ignored by git): it is a cache of one machine's run, it
  // changes with every run, and it does not see edits to test helpers (test/sim/*.ts, fixtures),
  // so after such an edit run `npm run mutate -- --force` once.
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  // Two test processes: the project's machine has 2 cores.
  concurrency: 2,
  // A mutant times out (and counts as detected) after timeoutFactor * its tests' dry-run time +
  // timeoutMS. The defaults (1.5 and 5,000 ms) call a mutant "timed out" on a machine shared with
  // other jobs; 3 and 15,000 ms leave room for that and still end a mutant that loops forever.
  timeoutFactor: 3,
  timeoutMS: 15_000,
  dryRunTimeoutMinutes: 15,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: {
    allowColor: false,
    logTests: false,
    reportTests: false,
    reportMutants: true,
    reportScoreTable: true,
  },
  // The target is 85 %; below it the score table shows red. `break` stays unset: the run
  // is a measurement, not a CI gate (it takes too long for CI).
  thresholds: { high: 90, low: 85, break: null },
  // Nothing here is needed by the core tests or the simulator; keep the sandbox copies small.
  // Other runs' sandboxes too (parallel runs of separate files each have one; one may vanish mid-copy).
  ignorePatterns: [
    "/dist",
    "/bench",
    "/.wrangler",
    "/coverage",
    "/public/vendor",
    "/test/e2e",
    "/test/worker",
    "*.log",
    "/.stryker-tmp*",
  ],
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
