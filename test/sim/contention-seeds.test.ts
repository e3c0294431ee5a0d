/**
 * The contention mix of the seeded scenarios (`contention.ts`): drawn from its own stream, so a seed
 * keeps its plan with or without it, and run under the checker like every other fault.
 */
import { describe, expect, test } from "vitest";
import { drawScenarioMix, scenario_mix_share } from "./contention.js";
import { fault_phase_ms, runScenario } from "./scenario.js";

/** The seeds a test looks through for ones that draw the mix. */
const seeds_scanned_max = 200;

function seedsWithMix(count: number): number[] {
  const found: number[] = [];
  for (let seed = 1; seed <= seeds_scanned_max && found.length < count; seed++)
    if (drawScenarioMix(seed, fault_phase_ms) !== undefined) found.push(seed);
  return found;
}

/** The part of a summary the plan decides (shape, proposers, clients, faults), before the run's figures. */
function planOf(summary: string): string {
  return summary.replace(/, \d+ requests, \d+ entries/, "").split(", done ")[0]!;
}

describe("the contention mix in the seeded scenarios", () => {
  test("about its share of seeds draw it", () => {
    let drawn = 0;
    for (let seed = 1; seed <= 2000; seed++) if (drawScenarioMix(seed, fault_phase_ms) !== undefined) drawn++;
    expect(drawn / 2000).toBeGreaterThan(scenario_mix_share - 0.05);
    expect(drawn / 2000).toBeLessThan(scenario_mix_share + 0.05);
  });

  test("a seed's plan is the same with the mix and without it: the mix has its own stream", async () => {
    for (const seed of seedsWithMix(3)) {
      const withMix = await runScenario(seed, { contentionMix: true });
      const without = await runScenario(seed, { contentionMix: false });
      expect(withMix.stats.mix_proposers).toBeGreaterThan(0);
      expect(without.stats.mix_proposers).toBe(0);
      expect(planOf(withMix.summary)).toBe(planOf(without.summary));
    }
  });

  test("seeds that run the mix keep every invariant; their cold joiners join and are evicted", async () => {
    // Seeds with tiny limits draw it but do not run it yet (`mix_under_tiny_limits`).
    let ran = 0;
    for (const seed of seedsWithMix(12)) {
      const r = await runScenario(seed);
      if (r.stats.mix_proposers === 0) continue;
      ran++;
      expect(r.violations, r.summary).toEqual([]);
      expect(r.summary).toContain("contention mix: open-loop");
      expect(r.stats.counters.proposers_retired).toBeGreaterThan(0);
    }
    expect(ran).toBeGreaterThanOrEqual(6);
  });
});
