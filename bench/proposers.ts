/**
 * `npm run bench -- --proposers 1,2,4,8`: k Worker isolates of one ledger (the bench's k-proposer
 * mode), each in its own simulated region, the counts and both designs of issue #12 measured side by
 * side in one `wrangler dev`:
 * - `coordinator` (production): the k are forwarders (`src/proposer/bench-forwarders.ts`), each
 *   forwarding over its simulated hop to the ledger's coordinator, which runs the one proposer in
 *   the coordinator's region;
 * - `direct` (the design before issue #12, the baseline): the k are proposers of their own
 *   (`src/proposer/bench-proposers.ts`) and duel.
 * Acceptors enam, wnam, weur (Q1 = Q2 = 2); the Workers' regions cycle through `proposer_regions`
 * (k = 4: one in each; k = 8: two in each), as in issue #12's simulator targets. Each design and k
 * has its own ledger; in each round it gets new Workers (and a new coordinator proposer), a warm-up,
 * then two closed-loop loads of single-entry appends: `light` (one client per Worker) and `loaded`
 * (64 clients). The designs are interleaved: each round runs every count in turn, both designs at
 * each count, and the rounds alternate the order of the counts and of the designs, so both designs
 * see the shared machine over the same stretch of time. Reported per load: entries/s and latency as
 * the clients saw them, and each Worker's own append times (server side, call to outcome, the hop
 * to the coordinator included) in units of that Worker's own quorum RTT.
 */

import { sleep, type WranglerDev } from "../scripts/wrangler-dev.js";
import { coordinatorRegionFor, forwardedRatio } from "../src/core/coordinator/index.js";
import { nthNearestRtt_ms, type RegionHint, region_hints } from "../src/core/region-rtt.js";
import { bench_proposers_max } from "../src/proposer/bench-proposer-limits.js";
import { callOk } from "./client.js";
import { type CpuUse, cpuSnapshot, cpuUse } from "./cpu.js";
import { type LoadResultWithSamples, runLoad } from "./load.js";
import { type BenchContext, drain, drain_window_ms, withWrangler } from "./scenarios.js";
import { round, roundSummary, type Summary, scaled, summarize } from "./stats.js";

export const acceptor_regions: readonly RegionHint[] = ["enam", "wnam", "weur"];
export const accept_quorum = 2;
/**
 * Where the ledger's coordinator sits: the Worker's own default placement (`COORDINATOR_REGION`
 * unset), passed explicitly so the bench knows it and the report can name it.
 */
export const coordinator_region: RegionHint = coordinatorRegionFor(acceptor_regions, accept_quorum, region_hints);
/** Where the k proposers sit, in turn. */
export const proposer_regions: readonly RegionHint[] = ["enam", "wnam", "weur", "apac"];
/** The clients of the `loaded` load: issue #12's throughput target is stated at 64. */
export const loaded_connections = 64;
/** Issue #12's designs, both measured in every run: the production one first in each table. */
export const bench_designs = ["coordinator", "direct"] as const;
export type BenchDesign = (typeof bench_designs)[number];
/** What `GET /v1/_bench/stats` names each design (`design`): the Worker forwards, or proposes itself. */
const stats_design_names: Readonly<Record<BenchDesign, string>> = { coordinator: "forward", direct: "direct" };

/** Proposer counts one run may compare (each costs, per design, a warm-up and two loads). */
export const proposer_counts_max = 4;

export interface ProposersSizes {
  readonly warmup_s: number;
  /** Seconds of each load (light, loaded) per proposer count and round. */
  readonly load_s: number;
  /**
   * Rounds over the counts and designs, in alternating order (1 2 4 8 with coordinator before
   * direct, then 8 4 2 1 with direct before coordinator, ...), the figures summed over them: each
   * count and design sees the shared machine over the same stretch of time.
   */
  readonly rounds: number;
}

export function proposersSizesFor(quick: boolean): ProposersSizes {
  return quick ? { warmup_s: 1, load_s: 4, rounds: 2 } : { warmup_s: 2, load_s: 10, rounds: 2 };
}

