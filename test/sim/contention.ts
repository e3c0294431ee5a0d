/**
 * Proposer contention in the simulator (issue #12): proposers in different regions, each fed an
 * open-loop stream of appends (Poisson arrivals, so a slow commit does not slow the arrivals behind
 * it), and cold isolates that join in the middle of a run with a new proposerId and no state, take
 * appends for a while, and vanish. A request's latency runs from its arrival to its receipt, through
 * the front-end's retries of 503 (same ids, as `latency.ts` does), and is reported per proposer in
 * units of that proposer's own quorum RTT (to the accept-quorum-th nearest acceptor from its region).
 *
 * Two designs run on the same seeds (same arrivals): `direct`, today's, where each isolate proposes
 * itself, and `coordinator` (issue #12's answer, `coordinator.ts`), where each isolate's Worker
 * forwards to the ledger's one coordinator, placed by `coordinatorRegionFor` for the table's regions.
 */

import { coordinatorRegionFor } from "../../src/core/coordinator/index.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import { QuorumUnavailableError } from "../../src/core/proposer/index.js";
import type { QuorumConfig } from "../../src/core/quorum.js";
import { nthNearestRtt_ms, type RegionHint, region_hints } from "../../src/core/region-rtt.js";
import type { AimPlan } from "./aimed-faults.js";
import { SimClient } from "./clients.js";
import { Cluster, type SimProposer } from "./cluster.js";
import { useCoordinator } from "./coordinator.js";
import type { LatencySetup } from "./latency.js";
import { Prng } from "./prng.js";
import { World } from "./world.js";

/** Sends of one request by the measuring front-end (the SDK's default is 6). */
export const front_end_attempts_max = 6;
/** Appends each proposer of a mix receives in one run (a cold joiner has its own count). */
export const contention_requests_per_proposer = 200;
/** Arrival rate of each proposer's stream: this many appends per that proposer's quorum RTT. */
export const contention_arrivals_per_quorum_rtt = 4;
/** Appends a cold joiner receives before it vanishes. */
export const cold_joiner_requests = 20;
/** A cold joiner appears this far into the shortest of the others' streams (by expected length). */
const cold_joiner_join_fraction = 0.4;
/** Bounds on one run: requests still open at the bound count as failed. */
const contention_virtual_ms_max = 600_000;
const contention_events_max = 20_000_000;

/** The proposer mixes of the contention table: 1, 2, 4 and 8 proposers (two per region). */
export const contention_mixes: ReadonlyArray<readonly RegionHint[]> = [
  ["enam"],
  ["enam", "weur"],
  ["enam", "wnam", "weur", "apac"],
  ["enam", "enam", "wnam", "wnam", "weur", "weur", "apac", "apac"],
];

/** The region of the cold isolate in the table's "cold isolate joins" rows. */
export const cold_joiner_region: RegionHint = "weur";

/** How the isolates' requests reach the acceptors: each proposes itself, or each forwards to one coordinator. */
export type ContentionDesign = "direct" | "coordinator";
export const contention_designs: readonly ContentionDesign[] = ["direct", "coordinator"];
/** The regions the table's clients are in: where the coordinator is placed for. */
export const contention_client_regions: readonly RegionHint[] = ["enam", "wnam", "weur", "apac"];

/** Where the coordinator of `setup` lives: the placement production uses, for the table's client regions. */
export function coordinatorRegionOf(setup: ContentionCluster): RegionHint {
  return coordinatorRegionFor(setup.acceptorRegions, setup.quorum.accept, contention_client_regions);
}

export type ContentionCluster = Pick<LatencySetup, "label" | "acceptorRegions" | "quorum">;

export interface ColdJoiner {
  readonly region: RegionHint;
  /** Virtual time at which the isolate appears and its stream starts. */
  readonly join_ms: number;
  readonly requests: number;
}

export interface ContentionRun {
  readonly proposerRegions: readonly RegionHint[];
  readonly requests_per_proposer?: number;
  readonly arrivals_per_quorum_rtt?: number;
  /** Each joins at its time, takes its appends, and is dropped once every one is answered. */
  readonly coldJoiners?: readonly ColdJoiner[];
  readonly seed?: number;
  /** `direct` unless said. */
  readonly design?: ContentionDesign;
}

