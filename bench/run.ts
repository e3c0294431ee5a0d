/**
 * `npm run bench [-- --quick] [--out <dir>] [--only <scenario,...>] [--profile] [--scratch <dir>]`
 *
 * Runs every scenario side by side in one run, each in its own `wrangler dev` on this machine:
 * - latency-3: acceptors enam, wnam, weur; the proposer simulated in enam (`{"rtt_from":"enam"}`):
 *   Multi-Paxos warm, the first request of a cold isolate, and classic Paxos (phase 1 on every commit);
 * - latency-5-flexible: acceptors enam, wnam, weur, apac, sam with Q1 = 4, Q2 = 2, same simulation;
 * - throughput-single: 64 autocannon connections posting single entries, replicated (3 acceptors)
 *   against the same requests written straight to one Durable Object (the bench-only route);
 * - throughput-batch: the same with 1,000 entries per POST.
 * Writes `<out>/<date>[-quick].json` (environment, every raw figure, the ratios), `<date>[-quick].svg`
 * and, for a full run, `latest.svg` (the chart README embeds), and `<date>[-quick].md`, the Markdown
 * summary, also printed on stdout. `--from <result.json>` re-renders a saved result's chart and summary.
 * Progress goes to stderr. `--profile` also records a V8 CPU profile of the Worker's isolate during
 * each throughput run (`<out>/profiles/*.cpuprofile`, summarized in the JSON); the profiler costs
 * throughput, so a profiled run is for finding where the time goes, not for README's figures.
 *
 * `npm run bench -- --proposers 1,2,4,8 [--quick]` runs only the k-proposer comparison instead
 * (`proposers.ts`, issue #12), the coordinator design and the direct one side by side:
 * `<out>/<date>-proposers-designs[-quick].json` and `.md`, the summary printed; `--from` re-renders
 * such a JSON's summary too (and one of `<date>-proposers[-quick].json`, from before the coordinator).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { project_root } from "../scripts/wrangler-dev.js";
import { EntryFactory } from "./client.js";
import {
  bench_designs,
  type ProposersScenario,
  parseProposerCounts,
  proposersScenario,
  proposersSizesFor,
} from "./proposers.js";
import {
  fromLegacy,
  isDesignsResult,
  k4ThroughputRatios,
  type LegacyProposersResult,
  type ProposersResult,
  proposersMarkdown,
} from "./proposers-report.js";
import { type BenchResult, renderResult } from "./render.js";
import { targetsOf } from "./report.js";
import {
  type BenchContext,
  type LatencyScenario,
  latencyScenario,
  sizesFor,
  type ThroughputScenario,
  throughputScenario,
} from "./scenarios.js";

const scenario_names = ["latency-3", "latency-5-flexible", "throughput-single", "throughput-batch"] as const;
type ScenarioName = (typeof scenario_names)[number];

/** The whole run is abandoned (and every wrangler dev killed) after this long. */
const run_timeout_ms = { quick: 5 * 60_000, full: 15 * 60_000 };
/**
 * The same for `--proposers`, which measures both designs (about 4 min quick on an idle machine):
 * room for a shared machine, still a bound.
 */
const proposers_run_timeout_ms = { quick: 7 * 60_000, full: 15 * 60_000 };