/** Parses `1,2,4,8`: distinct whole counts from 1 to `bench_proposers_max`, at most `proposer_counts_max`. */
export function parseProposerCounts(text: string): number[] {
  const counts = text.split(",").map((s) => Number(s.trim()));
  for (const k of counts) {
    if (!Number.isInteger(k) || k < 1 || k > bench_proposers_max) {
      throw new Error(`--proposers takes counts from 1 to ${bench_proposers_max}, not ${text}`);
    }
  }
  if (new Set(counts).size !== counts.length || counts.length > proposer_counts_max) {
    throw new Error(`--proposers takes at most ${proposer_counts_max} distinct counts, not ${text}`);
  }
  return counts;
}

/** The k proposers' regions: `proposer_regions` in turn. */
export function regionsFor(k: number): RegionHint[] {
  return Array.from({ length: k }, (_, i) => proposer_regions[i % proposer_regions.length]!);
}

type Stats = Record<string, number>;

/**
 * What `GET /v1/_bench/stats` says of one of the k: a proposer (direct; `stats` its ProposerStats) or
 * a forwarder (coordinator; `stats` its `forwards` and `forwards_failed`).
 */
interface ProposerView {
  readonly proposerId: string;
  readonly rtt_from: RegionHint;
  readonly quorumRtt_ms: number;
  readonly stats: Stats;
  readonly appends: {
    readonly samples_ms: number[];
    readonly samples_dropped: number;
    readonly failed: number;
    readonly in_flight: number;
  };
}

/**
 * Before a load is measured, the appends of the one before must have settled (the drain only waits
 * for an idle CPU; an append backing off from a duel is idle too): polled every `settle_poll_ms`,
 * for at most `settle_ms_max` (appends have a deadline, so they settle well within it).
 */
const settle_poll_ms = 100;
const settle_ms_max = 30_000;

async function settle(base: string, ledger: string): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < settle_ms_max) {
    const { proposers } = await benchStats(base, ledger);
    if (proposers.every((p) => p.appends.in_flight === 0)) return;
    await sleep(settle_poll_ms);
  }
  throw new Error(`${ledger}: appends still in flight ${settle_ms_max} ms after the load`);
}

/**
 * The ledger's counters and its k. `stats` is the ledger's proposer's: the coordinator's one
 * proposer (coordinator design: so its phase-1 runs and entries, not the forwarders'), or the k
 * proposers' added up (direct).
 */
async function benchStats(base: string, ledger: string): Promise<{ stats: Stats; proposers: ProposerView[] }> {
  const body = (await callOk(base, "GET", `/v1/_bench/stats?ledger=${ledger}`)).body as {
    stats: Stats | null;
    proposers: ProposerView[] | null;
    design: string;
  };
  if (body.stats === null || body.proposers === null) throw new Error(`${ledger}: not in the k-proposer mode`);
  const design = designOfLedger(ledger);
  if (body.design !== stats_design_names[design]) {
    throw new Error(`${ledger}: the Worker reports design ${body.design}, not ${stats_design_names[design]}`);
  }
  return { stats: body.stats, proposers: body.proposers };
}

/** Each design and count has its own ledger (its own acceptors' log, its own coordinator). */
export function ledgerFor(design: BenchDesign, k: number): string {
  return `bench-proposers-${design}-k${k}`;
}

function designOfLedger(ledger: string): BenchDesign {
  const design = bench_designs.find((d) => ledger.startsWith(`bench-proposers-${d}-`));
  if (design === undefined) throw new Error(`${ledger}: not a ledger of the proposers bench`);
  return design;
}

function delta(before: Stats, after: Stats): Stats {
  const d: Stats = {};
  for (const [k, v] of Object.entries(after)) d[k] = v - (before[k] ?? 0);
  return d;
}

/**
 * One of the k (a proposer, or a forwarder to the coordinator) over one load: its own append times,
 * in ms and in units of its own quorum RTT.
 */
export interface ProposerFigures {
  readonly rtt_from: RegionHint;
  readonly quorumRtt_ms: number;
  /**
   * The least its appends can take, in its own quorum RTTs: 1 for a proposer (direct); for a
   * forwarder, the hop to the coordinator plus the coordinator's quorum RTT (`forwardedRatio`).
   */
  readonly floor_rtt: number;
  /** Its id in each round (a round starts new proposers). */
  readonly proposerIds: readonly string[];
  readonly appends: number;
  readonly failed: number;
  /** Appends not timed because the proposer already held `bench_append_samples_max` times. */
  readonly untimed: number;
  readonly ms: Summary | null;
  readonly rtt: Summary | null;
  /** Its own phase-1 runs and entries committed; null for a forwarder (the coordinator proposes). */
  readonly phase1_runs: number | null;
  readonly entries_committed: number | null;
}