export interface ProposerLatency {
  /** The proposer's simulator name (`p0`, ...); a cold joiner's is given when it joins. */
  readonly proposer: string;
  readonly region: RegionHint;
  readonly cold: boolean;
  readonly quorum_rtt_ms: number;
  readonly requests: number;
  /** Requests that got their receipt. */
  readonly samples: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
  /** 503s answered on the way, each retried by the front-end with the same ids. */
  readonly unavailable: number;
  /** Requests that got no receipt: out of attempts, refused (429), or still open at the run's bound. */
  readonly failed: number;
  /** Latencies of the committed requests in units of this proposer's quorum RTT, ascending. */
  readonly latencies: readonly number[];
}

export interface ContentionResult {
  readonly setup: string;
  readonly design: ContentionDesign;
  /** The coordinator's region (the coordinator design only). */
  readonly coordinatorRegion?: RegionHint;
  /** Phase 1s run by every proposer of the run (the coordinator's included). */
  readonly phase1_runs: number;
  /** Every proposer's counters of the run, summed (`ProposerStats`). */
  readonly counters: Readonly<Record<string, number>>;
  readonly proposers: readonly ProposerLatency[];
  readonly virtual_ms: number;
  /** False when the run hit its virtual-time or event bound before every request was answered. */
  readonly finished: boolean;
}

export function fill(id: string): EntryInput {
  return { id, account: "acct-1", symbol: "AAPL", side: "buy", quantity: "1", price: "100.25" };
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** One stream's figures while it runs (a prototype's too, `prototypes/harness.ts`). */
export interface Stream {
  name: string;
  readonly region: RegionHint;
  readonly cold: boolean;
  readonly quorum_rtt_ms: number;
  readonly requests: number;
  readonly latencies_ms: number[];
  unavailable: number;
  finished: boolean;
}

/**
 * One request as a front-end sends it, from its arrival: a 503 (outcome unknown) is retried at once
 * with the same entries, as the client SDK does; anything else that is not a receipt ends it unanswered.
 */
async function sendAsFrontEnd(world: World, p: SimProposer, entries: EntryInput[], stream: Stream): Promise<void> {
  const arrived_ms = world.now_ms;
  for (let attempt = 1; ; attempt++) {
    try {
      await p.append(entries);
      stream.latencies_ms.push(world.now_ms - arrived_ms);
      return;
    } catch (error) {
      if (!(error instanceof QuorumUnavailableError) || attempt >= front_end_attempts_max) return;
      stream.unavailable++;
    }
  }
}

/** Poisson arrivals (exponential gaps drawn from `rng`), each sent at once without waiting for the earlier ones. */
async function openLoop(world: World, p: SimProposer, rng: Prng, stream: Stream, mean_gap_ms: number): Promise<void> {
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < stream.requests; i++) {
    await world.sleep(rng.exponential(mean_gap_ms));
    pending.push(sendAsFrontEnd(world, p, [fill(`${stream.name}-e${i}`)], stream));
  }
  await Promise.all(pending);
  stream.finished = true;
}

/**
 * Runs one mix. Arrivals come from their own streams, forked from the seed before anything else
 * draws, so two runs with the same seed and the same proposers see the same arrivals whether or not
 * a cold joiner is added (the joiners' streams are forked after the others').
 */
