/**
 * The simulator from the command line.
 *   npm run sim -- --seed 123            replay one seed, print its summary and any violation
 *   npm run sim -- --seeds 5000 [--from 1]  run many seeds
 *   npm run sim -- --latency             the commit-latency table (units of the quorum RTT), then the
 *                                        open-loop contention table of 1, 2, 4, 8 proposers for both
 *                                        designs, direct and coordinator, on the same seed (contention.ts),
 *                                        and the bounds by construction (bounds.ts: Fast Paxos, coordinator)
 *   npm run sim -- --fail-fast           time to the answer (503 or commit) with acceptors down
 *   --sabotage <mode>                    with --seed/--seeds: plant one bug of src/core/sabotage.ts
 *                                        (the catch table: test/sim/checker-catches.test.ts)
 *   --acceptors 3|5|7                    with --seed/--seeds: only clusters of that size
 *   --contention-mix on|off              with --seed/--seeds: run the contention mix (contention.ts) on
 *                                        every seed, or on none, instead of the seeds that draw it
 *   --design direct|coordinator          with --seed/--seeds: every seed forwards to a coordinator
 *                                        (coordinator.ts), or none does, instead of the seeds that draw it
 */
import { parseArgs } from "node:util";
import { type Sabotage, sabotage_modes } from "../../src/core/sabotage.js";
import { printContentionTable, printFailFastTable, printLatencyTable } from "./latency.js";
import { replayCommand, runScenario, type ScenarioOverrides } from "./scenario.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    from: { type: "string", default: "1" },
    latency: { type: "boolean", default: false },
    "fail-fast": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    sabotage: { type: "string" },
    acceptors: { type: "string" },
    "contention-mix": { type: "string" },
    design: { type: "string" },
  },
});

/** The scenario overrides the flags ask for; a wrong value is refused, naming the right ones. */
function overridesOf(flags: typeof values): ScenarioOverrides {
  const mode = flags.sabotage;
  if (mode !== undefined && !(sabotage_modes as readonly string[]).includes(mode)) {
    throw new UsageError(`--sabotage ${mode}: not a mode; use one of ${sabotage_modes.join(", ")}`);
  }
  const acceptors = flags.acceptors === undefined ? undefined : Number(flags.acceptors);
  if (acceptors !== undefined && acceptors !== 3 && acceptors !== 5 && acceptors !== 7) {
    throw new UsageError(`--acceptors ${flags.acceptors}: use 3, 5 or 7`);
  }
  const mix = flags["contention-mix"];
  if (mix !== undefined && mix !== "on" && mix !== "off") {
    throw new UsageError(`--contention-mix ${mix}: use on or off`);
  }
  const design = flags.design;
  if (design !== undefined && design !== "direct" && design !== "coordinator") {
    throw new UsageError(`--design ${design}: use direct or coordinator`);
  }
  return {
    ...(design === undefined ? {} : { coordinator: design === "coordinator" }),
    ...(mode === undefined ? {} : { sabotage: mode as Sabotage }),
    ...(acceptors === undefined ? {} : { acceptors }),
    ...(mix === undefined ? {} : { contentionMix: mix === "on" }),
  };
}

/** The flags that shape a run, to repeat in a replay command. */
function shapeFlags(flags: typeof values): string {
  return [
    flags.sabotage === undefined ? "" : ` --sabotage ${flags.sabotage}`,
    flags.acceptors === undefined ? "" : ` --acceptors ${flags.acceptors}`,
    flags["contention-mix"] === undefined ? "" : ` --contention-mix ${flags["contention-mix"]}`,
    flags.design === undefined ? "" : ` --design ${flags.design}`,
  ].join("");
}

async function main(): Promise<number> {
  if (values.latency) {
    await printLatencyTable();
    console.log("");
    await printContentionTable();
    return 0;
  }
  if (values["fail-fast"]) {
    await printFailFastTable();
    return 0;
  }
  if (values.seed !== undefined) {
    const result = await runScenario(Number(values.seed), overridesOf(values));
    console.log(result.summary);
    for (const v of result.violations.slice(0, 20)) console.log(`  VIOLATION ${v}`);
    if (result.violations.length > 20) console.log(`  ... and ${result.violations.length - 20} more`);
    return result.violations.length === 0 ? 0 : 1;
  }
  const count = Number(values.seeds ?? "1000");
  const from = Number(values.from);
  const overrides = overridesOf(values);
  const started = performance.now();
  let failed = 0;
  let entries = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = await runScenario(seed, overrides);
    entries += result.stats.entries;
    if (values.verbose) console.log(result.summary);
    if (result.violations.length > 0) {
      failed++;
      console.log(
        `FAIL ${result.summary}\n  ${result.violations.slice(0, 5).join("\n  ")}\n  replay: ${replayCommand(seed)}${shapeFlags(values)}`,
      );
    }
    if ((seed - from + 1) % 100 === 0) process.stderr.write(`  ${seed - from + 1}/${count} seeds, ${failed} failed\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${count - failed} passed, ${failed} failed (${count} seeds from ${from}, ${entries} entries, ${seconds.toFixed(1)} s)`,
  );
  return failed === 0 ? 0 : 1;
}

/** A usage error (a wrong flag value) is reported in one line, not as a stack. */
class UsageError extends Error {}

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
