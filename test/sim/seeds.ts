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
      failures.push(`${result.summary}\n    ${result.violations.slice(0, 5).join("\n    ")}\n    replay: ${replayCommand(seed)}`);
    }
  }
  return { results, failures };
}