interface Args {
  quick: boolean;
  profile: boolean;
  /** Where the persistence folders go (the machine's temporary folder by default). */
  scratch: string;
  out: string;
  only: ScenarioName[];
  /** Only re-render the chart and the summary of this result JSON; run nothing. */
  from: string | undefined;
  /** Run only the k-proposer comparison, for these counts. */
  proposers: number[] | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    quick: false,
    profile: false,
    scratch: tmpdir(),
    out: join(project_root, "bench", "results"),
    only: [...scenario_names],
    from: undefined,
    proposers: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--profile") args.profile = true;
    else if (a === "--scratch") {
      const v = argv[++i];
      if (v === undefined) throw new Error("--scratch needs a directory");
      args.scratch = resolve(v);
    } else if (a === "--from") {
      const v = argv[++i];
      if (v === undefined) throw new Error("--from needs a result JSON");
      args.from = resolve(v);
    } else if (a === "--out") {
      const v = argv[++i];
      if (v === undefined) throw new Error("--out needs a directory");
      args.out = resolve(v);
    } else if (a === "--proposers") {
      const v = argv[++i];
      if (v === undefined) throw new Error("--proposers needs counts, e.g. 1,2,4,8");
      args.proposers = parseProposerCounts(v);
    } else if (a === "--only") {
      const v = argv[++i] ?? "";
      const names = v.split(",").filter((s) => s.length > 0);
      for (const n of names)
        if (!(scenario_names as readonly string[]).includes(n))
          throw new Error(`unknown scenario ${n}; one of ${scenario_names.join(", ")}`);
      args.only = names as ScenarioName[];
    } else if (a === "--help" || a === "-h") {
      process.stdout.write(
        `usage: npm run bench -- [--quick] [--profile] [--out <dir>] [--scratch <dir for persistence>] [--only ${scenario_names.join(",")}]\n       npm run bench -- --proposers 1,2,4,8 [--quick] [--out <dir>] [--scratch <dir>]   (k proposers, both designs, side by side)\n       npm run bench -- --from <result.json> [--out <dir>]   (re-render its chart and summary)\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.proposers !== undefined && (args.profile || args.only.length !== scenario_names.length)) {
    throw new Error("--proposers runs its own comparison: it takes neither --profile nor --only");
  }
  return args;
}

function gitCommit(): string | undefined {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: project_root,
      encoding: "utf8",
      timeout: 5000,
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: project_root,
      encoding: "utf8",
      timeout: 5000,
    }).trim();
    if (dirty.length === 0) return head;
    const srcDirty = execFileSync("git", ["status", "--porcelain", "--", "src", "wrangler.toml"], {
      cwd: project_root,
      encoding: "utf8",
      timeout: 5000,
    }).trim();
    // Ties the figures to the exact tree they measured: a digest of the uncommitted diff.
    const diff = execFileSync("git", ["diff", "HEAD"], {
      cwd: project_root,
      encoding: "utf8",
      timeout: 5000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const digest = createHash("sha256").update(diff).digest("hex").slice(0, 16);
    return `${head} with uncommitted changes (${srcDirty.length > 0 ? "src/ or wrangler.toml among them" : "none in src/ or wrangler.toml"}; git diff HEAD sha256 ${digest})`;
  } catch {
    return undefined;
  }
}

async function packageVersion(name: string): Promise<string | undefined> {
  try {
    return (
      JSON.parse(await readFile(join(project_root, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
  } catch {
    return undefined;
  }
}

/** The machine, the tools and the commit a run measured. */
async function environmentOf(scratch: string, loadAtStart: number[]): Promise<BenchResult["environment"]> {
  return {
    node: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    wrangler: await packageVersion("wrangler"),
    workerd: await packageVersion("workerd"),
    autocannon: await packageVersion("autocannon"),
    commit: gitCommit(),
    /** The folder that held the Durable Objects' SQLite files (its file system sets the cost of a durable write). */
    persistence: scratch,
    loadavg_at_start: loadAtStart,
  };
}

/** `<date>-proposers-designs[-quick]`; a result from before the coordinator keeps its `<date>-proposers[-quick]`. */
function proposersStem(result: ProposersResult, legacy: boolean): string {
  return `${result.startedAt.slice(0, 10)}-proposers${legacy ? "" : "-designs"}${result.quick ? "-quick" : ""}`;
}

/** Writes a `--proposers` run's `<stem>.md` and prints it; nothing for a run that failed. */
async function writeProposersMarkdown(
  result: ProposersResult,
  out: string,
  legacy = false,
): Promise<string | undefined> {
  if (result.scenario === undefined) return undefined;
  const markdown = proposersMarkdown(result.scenario, result.environment, {
    quick: result.quick,
    date: result.startedAt.slice(0, 10),
    wall_ms: result.wall_ms,
  });
  await mkdir(out, { recursive: true });
  const mdPath = join(out, `${proposersStem(result, legacy)}.md`);
  await writeFile(mdPath, markdown);
  process.stdout.write(markdown);
  return mdPath;
}

/** The k-proposer comparison of both designs alone: runs it, writes its JSON and Markdown, prints the summary. */
async function runProposers(
  args: Args,
  counts: readonly number[],
  ctx: BenchContext,
  started: Date,
  t0: number,
  loadAtStart: number[],
): Promise<void> {
  const sizes = proposersSizesFor(args.quick);
  let scenario: ProposersScenario | undefined;
  let failure: string | undefined;
  try {
    scenario = await proposersScenario(ctx, counts, sizes);
  } catch (error) {
    failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.progress(`proposers: FAILED: ${failure}`);
  } finally {
    await rm(ctx.scratch, { recursive: true, force: true });
  }
  const wall_ms = Math.round(performance.now() - t0);
  const result: ProposersResult = {
    bench: "quorum-ledger-proposers",
    quick: args.quick,
    startedAt: started.toISOString(),
    wall_ms,
    counts,
    designs: bench_designs,
    sizes,
    environment: await environmentOf(args.scratch, loadAtStart),
    k4ThroughputRatios: scenario ? k4ThroughputRatios(scenario) : {},
    scenario,
    failure,
  };
  await mkdir(args.out, { recursive: true });
  const jsonPath = join(args.out, `${proposersStem(result, false)}.json`);
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const mdPath = await writeProposersMarkdown(result, args.out);
  ctx.progress(`wrote ${jsonPath}${mdPath ? ` and ${mdPath}` : ""}; wall clock ${(wall_ms / 1000).toFixed(1)} s`);
  if (failure !== undefined) process.exitCode = 1;
}

/** Writes `<stem>.svg` (and `latest.svg` for a full run) and `<stem>.md`; prints the summary. */
async function writeRendered(result: BenchResult, out: string): Promise<string> {
  const stem = `${result.startedAt.slice(0, 10)}${result.quick ? "-quick" : ""}`;
  const { svg, markdown } = renderResult(result);
  await mkdir(out, { recursive: true });
  const svgPath = join(out, `${stem}.svg`);
  await writeFile(svgPath, svg);
  if (!result.quick && !result.profiled) await copyFile(svgPath, join(out, "latest.svg"));
  await writeFile(join(out, `${stem}.md`), markdown);
  process.stdout.write(markdown);
  return svgPath;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.from !== undefined) {
    const saved = JSON.parse(await readFile(args.from, "utf8")) as
      | BenchResult
      | ProposersResult
      | LegacyProposersResult;
    if (saved.bench === "quorum-ledger-proposers") {
      const legacy = !isDesignsResult(saved);
      const mdPath = await writeProposersMarkdown(isDesignsResult(saved) ? saved : fromLegacy(saved), args.out, legacy);
      process.stderr.write(`re-rendered ${args.from} to ${mdPath ?? "nothing (the run failed)"}\n`);
      return;
    }
    const result = saved;
    const svgPath = await writeRendered(result, args.out);
    process.stderr.write(`re-rendered ${args.from} to ${svgPath}\n`);
    return;
  }
  const t0 = performance.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const progress = (message: string) =>
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
  const timeout_ms = (args.proposers === undefined ? run_timeout_ms : proposers_run_timeout_ms)[
    args.quick ? "quick" : "full"
  ];
  const watchdog = setTimeout(() => {
    progress(`the run exceeded ${timeout_ms / 1000} s; giving up`);
    process.exit(1); // the exit handler of scripts/wrangler-dev.ts kills every wrangler dev still up
  }, timeout_ms);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

  const started = new Date();
  const runId = `b${started.getTime().toString(36)}`;
  const scratch = await mkdtemp(join(args.scratch, "quorum-ledger-bench-"));
  const sizes = sizesFor(args.quick);
  const date = started.toISOString().slice(0, 10);
  const stem = `${date}${args.quick ? "-quick" : ""}`;
  const ctx: BenchContext = {
    quick: args.quick,
    entries: new EntryFactory(runId),
    scratch,
    progress,
    ...(args.profile ? { profile: { dir: join(args.out, "profiles"), stem } } : {}),
  };
  if (args.proposers !== undefined) {
    progress(`${args.quick ? "quick" : "full"} run ${runId}: proposers ${args.proposers.join(",")}`);
    await runProposers(args, args.proposers, ctx, started, t0, loadAtStart);
    clearTimeout(watchdog);
    return;
  }
  progress(`${args.quick ? "quick" : "full"} run ${runId}: ${args.only.join(", ")}`);

  const timings: Record<string, number> = {};
  let latency3: LatencyScenario | undefined;
  let latency5: LatencyScenario | undefined;
  let single: ThroughputScenario | undefined;
  let batch: ThroughputScenario | undefined;
  const failures: Record<string, string> = {};
  /** Runs one scenario; a failure is reported and recorded, and the other scenarios still run. */
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    const s = performance.now();
    try {
      return await run();
    } catch (error) {
      failures[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
      progress(`${name}: FAILED: ${failures[name]}`);
      return undefined;
    } finally {
      timings[name] = Math.round(performance.now() - s);
      progress(`${name}: done in ${(timings[name]! / 1000).toFixed(1)} s`);
    }
  };
  try {
    if (args.only.includes("latency-3")) {
      latency3 = await timed("latency-3", () =>
        latencyScenario(
          ctx,
          "latency-3",
          ["enam", "wnam", "weur"],
          { prepare: 2, accept: 2 },
          { floor: sizes.floor, warm: sizes.warm, cold: sizes.cold, classic: sizes.classic },
        ),
      );
    }
    if (args.only.includes("latency-5-flexible")) {
      latency5 = await timed("latency-5-flexible", () =>
        latencyScenario(
          ctx,
          "latency-5-flexible",
          ["enam", "wnam", "weur", "apac", "sam"],
          { prepare: 4, accept: 2 },
          { floor: 0, warm: sizes.warm5, cold: sizes.cold5, classic: 0 },
        ),
      );
    }
    if (args.only.includes("throughput-single")) {
      single = await timed("throughput-single", () =>
        throughputScenario(ctx, "throughput-single", 1, [sizes.singleConnections], sizes),
      );
    }
    if (args.only.includes("throughput-batch")) {
      batch = await timed("throughput-batch", () =>
        throughputScenario(ctx, "throughput-batch", sizes.batchSize, sizes.batchConnections, sizes),
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const wall_ms = Math.round(performance.now() - t0);

  const environment = await environmentOf(args.scratch, loadAtStart);
  const targets = targetsOf({ latency3, latency5, single, batch });
  const result: BenchResult = {
    bench: "quorum-ledger",
    quick: args.quick,
    profiled: args.profile,
    startedAt: started.toISOString(),
    wall_ms,
    scenario_ms: timings,
    failures,
    environment,
    sizes,
    targets,
    scenarios: { latency3, latency5, single, batch },
  };
  await mkdir(args.out, { recursive: true });
  const jsonPath = join(args.out, `${stem}.json`);
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);

  const svgPath = await writeRendered(result, args.out);
  progress(
    `wrote ${jsonPath}, ${svgPath}${args.quick || args.profile ? "" : " and latest.svg"}; wall clock ${(wall_ms / 1000).toFixed(1)} s`,
  );
  clearTimeout(watchdog);
  if (Object.keys(failures).length > 0) {
    progress(`failed: ${Object.keys(failures).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
