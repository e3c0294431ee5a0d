/**
 * `npm run bench -- --proposers 1,2,4,8`: k proposers of one ledger inside the Worker's isolate (the
 * bench's k-proposer mode, `src/proposer/bench-proposers.ts`), each in its own simulated region, the
 * counts measured side by side in one `wrangler dev`. Acceptors enam, wnam, weur (Q1 = Q2 = 2); the
 * proposers' regions cycle through `proposer_regions` (k = 4: one in each; k = 8: two in each), as
 * in issue #12's simulator targets. Each k gets a fresh ledger, a warm-up, then two closed-loop loads
 * of single-entry appends: `light` (one client per proposer) and `loaded` (64 clients). Reported per
 * load: entries/s and latency as the clients saw them, and each proposer's own append times (server
 * side, call to outcome) in units of that proposer's own quorum RTT.
 */

import type { WranglerDev } from "../scripts/wrangler-dev.js";
import { nthNearestRtt_ms, type RegionHint } from "../src/core/region-rtt.js";
import { bench_proposers_max } from "../src/proposer/bench-proposer-limits.js";
import { callOk } from "./client.js";
import { runLoad } from "./load.js";
import { type BenchContext, drain, drain_window_ms, withWrangler } from "./scenarios.js";
import { round, roundSummary, type Summary, scaled, summarize } from "./stats.js";

export const acceptor_regions: readonly RegionHint[] = ["enam", "wnam", "weur"];
export const accept_quorum = 2;
/** Where the k proposers sit, in turn. */
export const proposer_regions: readonly RegionHint[] = ["enam", "wnam", "weur", "apac"];
/** The clients of the `loaded` load: issue #12's throughput target is stated at 64. */
export const loaded_connections = 64;
/** Proposer counts one run may compare (each costs a warm-up and two loads). */
export const proposer_counts_max = 4;

export interface ProposersSizes {
  readonly warmup_s: number;
  /** Seconds of each load (light, loaded) per proposer count. */
  readonly load_s: number;
}