/** One load at one proposer count, summed over the rounds. */
export interface ProposersLoad {
  readonly load: "light" | "loaded";
  readonly connections: number;
  readonly duration_s: number;
  /** As the clients saw it: 2xx answers × 1 entry / duration. */
  readonly entries_per_s: number;
  readonly requests_2xx: number;
  readonly requests_non2xx: number;
  /** Every answer's status code, counted (which non-2xx: 503 at the deadline, 429 overloaded). */
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
  readonly client_ms: Summary | null;
  /** Every proposer's append times pooled, each divided by its own quorum RTT. */
  readonly rtt: Summary | null;
  /** Server side, over the loads and their drains: entries committed per second by the ledger's proposer(s). */
  readonly server_entries_per_s: number;
  /**
   * Where that throughput comes from: slots chosen per second (over the loads and their drains)
   * and entries per slot (the group commit's batch), both the ledger's proposer(s)'.
   */
  readonly slots_per_s: number;
  readonly entries_per_slot: number | null;
  /** Cores busy during the loads, averaged (weighted by their length). */
  readonly cpu: {
    readonly userWorkerdMainThread_cores: number;
    readonly loadGenerator_cores: number;
    readonly otherProcesses_cores: number;
    readonly steal_cores: number;
  };
  /** The ledger's proposer counters over the loads (a delta): the coordinator's, or all k direct proposers'. */
  readonly stats: Stats;
  readonly proposers: readonly ProposerFigures[];
}

export interface ProposersRun {
  readonly design: BenchDesign;
  readonly k: number;
  readonly regions: readonly RegionHint[];
  readonly ledger: string;
  readonly loads: readonly ProposersLoad[];
}

export interface ProposersScenario {
  readonly name: "proposers";
  readonly acceptors: readonly RegionHint[];
  readonly quorum: { readonly prepare: number; readonly accept: number };
  /** Where the coordinator design's one proposer sits (null: a result from before the coordinator). */
  readonly coordinatorRegion: RegionHint | null;
  readonly designs: readonly BenchDesign[];
  readonly sizes: ProposersSizes;
  readonly runs: readonly ProposersRun[];
  readonly startup_ms: number;
  readonly workerErrors: readonly string[];
}

/** One load in one round, raw: what `combine` sums over the rounds. */
interface LoadPart {
  readonly result: LoadResultWithSamples;
  readonly busy_s: number;
  readonly cpu: CpuUse;
  readonly stats: Stats;
  readonly proposers: ReadonlyArray<{
    readonly view: ProposerView;
    readonly samples_ms: number[];
    readonly failed: number;
    readonly untimed: number;
    readonly stats: Stats;
  }>;
}

async function measureLoad(
  ctx: BenchContext,
  dev: WranglerDev,
  ledger: string,
  load: ProposersLoad["load"],
  connections: number,
  duration_s: number,
): Promise<LoadPart> {
  const base = dev.url;
  const before = await benchStats(base, ledger);
  const label = `${ledger}-${load}`;
  const cpu0 = cpuSnapshot(dev.processes());
  const result = await runLoad({
    base,
    path: `/v1/ledgers/${ledger}/entries`,
    connections,
    duration_s,
    body: () => ctx.entries.single(label),
    entriesPerRequest: 1,
  });
  const cpu = cpuUse(cpu0, cpuSnapshot(dev.processes()));
  const drained_ms = await drain(dev);
  const busy_s = result.duration_s + Math.max(0, drained_ms - drain_window_ms / 2) / 1000;
  await settle(base, ledger);
  const after = await benchStats(base, ledger);
  const proposers = after.proposers.map((view, i) => {
    const was = before.proposers[i]!;
    if (was.proposerId !== view.proposerId) throw new Error(`${ledger}: proposer ${i} changed during the load`);
    return {
      view,
      samples_ms: view.appends.samples_ms.slice(was.appends.samples_ms.length),
      failed: view.appends.failed - was.appends.failed,
      untimed: view.appends.samples_dropped - was.appends.samples_dropped,
      stats: delta(was.stats, view.stats),
    };
  });
  const pooled = proposers.flatMap((p) => p.samples_ms.map((x) => x / p.view.quorumRtt_ms));
  const own = pooled.length > 0 ? summarize(pooled) : undefined;
  ctx.progress(
    `  ${designOfLedger(ledger)} k=${proposers.length} ${load} ×${connections}: ${result.entries_per_s.toFixed(1)} entries/s, client p50 ${result.latency_ms.p50} ms p99 ${result.latency_ms.p99} ms, ${result.requests_non2xx} non-2xx, ${result.errors} errors; own-RTT median ${own?.median.toFixed(2) ?? "–"} p99 ${own?.p99.toFixed(2) ?? "–"}; other processes ${cpu.otherProcesses_cores} cores`,
  );
  return { result, busy_s, cpu, stats: delta(before.stats, after.stats), proposers };
}

