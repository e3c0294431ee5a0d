/**
 * The bench scenarios. Each runs in its own `wrangler dev` (fresh persistence folder, free loopback
 * port, the development vars of .dev.vars.example, `--var` overrides), killed as a process group at
 * the end.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { clock_ticks_per_s, freePort, sleep, WranglerDev } from "../scripts/wrangler-dev.js";
import { nthNearestRtt_ms, type RegionHint } from "../src/core/region-rtt.js";
import { call, callOk, type EntryFactory } from "./client.js";
import { type CpuUse, cpuSnapshot, cpuUse } from "./cpu.js";
import { type LoadResult, runLoad } from "./load.js";
import { findBundleMap, InspectorSession, type ProfileSummary, summarizeProfile } from "./profile.js";
import { round, roundSummary, type Summary, scaled, summarize } from "./stats.js";

export interface BenchContext {
  readonly quick: boolean;
  readonly entries: EntryFactory;
  /** Where the scenarios' persistence folders go (each removed after its scenario). */
  readonly scratch: string;
  /** With `--profile`: where each throughput run's CPU profile goes, and the file names' prefix. */
  readonly profile?: { readonly dir: string; readonly stem: string };
  progress(message: string): void;
}

/** How many requests each mode times, and how long each load runs. */
export interface Sizes {
  /** Sequential commits with no simulated RTT: the local floor (HTTP, workerd, SQLite) of a warm commit. */
  readonly floor: number;
  readonly warm: number;
  readonly cold: number;
  readonly classic: number;
  readonly warm5: number;
  readonly cold5: number;
  readonly loadWarmup_s: number;
  /** Seconds of load per target and connection count, split into `loadRounds` alternating segments. */
  readonly load_s: number;
  readonly loadRounds: number;
  readonly singleConnections: number;
  readonly batchConnections: readonly number[];
  readonly batchSize: number;
}

export function sizesFor(quick: boolean): Sizes {
  return quick
    ? {
        floor: 30,
        warm: 40,
        cold: 8,
        classic: 25,
        warm5: 40,
        cold5: 6,
        loadWarmup_s: 1,
        load_s: 6,
        loadRounds: 1,
        singleConnections: 64,
        batchConnections: [4],
        batchSize: 1000,
      }
    : {
        floor: 100,
        warm: 300,
        cold: 40,
        classic: 150,
        warm5: 300,
        cold5: 30,
        loadWarmup_s: 2,
        load_s: 20,
        loadRounds: 2,
        singleConnections: 64,
        batchConnections: [4, 8],
        batchSize: 1000,
      };
}

/** The latency mode with no simulated RTT. */
export const local_floor_mode = "local floor (no simulated RTT)";

/** The proposer's region in every latency scenario: the fault injection's `rtt_from`. */
export const proposer_region: RegionHint = "enam";

