/**
 * Seeded fault scenarios 1001..1500 (3- and 5-acceptor clusters, chosen by seed), each checked
 * against every invariant of DESIGN.md section 2. Split in two files so that vitest runs them on
 * both cores. A failure names its seed and the command that replays it.
 */
import { describe, expect, test } from "vitest";
import { runSeeds } from "./seeds.js";

const from = 1001;
const seeds = 500;
const chunk = 50;

describe("simulated faults: seeds 1001..1500", () => {
  for (let start = from; start < from + seeds; start += chunk) {
    test(`seeds ${start}..${start + chunk - 1} keep every invariant`, async () => {
      const run = await runSeeds(start, chunk);
      expect(run.failures, run.failures.join("\n")).toEqual([]);
      const sizes = new Set(run.results.map((r) => r.stats.acceptors));
      expect([...sizes].every((n) => n === 3 || n === 5)).toBe(true);
      expect(run.results.reduce((n, r) => n + r.stats.entries, 0)).toBeGreaterThan(0);
    });
  }
});