function addStats(parts: readonly Stats[]): Stats {
  const total: Stats = {};
  for (const part of parts) for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v;
  return total;
}

/** One load's rounds summed: counts added, samples pooled, CPU averaged by wall time. */
function combine(
  design: BenchDesign,
  load: ProposersLoad["load"],
  connections: number,
  parts: readonly LoadPart[],
): ProposersLoad {
  const sum = (f: (p: LoadPart) => number) => parts.reduce((a, p) => a + f(p), 0);
  const duration_s = sum((p) => p.result.duration_s);
  const wall_s = sum((p) => p.cpu.wall_s);
  const cpuAvg = (f: (c: CpuUse) => number) =>
    round(parts.reduce((a, p) => a + f(p.cpu) * p.cpu.wall_s, 0) / wall_s, 2);
  const stats = addStats(parts.map((p) => p.stats));
  const k = parts[0]!.proposers.length;
  const proposers = Array.from({ length: k }, (_, i): ProposerFigures => {
    const rounds = parts.map((p) => p.proposers[i]!);
    const first = rounds[0]!.view;
    const samples = rounds.flatMap((r) => r.samples_ms);
    const ms = samples.length > 0 ? summarize(samples) : null;
    const d = addStats(rounds.map((r) => r.stats));
    const direct = design === "direct";
    return {
      rtt_from: first.rtt_from,
      quorumRtt_ms: first.quorumRtt_ms,
      floor_rtt: direct
        ? 1
        : round(forwardedRatio(first.rtt_from, coordinator_region, acceptor_regions, accept_quorum), 2),
      proposerIds: rounds.map((r) => r.view.proposerId),
      appends: samples.length,
      failed: rounds.reduce((a, r) => a + r.failed, 0),
      untimed: rounds.reduce((a, r) => a + r.untimed, 0),
      ms: ms && roundSummary(ms, 1),
      rtt: ms && roundSummary(scaled(ms, first.quorumRtt_ms), 3),
      phase1_runs: direct ? (d.phase1_runs ?? 0) : null,
      entries_committed: direct ? (d.entries_committed ?? 0) : null,
    };
  });
  const pooled = parts.flatMap((p) => p.proposers.flatMap((r) => r.samples_ms.map((x) => x / r.view.quorumRtt_ms)));
  const client = parts.flatMap((p) => p.result.okLatencies_ms);
  const requests_2xx = sum((p) => p.result.requests_2xx);
  return {
    load,
    connections,
    duration_s: round(duration_s, 2),
    entries_per_s: round(requests_2xx / duration_s, 1),
    requests_2xx,
    requests_non2xx: sum((p) => p.result.requests_non2xx),
    statusCodes: addStats(parts.map((p) => p.result.statusCodes)),
    errors: sum((p) => p.result.errors),
    timeouts: sum((p) => p.result.timeouts),
    client_ms: client.length > 0 ? roundSummary(summarize(client), 1) : null,
    rtt: pooled.length > 0 ? roundSummary(summarize(pooled), 3) : null,
    server_entries_per_s: round((stats.entries_committed ?? 0) / sum((p) => p.busy_s), 1),
    slots_per_s: round((stats.slots_chosen ?? 0) / sum((p) => p.busy_s), 1),
    entries_per_slot: stats.slots_chosen ? round((stats.entries_committed ?? 0) / stats.slots_chosen, 1) : null,
    cpu: {
      userWorkerdMainThread_cores: cpuAvg((c) => c.userWorkerdMainThread_cores),
      loadGenerator_cores: cpuAvg((c) => c.loadGenerator_cores),
      otherProcesses_cores: cpuAvg((c) => c.otherProcesses_cores),
      steal_cores: cpuAvg((c) => c.steal_cores),
    },
    stats,
    proposers,
  };
}

