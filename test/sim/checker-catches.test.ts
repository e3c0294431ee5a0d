/**
 * The checker can fail. Two deliberately broken clusters, built only here, must each be caught within
 * a bounded number of seeds: quorums that do not intersect, and a proposer that skips recovery.
 */
import { expect, test } from "vitest";
import { unsafeQuorumConfigForTests } from "../../src/core/quorum.js";
import { runScenario, type ScenarioOverrides } from "./scenario.js";

const seeds_max = 40;

async function firstCaught(overrides: ScenarioOverrides): Promise<{ seed: number; violations: string[] } | undefined> {
  for (let seed = 1; seed <= seeds_max; seed++) {
    const result = await runScenario(seed, overrides);
    if (result.violations.length > 0) return { seed, violations: result.violations };
  }
  return undefined;
}

test(`non-intersecting quorums (3 acceptors, prepare 1, accept 1) are caught within ${seeds_max} seeds`, async () => {
  const caught = await firstCaught({ acceptors: 3, proposers: 3, quorum: unsafeQuorumConfigForTests(3, 1, 1) });
  expect(caught, "the checker never noticed two values chosen for one slot").toBeDefined();
  expect(caught!.violations.join("\n")).toMatch(/two different values chosen|diverges|safety violation|does not match/);
});

test(`a proposer that skips recovery is caught within ${seeds_max} seeds`, async () => {
  const caught = await firstCaught({ acceptors: 3, proposers: 3, proposerOptions: { skipRecoveryForTests: true } });
  expect(caught, "the checker never noticed the overwritten slots").toBeDefined();
  expect(caught!.violations.join("\n")).toMatch(/two different values chosen|diverges|safety violation|does not match|lost/);
});

test("a correct cluster of the same shape is clean at seed 1, so the catches above are the breakage, not noise", async () => {
  const result = await runScenario(1, { acceptors: 3, proposers: 3 });
  expect(result.violations).toEqual([]);
});
