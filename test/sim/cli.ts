/**
 * The simulator from the command line.
 *   npm run sim -- --seed 123            replay one seed, print its summary and any violation
 *   npm run sim -- --seeds 5000 [--from 1]  run many seeds
 *   npm run sim -- --latency             the commit-latency table (units of the quorum RTT)
 *   npm run sim -- --fail-fast           time to the answer (503 or commit) with acceptors down
 */
import { parseArgs } from "node:util";
import { printFailFastTable, printLatencyTable } from "./latency.js";
import { replayCommand, runScenario } from "./scenario.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    from: { type: "string", default: "1" },
    latency: { type: "boolean", default: false },
    "fail-fast": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});

async function main(): Promise<number> {
  if (values.latency) {
    await printLatencyTable();
    return 0;
  }
  if (values["fail-fast"]) {
    await printFailFastTable();
    return 0;
  }
  if (values.seed !== undefined) {
    const result = await runScenario(Number(values.seed));
    console.log(result.summary);
    for (const v of result.violations.slice(0, 20)) console.log(`  VIOLATION ${v}`);
    if (result.violations.length > 20) console.log(`  ... and ${result.violations.length - 20} more`);
    return result.violations.length === 0 ? 0 : 1;
  }
  const count = Number(values.seeds ?? "1000");
  const from = Number(values.from);
  const started = performance.now();
  let failed = 0;
  let entries = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = await runScenario(seed);
    entries += result.stats.entries;
    if (values.verbose) console.log(result.summary);
    if (result.violations.length > 0) {
      failed++;
      console.log(`FAIL ${result.summary}\n  ${result.violations.slice(0, 5).join("\n  ")}\n  replay: ${replayCommand(seed)}`);
    }
    if ((seed - from + 1) % 100 === 0) process.stderr.write(`  ${seed - from + 1}/${count} seeds, ${failed} failed\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${count - failed} passed, ${failed} failed (${count} seeds from ${from}, ${entries} entries, ${seconds.toFixed(1)} s)`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