export async function measureContention(setup: ContentionCluster, run: ContentionRun): Promise<ContentionResult> {
  const requests_per_proposer = run.requests_per_proposer ?? contention_requests_per_proposer;
  const rate = run.arrivals_per_quorum_rtt ?? contention_arrivals_per_quorum_rtt;
  const joiners = run.coldJoiners ?? [];
  const design = run.design ?? "direct";
  const root = new Prng(run.seed ?? 1);
  const netRng = root.fork();
  const arrivalsRng = root.fork();
  // Forked after the others: the direct design's draws are the same whether or not this exists.
  const linkRng = root.fork();
  const world = new World();
  const cluster = new Cluster(world, netRng, {
    quorum: setup.quorum,
    acceptorRegions: setup.acceptorRegions,
    proposerRegions: run.proposerRegions,
  });
  const coordinatorRegion = design === "coordinator" ? coordinatorRegionOf(setup) : undefined;
  if (coordinatorRegion !== undefined) useCoordinator(cluster, world, linkRng, coordinatorRegion);
  const quorumRtt_ms = (region: RegionHint) => nthNearestRtt_ms(region, setup.acceptorRegions, setup.quorum.accept);
  const newStream = (name: string, region: RegionHint, isCold: boolean, requests: number): Stream => ({
    name,
    region,
    cold: isCold,
    quorum_rtt_ms: quorumRtt_ms(region),
    requests,
    latencies_ms: [],
    unavailable: 0,
    finished: false,
  });
  const warm = cluster.proposers.map((p) => ({
    p,
    rng: arrivalsRng.fork(),
    stream: newStream(p.name, p.region, false, requests_per_proposer),
  }));
  const joining = joiners.map((j) => ({
    j,
    rng: arrivalsRng.fork(),
    stream: newStream("cold", j.region, true, j.requests),
  }));
  // Not awaited: the streams run side by side on the simulated clock; `finished` ends the run.
  for (const { p, rng, stream } of warm) void openLoop(world, p, rng, stream, stream.quorum_rtt_ms / rate);
  for (const { j, rng, stream } of joining) {
    world.schedule(j.join_ms, () => {
      const p = cluster.addProposer(j.region);
      stream.name = p.name;
      // Not awaited: the joiner runs beside the others; once its last request is answered it vanishes.
      void openLoop(world, p, rng, stream, stream.quorum_rtt_ms / rate).then(() => cluster.retireProposer(p));
    });
  }
  const streams = [...warm.map((w) => w.stream), ...joining.map((c) => c.stream)];
  const finished = () => streams.every((s) => s.finished);
  await world.run(contention_virtual_ms_max, contention_events_max, finished);
  return {
    setup: setup.label,
    design,
    ...(coordinatorRegion === undefined ? {} : { coordinatorRegion }),
    phase1_runs: cluster.proposerStats().phase1_runs ?? 0,
    counters: cluster.proposerStats(),
    virtual_ms: world.now_ms,
    finished: finished(),
    proposers: streams.map(proposerLatency),
  };
}

/** A finished stream's figures, in units of its proposer's own quorum RTT. */
export function proposerLatency(s: Stream): ProposerLatency {
  const latencies = s.latencies_ms.map((ms) => ms / s.quorum_rtt_ms).sort((a, b) => a - b);
  return {
    proposer: s.name,
    region: s.region,
    cold: s.cold,
    quorum_rtt_ms: s.quorum_rtt_ms,
    requests: s.requests,
    samples: latencies.length,
    median: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    unavailable: s.unavailable,
    failed: s.requests - latencies.length,
    latencies,
  };
}

export interface ColdJoinEffect {
  readonly setup: string;
  /** A contention design, or a prototype's name (`prototypes/`). */
  readonly design: string;
  readonly proposerRegions: readonly RegionHint[];
  readonly joiner: ColdJoiner;
  /** The others' latencies pooled (each in its own proposer's quorum RTT), without and with the joiner. */
  readonly others_p99_without: number;
  readonly others_p99_with: number;
  readonly others_max_without: number;
  readonly others_max_with: number;
  readonly joiner_result: ProposerLatency;
  /** Requests without a receipt over the run with the joiner, the joiner's included. */
  readonly failed_with: number;
}

/**
 * The same run (same seed, same arrivals) without and with one cold isolate that joins part-way
 * through the others' streams: how much the newcomer's phase 1 disturbs the proposers already busy.
 */
export async function measureColdJoin(
  setup: ContentionCluster,
  run: ContentionRun,
  joinerRegion: RegionHint = cold_joiner_region,
): Promise<ColdJoinEffect> {
  const joiner = coldJoinerFor(setup, run, joinerRegion);
  const without = await measureContention(setup, { ...run, coldJoiners: [] });
  const withJoiner = await measureContention(setup, { ...run, coldJoiners: [joiner] });
  return {
    ...coldJoinEffect(without.proposers, withJoiner.proposers, joiner),
    setup: setup.label,
    design: run.design ?? "direct",
  };
}

