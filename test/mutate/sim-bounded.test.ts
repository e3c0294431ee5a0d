/**
 * A bounded simulator run for Stryker (`npm run mutate`, vitest.mutate.config.ts): the production
 * proposer and acceptors under random faults, checked by the simulator's checker. Not part of
 * `npm test`, which runs hundreds of seeds in test/sim already.
 *
 * One test per seed, because Stryker's perTest coverage runs, for each mutant, only the tests that
 * executed the mutated code: a mutant in a branch few seeds take runs only those seeds, and a
 * mutant that breaks an invariant is killed by the first seed that shows it.
 */
import { describe, expect, test } from "vitest";
import { replayCommand, runScenario } from "../sim/scenario.js";

/** Seeds run per mutant at most: enough to cross every mechanism the core has, few enough for
 * Stryker's thousands of mutant runs on two cores (about 1 s for all of them unmutated). */
const seed_count = 32;
const seed_first = 1;

describe("bounded simulator run for mutation testing", () => {
  for (let seed = seed_first; seed < seed_first + seed_count; seed++) {
    test(`seed ${seed} keeps every invariant`, async () => {
      const result = await runScenario(seed);
      expect(
        result.violations,
        `${result.summary}\n${result.violations.slice(0, 5).join("\n")}\nreplay: ${replayCommand(seed)}`,
      ).toEqual([]);
      expect(result.stats.entries).toBeGreaterThan(0);
    });
  }
});
