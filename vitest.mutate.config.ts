import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant of src/core (`npm run mutate`, stryker.config.json):
 * the core's Node tests plus a bounded simulator run. One config without `projects`, because the
 * Stryker vitest runner drives every project a config declares and the main config also declares
 * the workerd and e2e projects, which a mutant of the pure core cannot reach and which would cost
 * a Worker runtime per Stryker process. test/mutate/ is not in vitest.config.ts, so `npm test`
 * does not run the bounded simulator twice.
 */
export default defineConfig({
  test: {
    include: ["test/core/**/*.test.ts", "test/mutate/**/*.test.ts"],
    environment: "node",
    // A mutant that slows the core down is caught by Stryker's own timeout (timeoutFactor); this one
    // only bounds a test that hangs outright.
    testTimeout: 120_000,
  },
});