/** The cold joiner of the table's rows: in `region`, part-way through the shortest of the others' streams. */
export function coldJoinerFor(setup: ContentionCluster, run: ContentionRun, region: RegionHint): ColdJoiner {
  const requests = run.requests_per_proposer ?? contention_requests_per_proposer;
  const rate = run.arrivals_per_quorum_rtt ?? contention_arrivals_per_quorum_rtt;
  const shortest_ms = Math.min(
    ...run.proposerRegions.map(
      (r) => (requests * nthNearestRtt_ms(r, setup.acceptorRegions, setup.quorum.accept)) / rate,
    ),
  );
  return { region, join_ms: Math.round(shortest_ms * cold_joiner_join_fraction), requests: cold_joiner_requests };
}

/** The others' pooled p99 and max without and with the joiner, and the joiner's own figures. */
export function coldJoinEffect(
  without: readonly ProposerLatency[],
  withJoiner: readonly ProposerLatency[],
  joiner: ColdJoiner,
): Omit<ColdJoinEffect, "setup" | "design"> {
  const pooled = (proposers: readonly ProposerLatency[]) =>
    proposers
      .filter((p) => !p.cold)
      .flatMap((p) => p.latencies)
      .sort((a, b) => a - b);
  const before = pooled(without);
  const after = pooled(withJoiner);
  const joined = withJoiner.find((p) => p.cold);
  if (joined === undefined) throw new Error("the run with a cold joiner has no cold proposer");
  return {
    proposerRegions: without.filter((p) => !p.cold).map((p) => p.region),
    joiner,
    others_p99_without: quantile(before, 0.99),
    others_p99_with: quantile(after, 0.99),
    others_max_without: before.at(-1) ?? Number.NaN,
    others_max_with: after.at(-1) ?? Number.NaN,
    joiner_result: joined,
    failed_with: withJoiner.reduce((k, p) => k + p.failed, 0),
  };
}

/*
 * The contention mix of the seeded fault scenarios (`scenario.ts`): on a share of seeds, proposers
 * in regions of their own, each fed an open-loop stream of the clients' usual requests, and cold
 * isolates that join during the fault phase and are evicted a while later, rounds in flight and all,
 * so that every mechanism against contention runs under the checker. Everything the mix draws comes
 * from its own stream, seeded from the seed, so a seed without the mix runs exactly as before it.
 */

/** Share of seeds whose scenario runs the contention mix. */
export const scenario_mix_share = 0.3;
/**
 * Whether a seed with tiny limits (`limits-profiles.ts`) may draw the mix. Not yet: under the mix,
 * today's protocol duels its way past the 30 s liveness bound on about one in twelve such seeds
 * (proposers take leadership from each other every second and commit a slot a second, while the
 * tiny queues refuse the open-loop streams with 429s), and every check after the heal fails in turn.
 * No value is lost or chosen twice. Seeds of the coordinator design (issue #12's answer) have their
 * own switch, `coordinator_mix_under_tiny_limits` in `coordinator-plan.ts`, with what it measured;
 * `--contention-mix` runs the mix on any seed meanwhile.
 */
export const mix_under_tiny_limits = false;
/** XORed into the seed to seed the mix's stream (any constant: it only keeps the streams apart). */
const scenario_mix_stream = 0x6d697831;
/** Proposers the mix adds at the start, each in a region no other of them has. */
const mix_warm_proposers = { min: 1, max: 3 } as const;
/** Cold isolates that join during the fault phase. */
const mix_cold_joiners = { min: 1, max: 2 } as const;
/** Requests of one open-loop stream (a warm proposer's), and of a joiner's. */
const mix_stream_requests = { min: 4, max: 12 } as const;
const mix_joiner_requests = { min: 2, max: 8 } as const;
/** Arrival rates a stream draws from, in requests per its proposer's quorum RTT. */
const mix_arrivals_per_quorum_rtt = [1, 4, 8] as const;
/** How long a joiner stays before its isolate is evicted. */
const mix_joiner_stay_ms = { min: 200, max: 2000 } as const;
/** The last join is this long before the fault phase ends, so every joiner exists before the heal. */
const mix_join_before_end_ms = 500;

export interface MixStream {
  readonly region: RegionHint;
  readonly requests: number;
  readonly arrivals_per_quorum_rtt: number;
}

export interface MixJoiner extends MixStream {
  readonly join_ms: number;
  readonly leave_ms: number;
}

export interface ScenarioMix {
  readonly warm: readonly MixStream[];
  readonly joiners: readonly MixJoiner[];
  /** The mix's stream after the plan: the clients' streams and the clock offsets fork from it. */
  readonly rng: Prng;
}

