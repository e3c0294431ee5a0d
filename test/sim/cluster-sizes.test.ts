/** The seeded scenarios cover both cluster sizes, with real work and real faults in each. */
import { expect, test } from "vitest";
import { runSeeds } from "./seeds.js";

test("the first 100 seeds exercise 3- and 5-acceptor clusters, several proposers, and commit entries", async () => {
  const run = await runSeeds(1, 100);
  expect(run.failures, run.failures.join("\n")).toEqual([]);
  const three = run.results.filter((r) => r.stats.acceptors === 3);
  const five = run.results.filter((r) => r.stats.acceptors === 5);
  expect(three.length).toBeGreaterThan(20);
  expect(five.length).toBeGreaterThan(20);
  expect(run.results.filter((r) => r.stats.proposers > 1).length).toBeGreaterThan(20);
  for (const group of [three, five]) expect(group.reduce((n, r) => n + r.stats.entries, 0)).toBeGreaterThan(500);
});
