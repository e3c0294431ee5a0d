/**
 * The seeded scenarios cover every cluster shape the quorum code supports: 3, 5 and 7 acceptors,
 * majority and flexible quorums, each with real work and real faults, and each keeps every invariant.
 */
import { describe, expect, test } from "vitest";
import { cluster_shapes, runScenario } from "./scenario.js";
import { runSeeds } from "./seeds.js";

/** Seeds run per shape: enough to cross faults and several proposers, cheap enough for every CI run. */
const seeds_per_shape = 6;

describe("every cluster shape keeps every invariant", () => {
  for (const { quorum } of cluster_shapes) {
    const name = `${quorum.acceptors} acceptors, prepare ${quorum.prepare}, accept ${quorum.accept}`;
    test(`${name}: seeds 1..${seeds_per_shape}`, async () => {
      let entries = 0;
      for (let seed = 1; seed <= seeds_per_shape; seed++) {
        const result = await runScenario(seed, { quorum });
        expect(result.violations, `${result.summary}\n${result.violations.slice(0, 5).join("\n")}`).toEqual([]);
        expect(result.stats.acceptors).toBe(quorum.acceptors);
        expect([result.stats.quorum_prepare, result.stats.quorum_accept]).toEqual([quorum.prepare, quorum.accept]);
        entries += result.stats.entries;
      }
      expect(entries, "the shape committed too little to have been tested").toBeGreaterThan(10 * seeds_per_shape);
    });
  }
});

test("the seed picks every shape: the first 100 seeds hold each, several proposers, and commit entries", async () => {
  const run = await runSeeds(1, 100);
  expect(run.failures, run.failures.join("\n")).toEqual([]);
  for (const { quorum } of cluster_shapes) {
    const seen = run.results.filter(
      (r) =>
        r.stats.acceptors === quorum.acceptors &&
        r.stats.quorum_prepare === quorum.prepare &&
        r.stats.quorum_accept === quorum.accept,
    );
    expect(
      seen.length,
      `${quorum.acceptors}/${quorum.prepare}/${quorum.accept} drawn ${seen.length} times`,
    ).toBeGreaterThanOrEqual(1);
    expect(seen.reduce((n, r) => n + r.stats.entries, 0)).toBeGreaterThan(20);
  }
  expect(run.results.filter((r) => r.stats.proposers > 1).length).toBeGreaterThan(20);
  for (const n of [3, 5, 7]) {
    expect(run.results.filter((r) => r.stats.acceptors === n).reduce((k, r) => k + r.stats.entries, 0)).toBeGreaterThan(
      300,
    );
  }
});