/**
 * Whether `seed` runs the mix (`force` decides instead, after the same first draw) and, if so, its
 * plan. The draws come from the mix's own stream, never from the scenario's.
 */
export function drawScenarioMix(seed: number, fault_phase_ms: number, force?: boolean): ScenarioMix | undefined {
  const rng = new Prng((seed ^ scenario_mix_stream) >>> 0);
  const drawn = rng.chance(scenario_mix_share);
  if (!(force ?? drawn)) return undefined;
  const stream = (region: RegionHint, requests: { min: number; max: number }): MixStream => ({
    region,
    requests: rng.int(requests.min, requests.max),
    arrivals_per_quorum_rtt: rng.pick(mix_arrivals_per_quorum_rtt),
  });
  // Regions of their own: the first few of the hints in a seeded order.
  const shuffled = [...region_hints];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const warm = shuffled
    .slice(0, rng.int(mix_warm_proposers.min, mix_warm_proposers.max))
    .map((r) => stream(r, mix_stream_requests));
  const joiners = Array.from({ length: rng.int(mix_cold_joiners.min, mix_cold_joiners.max) }, () => {
    const join_ms = rng.uniform(0, fault_phase_ms - mix_join_before_end_ms);
    // An eviction is a fault: like every fault, it is over when the fault phase ends.
    const leave_ms = Math.min(join_ms + rng.uniform(mix_joiner_stay_ms.min, mix_joiner_stay_ms.max), fault_phase_ms);
    return { ...stream(rng.pick(region_hints), mix_joiner_requests), join_ms, leave_ms };
  });
  return { warm, joiners, rng };
}

export function describeScenarioMix(mix: ScenarioMix | undefined): string {
  if (mix === undefined) return "";
  const rate = (s: MixStream) => `${s.region} ${s.requests} at ${s.arrivals_per_quorum_rtt}/RTT`;
  return (
    `; contention mix: open-loop ${mix.warm.map(rate).join(", ")}; cold joiners ` +
    mix.joiners.map((j) => `${rate(j)} from ${j.join_ms.toFixed(0)} to ${j.leave_ms.toFixed(0)} ms`).join(", ")
  );
}

/**
 * Adds the mix's proposers to the cluster at once and schedules its joiners; returns the mix's
 * clients (a joiner's is added when it joins, before the fault phase ends). The added proposers get
 * the seed's clock aim as the others did (`armAims`), their offsets drawn from the mix's stream.
 */
export function armScenarioMix(
  mix: ScenarioMix,
  cluster: Cluster,
  world: World,
  aims: AimPlan,
  quorum: QuorumConfig,
): SimClient[] {
  const { rng } = mix;
  const regions = cluster.acceptors.map((a) => a.region);
  const meanGap_ms = (s: MixStream) => nthNearestRtt_ms(s.region, regions, quorum.accept) / s.arrivals_per_quorum_rtt;
  const clocked = (p: SimProposer): SimProposer => {
    if (aims.clocks === "equal_coarse") p.clockTick_ms = aims.clock_ms;
    if (aims.clocks === "skewed") p.clockOffset_ms = rng.uniform(-aims.clock_ms, aims.clock_ms);
    return p;
  };
  const clients: SimClient[] = [];
  for (const [i, s] of mix.warm.entries()) {
    const p = clocked(cluster.addProposer(s.region));
    const client = new SimClient(`m${i}`, world, cluster, rng.fork(), s.requests, p);
    clients.push(client);
    // Not awaited: the stream runs beside the scenario's clients; the scenario waits on `finished`.
    void client.runOpenLoop(meanGap_ms(s));
  }
  for (const [i, j] of mix.joiners.entries()) {
    const clientRng = rng.fork();
    world.schedule(j.join_ms, () => {
      const p = clocked(cluster.addProposer(j.region));
      const client = new SimClient(`j${i}`, world, cluster, clientRng, j.requests, p);
      clients.push(client);
      void client.runOpenLoop(meanGap_ms(j)); // not awaited, as above
      // Evicted whatever it holds: its client retries what is unanswered on another proposer.
      world.schedule(j.leave_ms - j.join_ms, () => cluster.retireProposer(p));
    });
  }
  return clients;
}