/** Runs `body` against a fresh `wrangler dev`, and always kills it afterwards. */
export async function withWrangler<T>(
  ctx: BenchContext,
  label: string,
  vars: Record<string, string>,
  body: (dev: WranglerDev) => Promise<T>,
): Promise<T & { startup_ms: number; workerErrors: readonly string[] }> {
  const persistTo = await mkdtemp(join(ctx.scratch, `${label}-`));
  const started = performance.now();
  ctx.progress(
    `${label}: starting wrangler dev${
      Object.keys(vars).length
        ? ` (${Object.entries(vars)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")})`
        : ""
    }`,
  );
  const dev = await WranglerDev.start({ port: await freePort(), persistTo, label, vars, logLevel: "warn" });
  const startup_ms = Math.round(performance.now() - started);
  ctx.progress(`${label}: wrangler dev ready on ${dev.url} after ${(startup_ms / 1000).toFixed(1)} s`);
  try {
    const result = await body(dev);
    return { ...result, startup_ms, workerErrors: dev.errorLines() };
  } finally {
    await dev.stop();
    await rm(persistTo, { recursive: true, force: true });
  }
}

type Stats = Record<string, number>;

async function proposerStats(base: string, ledger: string): Promise<Stats | null> {
  const r = await callOk(base, "GET", `/v1/_bench/stats?ledger=${ledger}`);
  return (r.body as { stats: Stats | null }).stats;
}

function statsDelta(before: Stats | null, after: Stats | null): Stats {
  const d: Stats = {};
  for (const [k, v] of Object.entries(after ?? {})) d[k] = v - (before?.[k] ?? 0);
  return d;
}

// ---- latency ----

export interface LatencyMode {
  readonly mode: string;
  readonly samples_ms: readonly number[];
  readonly failures: number;
  readonly ms: Summary;
  /** The same figures in units of the quorum RTT. */
  readonly rtt: Summary;
  /**
   * Proposer counters over this mode's timed requests (a delta); for "cold isolate", whose every
   * request starts a new proposer, the counters of the last one.
   */
  readonly proposer: Stats;
}

export interface LatencyScenario {
  readonly name: string;
  readonly regions: readonly RegionHint[];
  readonly quorum: { prepare: number; accept: number };
  /** The RTT from the proposer to the Q2-th nearest acceptor (ms): the unit of every ratio. */
  readonly quorumRtt_ms: number;
  readonly modes: readonly LatencyMode[];
  readonly startup_ms: number;
  readonly workerErrors: readonly string[];
}

async function timedAppend(
  ctx: BenchContext,
  base: string,
  ledger: string,
  label: string,
): Promise<number | undefined> {
  try {
    const r = await call(base, "POST", `/v1/ledgers/${ledger}/entries`, ctx.entries.single(label));
    if (r.status === 201) return r.ms;
    ctx.progress(`  ${label}: answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  } catch (error) {
    ctx.progress(`  ${label}: ${String(error)}`);
  }
  return undefined;
}

async function timeMode(
  ctx: BenchContext,
  base: string,
  ledger: string,
  mode: string,
  count: number,
  unit: number,
  before: () => Promise<void>,
  freshProposerEachTime = false,
): Promise<LatencyMode> {
  const samples: number[] = [];
  let failures = 0;
  const stats0 = await proposerStats(base, ledger);
  let lastReport = performance.now();
  for (let i = 0; i < count; i++) {
    await before();
    const ms = await timedAppend(ctx, base, ledger, mode.replace(/[^a-z0-9]+/g, "-"));
    if (ms === undefined) failures++;
    else samples.push(ms);
    if (performance.now() - lastReport > 2000 || i === count - 1) {
      lastReport = performance.now();
      const s = samples.length > 0 ? summarize(samples) : undefined;
      ctx.progress(
        `  ${mode}: ${i + 1}/${count}${s ? `, median ${s.median.toFixed(1)} ms (${(s.median / unit).toFixed(2)} RTT)` : ""}${failures ? `, ${failures} failed` : ""}`,
      );
    }
  }
  if (samples.length === 0) throw new Error(`${mode}: every request failed`);
  // Stats are per proposer: a mode switch or reset starts a new one, so the delta is only
  // meaningful when the proposer lived through the whole mode (warm and classic).
  const stats1 = await proposerStats(base, ledger);
  const proposer = freshProposerEachTime ? (stats1 ?? {}) : statsDelta(stats0, stats1);
  const ms = summarize(samples);
  return {
    mode,
    samples_ms: samples.map((x) => round(x, 2)),
    failures,
    ms: roundSummary(ms, 2),
    rtt: roundSummary(scaled(ms, unit), 3),
    proposer,
  };
}

async function warmup(ctx: BenchContext, base: string, ledger: string): Promise<void> {
  const ms = await timedAppend(ctx, base, ledger, "warmup");
  if (ms === undefined) throw new Error("the warm-up request failed");
}

export async function latencyScenario(
  ctx: BenchContext,
  name: string,
  regions: readonly RegionHint[],
  quorum: { prepare: number; accept: number },
  modes: { floor: number; warm: number; cold: number; classic: number },
): Promise<LatencyScenario> {
  const majority = Math.floor(regions.length / 2) + 1;
  const vars: Record<string, string> = { ACCEPTOR_REGIONS: regions.join(",") };
  if (quorum.prepare !== majority || quorum.accept !== majority) {
    vars.QUORUM_PREPARE = String(quorum.prepare);
    vars.QUORUM_ACCEPT = String(quorum.accept);
  }
  const unit = nthNearestRtt_ms(proposer_region, regions, quorum.accept);
  const ledger = `bench-${name}`;
  return withWrangler(ctx, name, vars, async (dev) => {
    const base = dev.url;
    const root = (await callOk(base, "GET", "/")).body as { regions?: string[] };
    if (JSON.stringify(root.regions) !== JSON.stringify(regions)) {
      throw new Error(
        `${name}: the Worker runs regions ${JSON.stringify(root.regions)}, not ${JSON.stringify(regions)}`,
      );
    }
    await callOk(base, "PUT", "/v1/_bench/mode", { classic: false });
    const results: LatencyMode[] = [];
    if (modes.floor > 0) {
      await callOk(base, "PUT", "/v1/_faults", {});
      ctx.progress(`${name}: no simulated RTT first, for the local floor`);
      await warmup(ctx, base, ledger);
      results.push(await timeMode(ctx, base, ledger, local_floor_mode, modes.floor, unit, async () => {}));
    }
    await callOk(base, "PUT", "/v1/_faults", { rtt_from: proposer_region });
    ctx.progress(
      `${name}: regions ${regions.join(",")}, Q1=${quorum.prepare} Q2=${quorum.accept}, quorum RTT ${unit} ms (rtt_from ${proposer_region})`,
    );
    if (modes.warm > 0) {
      await warmup(ctx, base, ledger);
      results.push(await timeMode(ctx, base, ledger, "multi-paxos warm", modes.warm, unit, async () => {}));
    }
    if (modes.cold > 0) {
      results.push(
        await timeMode(
          ctx,
          base,
          ledger,
          "cold isolate",
          modes.cold,
          unit,
          async () => {
            await callOk(base, "POST", "/v1/_bench/reset");
          },
          true,
        ),
      );
    }
    if (modes.classic > 0) {
      await callOk(base, "PUT", "/v1/_bench/mode", { classic: true });
      try {
        await warmup(ctx, base, ledger);
        results.push(await timeMode(ctx, base, ledger, "classic paxos", modes.classic, unit, async () => {}));
      } finally {
        await callOk(base, "PUT", "/v1/_bench/mode", { classic: false });
      }
    }
    return { name, regions, quorum, quorumRtt_ms: unit, modes: results };
  });
}

// ---- throughput ----

type Target = "replicated" | "unreplicated";

interface ProposerFigures {
  readonly delta: Stats;
  readonly acceptorCallsPerEntry: number;
  readonly entriesPerSlot: number;
  readonly requestsPerSlot: number;
  /**
   * Server side, over the busy period (from the start of the load until the Worker went idle again,
   * so including the requests left in flight): slots and entries committed per second.
   */
  readonly slotsPerSecond: number;
  readonly entriesPerSecond: number;
}

function proposerFigures(delta: Stats, busy_s: number): ProposerFigures {
  const entries = delta.entries_committed ?? 0;
  const slots = delta.slots_chosen ?? 0;
  return {
    delta,
    acceptorCallsPerEntry: round(entries > 0 ? (delta.messages_sent ?? 0) / entries : Number.NaN, 4),
    entriesPerSlot: round(slots > 0 ? entries / slots : Number.NaN, 2),
    requestsPerSlot: round(slots > 0 ? (delta.requests_committed ?? 0) / slots : Number.NaN, 2),
    slotsPerSecond: round(slots / busy_s, 1),
    entriesPerSecond: round(entries / busy_s, 0),
  };
}

/** One stretch of load against one target. */
export interface Segment extends LoadResult {
  readonly target: Target;
  readonly cpu: CpuUse;
  /** How long the Worker took to finish the requests left in flight when the segment ended. */
  readonly drained_ms: number;
  readonly busy_s: number;
  readonly proposer?: ProposerFigures;
  /** With `--profile`: the Worker isolate's CPU profile over the segment, summarized. */
  readonly profile?: ProfileSummary & { readonly file: string };
}

/** One target at one connection count: its segments (alternating with the other target's) summed up. */
export interface LoadRun {
  readonly target: Target;
  readonly ledger: string;
  readonly path: string;
  readonly connections: number;
  readonly entriesPerRequest: number;
  readonly duration_s: number;
  readonly requests_2xx: number;
  readonly requests_non2xx: number;
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  /** 2xx responses × entries per request. */
  readonly entries_committed: number;
  /** entries_committed / duration: the figure issue #4 asks for. */
  readonly entries_per_s: number;
  readonly requests_per_s: number;
  /** Between the first and the last answer of each segment: the closed loop's steady state. */
  readonly steady_entries_per_s: number;
  /** Of every 2xx response of every segment (ms). */
  readonly latency_ms: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  /** Cores busy, averaged over the segments (weighted by their length). */
  readonly cpu: {
    readonly userWorkerdMainThread_cores: number;
    readonly workerd_cores: number;
    readonly loadGenerator_cores: number;
    readonly otherProcesses_cores: number;
    readonly steal_cores: number;
  };
  /** Replicated only: the proposer's counters summed over the segments, and what they imply. */
  readonly proposer?: ProposerFigures;
  readonly segments: readonly Segment[];
}

export interface ThroughputScenario {
  readonly name: string;
  readonly regions: readonly RegionHint[];
  readonly entriesPerRequest: number;
  readonly runs: readonly LoadRun[];
  readonly startup_ms: number;
  readonly workerErrors: readonly string[];
}

/**
 * After a load the Worker goes on with the requests autocannon left in flight (an append is
 * carried through even when its client has gone). The next measurement starts only once the
 * Worker's thread has gone quiet: at most `drain_cpu_fraction` of a core over `drain_window_ms`,
 * waiting at most `drain_ms_max`.
 */
export const drain_window_ms = 500;
const drain_cpu_fraction = 0.15;
const drain_ms_max = 30_000;

/** Waits until the Worker + Durable Objects workerd is idle; returns how long that took (ms). */
export async function drain(dev: WranglerDev): Promise<number> {
  const started = performance.now();
  const mainTicks = () => dev.processes().find((p) => /--inspector-addr/.test(p.cmdline))?.mainThreadCpuTicks;
  while (performance.now() - started < drain_ms_max) {
    const a = mainTicks();
    await sleep(drain_window_ms);
    const b = mainTicks();
    if (a === undefined || b === undefined) break;
    if ((b - a) / clock_ticks_per_s <= (drain_cpu_fraction * drain_window_ms) / 1000) break;
  }
  return Math.round(performance.now() - started);
}

function pathOf(target: Target, ledger: string): string {
  return target === "replicated" ? `/v1/ledgers/${ledger}/entries` : `/v1/_bench/unreplicated/${ledger}/entries`;
}

async function segment(
  ctx: BenchContext,
  dev: WranglerDev,
  target: Target,
  ledger: string,
  connections: number,
  duration_s: number,
  entriesPerRequest: number,
  label: string,
  profiler?: { session: InspectorSession; map: ReturnType<typeof findBundleMap>; file: string },
): Promise<{ segment: Segment; okLatencies_ms: number[] }> {
  const base = dev.url;
  const body =
    entriesPerRequest === 1 ? () => ctx.entries.single(label) : () => ctx.entries.batch(label, entriesPerRequest);
  const stats0 = target === "replicated" ? await proposerStats(base, ledger) : null;
  if (profiler) await profiler.session.startProfile();
  const cpu0 = cpuSnapshot(dev.processes());
  const { okLatencies_ms, ...result } = await runLoad({
    base,
    path: pathOf(target, ledger),
    connections,
    duration_s,
    body,
    entriesPerRequest,
    onTick: (t, ok, other) => {
      if (Math.round(t) % 2 === 0 || t >= duration_s - 0.5) {
        ctx.progress(
          `  ${target} ×${connections}: ${t.toFixed(0)}/${duration_s} s, ${ok} ok${other ? `, ${other} other` : ""}, ${((ok * entriesPerRequest) / t).toFixed(0)} entries/s`,
        );
      }
    },
  });
  const cpu = cpuUse(cpu0, cpuSnapshot(dev.processes()));
  let profile: Segment["profile"];
  if (profiler) {
    const p = await profiler.session.stopProfile();
    await writeFile(profiler.file, JSON.stringify(p));
    profile = { ...summarizeProfile(p, profiler.map), file: profiler.file };
    ctx.progress(
      `  profile: ${profiler.file}; idle ${profile.idle}, top: ${profile.topSelf
        .slice(0, 3)
        .map((f) => `${f.fn} ${f.share}`)
        .join("; ")}`,
    );
  }
  const drained_ms = await drain(dev);
  // The drain noticed the idle thread somewhere in its last window.
  const busy_s = round(result.duration_s + Math.max(0, drained_ms - drain_window_ms / 2) / 1000, 2);
  const proposer =
    target === "replicated"
      ? proposerFigures(statsDelta(stats0, await proposerStats(base, ledger)), busy_s)
      : undefined;
  ctx.progress(
    `  ${target} ×${connections}: ${result.entries_per_s.toFixed(0)} entries/s (steady ${result.steady_entries_per_s.toFixed(0)}, first answer after ${result.firstOk_s} s), ${result.requests_2xx} ok, ${result.requests_non2xx} non-2xx, ${result.errors} errors, p50 ${result.latency_ms.p50} ms p99 ${result.latency_ms.p99} ms; CPU: Worker+DO main thread ${cpu.userWorkerdMainThread_cores}, all workerd ${cpu.workerd_cores}, load generator ${cpu.loadGenerator_cores} cores; drained in ${(drained_ms / 1000).toFixed(1)} s` +
      (proposer
        ? `; server side ${proposer.entriesPerSecond} entries/s, ${proposer.slotsPerSecond} slots/s, ${proposer.entriesPerSlot} entries/slot, ${proposer.acceptorCallsPerEntry} acceptor calls/entry`
        : ""),
  );
  if (cpu.otherProcesses_cores > 0.2 || cpu.steal_cores > 0.2) {
    ctx.progress(
      `  warning: other processes used ${cpu.otherProcesses_cores} cores and steal was ${cpu.steal_cores} cores during this segment`,
    );
  }
  return {
    segment: {
      ...result,
      target,
      cpu,
      drained_ms,
      busy_s,
      ...(proposer ? { proposer } : {}),
      ...(profile ? { profile } : {}),
    },
    okLatencies_ms,
  };
}

function combine(
  target: Target,
  ledger: string,
  connections: number,
  entriesPerRequest: number,
  parts: ReadonlyArray<{ segment: Segment; okLatencies_ms: number[] }>,
): LoadRun {
  const segments = parts.map((p) => p.segment);
  const sum = (f: (s: Segment) => number) => segments.reduce((a, s) => a + f(s), 0);
  const duration_s = sum((s) => s.duration_s);
  const wall = sum((s) => s.cpu.wall_s);
  const cpuAvg = (f: (c: CpuUse) => number) =>
    round(segments.reduce((a, s) => a + f(s.cpu) * s.cpu.wall_s, 0) / wall, 2);
  const statusCodes: Record<string, number> = {};
  for (const s of segments)
    for (const [code, n] of Object.entries(s.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const latencies = parts.flatMap((p) => p.okLatencies_ms);
  const lat = latencies.length > 0 ? summarize(latencies) : undefined;
  const steadyEntries = sum((s) =>
    s.requests_2xx >= 2 && s.okSpan_s > 0 ? (s.requests_2xx - 1) * s.entriesPerRequest : 0,
  );
  const steadySpan = sum((s) => (s.requests_2xx >= 2 ? s.okSpan_s : 0));
  const entries_committed = sum((s) => s.entries_committed);
  let proposer: ProposerFigures | undefined;
  if (target === "replicated") {
    const delta: Stats = {};
    for (const s of segments)
      for (const [k, v] of Object.entries(s.proposer?.delta ?? {})) delta[k] = (delta[k] ?? 0) + v;
    proposer = proposerFigures(
      delta,
      sum((s) => s.busy_s),
    );
  }
  return {
    target,
    ledger,
    path: pathOf(target, ledger),
    connections,
    entriesPerRequest,
    duration_s: round(duration_s, 2),
    requests_2xx: sum((s) => s.requests_2xx),
    requests_non2xx: sum((s) => s.requests_non2xx),
    statusCodes,
    errors: sum((s) => s.errors),
    timeouts: sum((s) => s.timeouts),
    entries_committed,
    entries_per_s: round(entries_committed / duration_s, 1),
    requests_per_s: round(sum((s) => s.requests_2xx) / duration_s, 1),
    steady_entries_per_s: steadySpan > 0 ? round(steadyEntries / steadySpan, 1) : Number.NaN,
    latency_ms: lat
      ? {
          p50: round(lat.median, 1),
          p90: round(lat.p90, 1),
          p99: round(lat.p99, 1),
          max: round(lat.max, 1),
          mean: round(lat.mean, 1),
        }
      : { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN },
    cpu: {
      userWorkerdMainThread_cores: cpuAvg((c) => c.userWorkerdMainThread_cores),
      workerd_cores: cpuAvg((c) => c.workerd_cores),
      loadGenerator_cores: cpuAvg((c) => c.loadGenerator_cores),
      otherProcesses_cores: cpuAvg((c) => c.otherProcesses_cores),
      steal_cores: cpuAvg((c) => c.steal_cores),
    },
    ...(proposer ? { proposer } : {}),
    segments,
  };
}

/**
 * Replicated against unreplicated at each connection count, in `rounds` rounds of alternating
 * segments (R U, then U R, ...), so that both see the same machine over the same stretch of time.
 */
export async function throughputScenario(
  ctx: BenchContext,
  name: string,
  entriesPerRequest: number,
  connectionCounts: readonly number[],
  sizes: Sizes,
): Promise<ThroughputScenario> {
  const regions: RegionHint[] = ["enam", "wnam", "weur"];
  const started_ms = Date.now();
  return withWrangler(ctx, name, { ACCEPTOR_REGIONS: regions.join(",") }, async (dev) => {
    await callOk(dev.url, "PUT", "/v1/_faults", {});
    await callOk(dev.url, "PUT", "/v1/_bench/mode", { classic: false });
    const ledgers: Record<Target, string> = { replicated: `bench-${name}`, unreplicated: `bench-${name}-unrepl` };
    const warmConnections = Math.max(...connectionCounts);
    const body = () =>
      entriesPerRequest === 1 ? ctx.entries.single("warmup") : ctx.entries.batch("warmup", entriesPerRequest);
    ctx.progress(`${name}: warm-up (${sizes.loadWarmup_s} s each, ${warmConnections} connections)`);
    for (const target of ["replicated", "unreplicated"] as const) {
      await runLoad({
        base: dev.url,
        path: pathOf(target, ledgers[target]),
        connections: warmConnections,
        duration_s: sizes.loadWarmup_s,
        body,
        entriesPerRequest,
      });
      const drained_ms = await drain(dev);
      ctx.progress(
        `${name}: ${target} warm-up done; the Worker went idle ${(drained_ms / 1000).toFixed(1)} s after it`,
      );
    }
    const runs: LoadRun[] = [];
    const session = ctx.profile ? await InspectorSession.connect(dev.inspectorPort) : undefined;
    const map = ctx.profile ? findBundleMap(started_ms) : undefined;
    if (ctx.profile) await mkdir(ctx.profile.dir, { recursive: true });
    try {
      for (const connections of connectionCounts) {
        const segment_s = sizes.load_s / sizes.loadRounds;
        ctx.progress(
          `${name}: ${connections} connections, ${entriesPerRequest} entr${entriesPerRequest === 1 ? "y" : "ies"} per POST, ${sizes.load_s} s per target in ${sizes.loadRounds} round(s) of alternating ${segment_s} s segments`,
        );
        const parts: Record<Target, Array<{ segment: Segment; okLatencies_ms: number[] }>> = {
          replicated: [],
          unreplicated: [],
        };
        for (let r = 0; r < sizes.loadRounds; r++) {
          const order: Target[] = r % 2 === 0 ? ["replicated", "unreplicated"] : ["unreplicated", "replicated"];
          for (const target of order) {
            // Profile the first segment of each target only.
            const profiler =
              session && ctx.profile && r < 2 && parts[target].length === 0
                ? {
                    session,
                    map,
                    file: join(ctx.profile.dir, `${ctx.profile.stem}-${name}-${target}-${connections}.cpuprofile`),
                  }
                : undefined;
            parts[target].push(
              await segment(
                ctx,
                dev,
                target,
                ledgers[target],
                connections,
                segment_s,
                entriesPerRequest,
                `${name}-${connections}`,
                profiler,
              ),
            );
          }
        }
        for (const target of ["replicated", "unreplicated"] as const) {
          runs.push(combine(target, ledgers[target], connections, entriesPerRequest, parts[target]));
        }
      }
    } finally {
      session?.close();
    }
    return { name, regions, entriesPerRequest, runs };
  });
}
