/** Runs a range of seeds and reports each failure with the command that replays it. */
import { replayCommand, runScenario, type ScenarioOverrides, type ScenarioResult } from "./scenario.js";

export interface SeedRun {
  readonly results: ScenarioResult[];
  readonly failures: string[];
}

export async function runSeeds(from: number, count: number, overrides: ScenarioOverrides = {}): Promise<SeedRun> {
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = await runScenario(seed, overrides);
    results.push(result);
    if (result.violations.length > 0) {
      failures.push(
        `${result.summary}\n    ${result.violations.slice(0, 5).join("\n    ")}\n    replay: ${replayCommand(seed)}`,
      );
    }
  }
  return { results, failures };
}

/** Chunk size of one test: small enough to report progress, large enough to keep overhead low. */
const seeds_per_test = 50;

/**
 * Counters (`ScenarioResult.stats.counters`) that every range must see above zero: the paths behind
 * the tiny limits (truncated listings and the re-prepare loop, phase-2 chunks, catch-up paging, the
 * apply limit, the 429 of a full queue), each aimed fault, the contention mix's cold joiners
 * evicted, and the coordinator design's forwards and resets. A range where one stays at zero no
 * longer tests what it claims to.
 */
export const exercised_counters = [
  "truncated_promises",
  "reprepares",
  "phase2_extra_chunks",
  "full_catch_up_pages",
  "apply_limit_hits",
  "overloaded_429",
  "aimed_crashes_after_promise",
  "aimed_crashes_after_accepted",
  "aimed_leader_cuts",
  "aimed_commit_losses",
  "blacked_out_commits",
  "proposers_retired",
  "coordinator_forwards",
  "coordinator_resets",
  "coordinator_overlapping_lives",
] as const;

/**
 * Registers the tests for seeds [from, from + count): each chunk must keep every invariant. Each
 * range lives in its own test file so that vitest spreads the ranges over the machine's cores.
 */
export async function describeSeedRange(from: number, count: number): Promise<void> {
  const { describe, expect, test } = await import("vitest");
  describe(`simulated faults: seeds ${from}..${from + count - 1}`, () => {
    const totals = new Map<string, number>();
    for (let start = from; start < from + count; start += seeds_per_test) {
      const n = Math.min(seeds_per_test, from + count - start);
      test(`seeds ${start}..${start + n - 1} keep every invariant`, async () => {
        const run = await runSeeds(start, n);
        expect(run.failures, run.failures.join("\n")).toEqual([]);
        expect(run.results.every((r) => [3, 5, 7].includes(r.stats.acceptors))).toBe(true);
        expect(run.results.reduce((k, r) => k + r.stats.entries, 0)).toBeGreaterThan(0);
        for (const r of run.results)
          for (const [k, v] of Object.entries(r.stats.counters)) totals.set(k, (totals.get(k) ?? 0) + v);
      });
    }
    test(`seeds ${from}..${from + count - 1} ran the paths behind tiny limits and every aimed fault`, () => {
      for (const counter of exercised_counters) expect(totals.get(counter) ?? 0, counter).toBeGreaterThan(0);
    });
  });
}
