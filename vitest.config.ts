import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { worker_test_bindings } from "./test/worker/bindings.js";

export default defineConfig({
  test: {
    projects: [
      {
        // The pure core and the deterministic simulator, on Node.
        test: {
          name: "node",
          include: ["test/core/**/*.test.ts", "test/sim/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
        },
      },
      {
        // The real Worker and Durable Objects inside workerd (Workers Vitest integration).
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: worker_test_bindings },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // The Worker imports the dashboard's bundle, which is generated (not committed).
          globalSetup: ["./scripts/build-dashboard.mjs"],
          // Room for two convergence waits at their ceiling (test/worker/timing.ts) on a busy machine.
          testTimeout: 120_000,
        },
      },
      {
        // Black box: the app under `wrangler dev` over HTTP, with a kill -9 and restart.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // wrangler dev bundles the Worker, which imports the dashboard's generated bundle.
          globalSetup: ["./scripts/build-dashboard.mjs"],
          environment: "node",
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