/** One design at one count in one round: the mode set (new Workers), a warm-up, then both loads. */
async function measureCount(
  ctx: BenchContext,
  dev: WranglerDev,
  design: BenchDesign,
  k: number,
  sizes: ProposersSizes,
): Promise<{ light: LoadPart; loaded: LoadPart }> {
  const regions = regionsFor(k);
  const ledger = ledgerFor(design, k);
  // No isolate-wide RTT: each proposer adds its own (`rtt_from`), with the default jitter.
  await callOk(dev.url, "PUT", "/v1/_faults", {});
  await callOk(dev.url, "PUT", "/v1/_bench/mode", {
    classic: false,
    proposers: regions.map((rtt_from) => ({ rtt_from })),
    design,
  });
  ctx.progress(
    `proposers: ${design} k=${k} in ${regions.join(",")} (own quorum RTTs ${regions.map((r) => nthNearestRtt_ms(r, acceptor_regions, accept_quorum)).join(", ")} ms); warm-up ${sizes.warmup_s} s`,
  );
  await runLoad({
    base: dev.url,
    path: `/v1/ledgers/${ledger}/entries`,
    connections: loaded_connections,
    duration_s: sizes.warmup_s,
    body: () => ctx.entries.single(`${ledger}-warmup`),
    entriesPerRequest: 1,
  });
  await drain(dev);
  await settle(dev.url, ledger);
  const light = await measureLoad(ctx, dev, ledger, "light", k, sizes.load_s);
  const loaded = await measureLoad(ctx, dev, ledger, "loaded", loaded_connections, sizes.load_s);
  return { light, loaded };
}

/**
 * Every count of `counts` in both designs, in `sizes.rounds` rounds of alternating order, against
 * one `wrangler dev`.
 */
export async function proposersScenario(
  ctx: BenchContext,
  counts: readonly number[],
  sizes: ProposersSizes,
): Promise<ProposersScenario> {
  const name = "proposers";
  const quorum = { prepare: 2, accept: accept_quorum };
  const designs = bench_designs;
  const vars = { ACCEPTOR_REGIONS: acceptor_regions.join(","), COORDINATOR_REGION: coordinator_region };
  return withWrangler(ctx, name, vars, async (dev) => {
    const key = (design: BenchDesign, k: number) => `${design} ${k}`;
    const parts = new Map<string, { light: LoadPart[]; loaded: LoadPart[] }>();
    for (const design of designs) for (const k of counts) parts.set(key(design, k), { light: [], loaded: [] });
    for (let r = 0; r < sizes.rounds; r++) {
      ctx.progress(`${name}: round ${r + 1} of ${sizes.rounds}`);
      const forward = r % 2 === 0;
      for (const k of forward ? counts : [...counts].reverse()) {
        for (const design of forward ? designs : [...designs].reverse()) {
          const { light, loaded } = await measureCount(ctx, dev, design, k, sizes);
          parts.get(key(design, k))!.light.push(light);
          parts.get(key(design, k))!.loaded.push(loaded);
        }
      }
    }
    await callOk(dev.url, "PUT", "/v1/_bench/mode", { classic: false });
    const runs = designs.flatMap((design) =>
      counts.map((k): ProposersRun => {
        const { light, loaded } = parts.get(key(design, k))!;
        return {
          design,
          k,
          regions: regionsFor(k),
          ledger: ledgerFor(design, k),
          loads: [combine(design, "light", k, light), combine(design, "loaded", loaded_connections, loaded)],
        };
      }),
    );
    return { name, acceptors: acceptor_regions, quorum, coordinatorRegion: coordinator_region, designs, sizes, runs };
  });
}