export function proposersSizesFor(quick: boolean): ProposersSizes {
  return quick ? { warmup_s: 1, load_s: 5 } : { warmup_s: 2, load_s: 15 };
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

/** What `GET /v1/_bench/stats` says of one bench proposer. */
interface ProposerView {
  readonly proposerId: string;
  readonly rtt_from: RegionHint;
  readonly quorumRtt_ms: number;
  readonly stats: Stats;
  readonly appends: { readonly samples_ms: number[]; readonly samples_dropped: number; readonly failed: number };
}

async function benchStats(base: string, ledger: string): Promise<{ stats: Stats; proposers: ProposerView[] }> {
  const body = (await callOk(base, "GET", `/v1/_bench/stats?ledger=${ledger}`)).body as {
    stats: Stats | null;
    proposers: ProposerView[] | null;
  };
  if (body.stats === null || body.proposers === null) throw new Error(`${ledger}: not in the k-proposer mode`);
  return { stats: body.stats, proposers: body.proposers };
}

function delta(before: Stats, after: Stats): Stats {
  const d: Stats = {};
  for (const [k, v] of Object.entries(after)) d[k] = v - (before[k] ?? 0);
  return d;
}

/** One proposer over one load: its own append times, in ms and in units of its own quorum RTT. */
export interface ProposerFigures {
  readonly proposerId: string;
  readonly rtt_from: RegionHint;
  readonly quorumRtt_ms: number;
  readonly appends: number;
  readonly failed: number;
  /** Appends not timed because the proposer already held `bench_append_samples_max` times. */
  readonly untimed: number;
  readonly ms: Summary | null;
  readonly rtt: Summary | null;
  readonly phase1_runs: number;
  readonly entries_committed: number;
}

/** One load at one proposer count. */
export interface ProposersLoad {
  readonly load: "light" | "loaded";
  readonly connections: number;
  readonly duration_s: number;
  /** As the clients saw it: 2xx answers × 1 entry / duration. */
  readonly entries_per_s: number;
  readonly requests_non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly client_ms: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Every proposer's append times pooled, each divided by its own quorum RTT. */
  readonly rtt: Summary | null;
  /** Server side, over the load and its drain: entries committed per second by all k. */
  readonly server_entries_per_s: number;
  /** All k proposers' counters over the load (a delta). */
  readonly stats: Stats;
  readonly proposers: readonly ProposerFigures[];
}

export interface ProposersRun {
  readonly k: number;
  readonly regions: readonly RegionHint[];
  readonly ledger: string;
  readonly loads: readonly ProposersLoad[];
}

export interface ProposersScenario {
  readonly name: "proposers";
  readonly acceptors: readonly RegionHint[];
  readonly quorum: { readonly prepare: number; readonly accept: number };
  readonly sizes: ProposersSizes;
  readonly runs: readonly ProposersRun[];
  readonly startup_ms: number;
  readonly workerErrors: readonly string[];
}

async function measureLoad(
  ctx: BenchContext,
  dev: WranglerDev,
  ledger: string,
  load: ProposersLoad["load"],
  connections: number,
  duration_s: number,
): Promise<ProposersLoad> {
  const base = dev.url;
  const before = await benchStats(base, ledger);
  const label = `${ledger}-${load}`;
  const { okLatencies_ms: _, ...result } = await runLoad({
    base,
    path: `/v1/ledgers/${ledger}/entries`,
    connections,
    duration_s,
    body: () => ctx.entries.single(label),
    entriesPerRequest: 1,
  });
  const drained_ms = await drain(dev);
  const busy_s = result.duration_s + Math.max(0, drained_ms - drain_window_ms / 2) / 1000;
  const after = await benchStats(base, ledger);
  const proposers = after.proposers.map((p, i): ProposerFigures => {
    const was = before.proposers[i]!;
    if (was.proposerId !== p.proposerId) throw new Error(`${ledger}: proposer ${i} changed during the load`);
    const samples = p.appends.samples_ms.slice(was.appends.samples_ms.length);
    const ms = samples.length > 0 ? summarize(samples) : null;
    const d = delta(was.stats, p.stats);
    return {
      proposerId: p.proposerId,
      rtt_from: p.rtt_from,
      quorumRtt_ms: p.quorumRtt_ms,
      appends: samples.length,
      failed: p.appends.failed - was.appends.failed,
      untimed: p.appends.samples_dropped - was.appends.samples_dropped,
      ms: ms && roundSummary(ms, 1),
      rtt: ms && roundSummary(scaled(ms, p.quorumRtt_ms), 3),
      phase1_runs: d.phase1_runs ?? 0,
      entries_committed: d.entries_committed ?? 0,
    };
  });
  const pooled = after.proposers.flatMap((p, i) =>
    p.appends.samples_ms.slice(before.proposers[i]!.appends.samples_ms.length).map((x) => x / p.quorumRtt_ms),
  );
  const stats = delta(before.stats, after.stats);
  const figures: ProposersLoad = {
    load,
    connections,
    duration_s: round(result.duration_s, 2),
    entries_per_s: round(result.entries_per_s, 1),
    requests_non2xx: result.requests_non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    client_ms: { p50: result.latency_ms.p50, p99: result.latency_ms.p99, max: result.latency_ms.max },
    rtt: pooled.length > 0 ? roundSummary(summarize(pooled), 3) : null,
    server_entries_per_s: round((stats.entries_committed ?? 0) / busy_s, 1),
    stats,
    proposers,
  };
  ctx.progress(
    `  k=${proposers.length} ${load} ×${connections}: ${figures.entries_per_s} entries/s, client p50 ${figures.client_ms.p50} ms p99 ${figures.client_ms.p99} ms, ${figures.requests_non2xx} non-2xx, ${figures.errors} errors; own-RTT median ${figures.rtt?.median ?? "–"} p99 ${figures.rtt?.p99 ?? "–"} max ${figures.rtt?.max ?? "–"}; phase 1 runs ${stats.phase1_runs ?? 0}`,
  );
  return figures;
}

/** Every count of `counts` in turn against one `wrangler dev`. */
export async function proposersScenario(
  ctx: BenchContext,
  counts: readonly number[],
  sizes: ProposersSizes,
): Promise<ProposersScenario> {
  const name = "proposers";
  const quorum = { prepare: 2, accept: accept_quorum };
  return withWrangler(ctx, name, { ACCEPTOR_REGIONS: acceptor_regions.join(",") }, async (dev) => {
    const runs: ProposersRun[] = [];
    for (const k of counts) {
      const regions = regionsFor(k);
      const ledger = `bench-proposers-k${k}-${ctx.entries.made}`;
      // No isolate-wide RTT: each proposer adds its own (`rtt_from`), with the default jitter.
      await callOk(dev.url, "PUT", "/v1/_faults", {});
      await callOk(dev.url, "PUT", "/v1/_bench/mode", {
        classic: false,
        proposers: regions.map((rtt_from) => ({ rtt_from })),
      });
      ctx.progress(
        `${name}: k=${k} proposers in ${regions.join(",")} (own quorum RTTs ${regions.map((r) => nthNearestRtt_ms(r, acceptor_regions, accept_quorum)).join(", ")} ms); warm-up ${sizes.warmup_s} s`,
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
      const loads = [
        await measureLoad(ctx, dev, ledger, "light", k, sizes.load_s),
        await measureLoad(ctx, dev, ledger, "loaded", loaded_connections, sizes.load_s),
      ];
      runs.push({ k, regions, ledger, loads });
    }
    await callOk(dev.url, "PUT", "/v1/_bench/mode", { classic: false });
    return { name, acceptors: acceptor_regions, quorum, sizes, runs };
  });
}
