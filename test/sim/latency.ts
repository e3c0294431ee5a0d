/**
 * Commit latency in the simulator, in units of the quorum RTT: the RTT from the proposer's region to
 * the accept-quorum-th nearest acceptor, which is what one round trip to an accept quorum costs at
 * best. Message delays come from the region RTT table with jitter, plus the acceptors' durable write
 * time, so a warm commit is a little above 1.0 and a cold one (prepare, then accept) a little above 2.0.
 */
import { QuorumUnavailableError } from "../../src/core/proposer/index.js";
import { type QuorumConfig, quorumConfig } from "../../src/core/quorum.js";
import { nthNearestRtt_ms, type RegionHint } from "../../src/core/region-rtt.js";
import { coordinatorBound, fastPaxosBound, mean_durable_write_ms } from "./bounds.js";
import { Cluster, type SimProposer } from "./cluster.js";
import {
  type ColdJoinEffect,
  type ContentionDesign,
  cold_joiner_region,
  contention_arrivals_per_quorum_rtt,
  contention_client_regions,
  contention_designs,
  contention_mixes,
  contention_requests_per_proposer,
  coordinatorRegionOf,
  fill,
  front_end_attempts_max,
  measureColdJoin,
  measureContention,
  type ProposerLatency,
  quantile,
} from "./contention.js";
import { Prng } from "./prng.js";
import {
  contention_prototypes,
  measurePrototype,
  measurePrototypeColdJoin,
  type PrototypeResult,
} from "./prototypes/index.js";
import { World } from "./world.js";

export type LatencyMode = "warm" | "cold" | "contended";

export interface LatencySetup {
  readonly label: string;
  readonly acceptorRegions: readonly RegionHint[];
  readonly quorum: QuorumConfig;
  readonly proposerRegion: RegionHint;
}

export interface LatencyResult {
  readonly setup: string;
  readonly mode: LatencyMode;
  readonly quorum_rtt_ms: number;
  readonly samples: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
  readonly failed: number;
  /**
   * 503s answered on the way (each retried by the front-end, same ids): under contention a request
   * still undecided at `commit_deadline_ms` is answered 503 rather than left waiting.
   */
  readonly unavailable: number;
}

export const latency_setups: readonly LatencySetup[] = [
  {
    label: "3 acceptors enam,wnam,weur (Q1=2, Q2=2)",
    acceptorRegions: ["enam", "wnam", "weur"],
    quorum: quorumConfig(3),
    proposerRegion: "enam",
  },
  {
    label: "5 acceptors enam,wnam,weur,apac,sam (Q1=4, Q2=2)",
    acceptorRegions: ["enam", "wnam", "weur", "apac", "sam"],
    quorum: quorumConfig(5, 4, 2),
    proposerRegion: "enam",
  },
];

/** Proposers that contend in mode (c). */
export const contending_proposers = 4;
const run_virtual_ms_max = 3_600_000;
const events_max = 5_000_000;

export async function measureLatency(
  setup: LatencySetup,
  mode: LatencyMode,
  samples: number,
  seed = 1,
): Promise<LatencyResult> {
  const world = new World();
  const rng = new Prng(seed);
  const proposers = mode === "contended" ? contending_proposers : 1;
  const cluster = new Cluster(world, rng, {
    quorum: setup.quorum,
    acceptorRegions: setup.acceptorRegions,
    proposerRegions: Array.from({ length: proposers }, () => setup.proposerRegion),
  });
  const quorum_rtt_ms = nthNearestRtt_ms(setup.proposerRegion, setup.acceptorRegions, setup.quorum.accept);
  const latencies_ms: number[] = [];
  let failed = 0;
  let next = 0;

  let unavailable = 0;
  /**
   * One request as a front-end sends it: a 503 (outcome unknown) is retried at once with the same
   * entries, as the client SDK does; its latency runs from the first send to the commit.
   */
  const timeOne = async (p: SimProposer): Promise<void> => {
    const started = world.now_ms;
    const entries = [fill(`e${next++}`)];
    for (let attempt = 1; ; attempt++) {
      try {
        await p.proposer.append(entries);
        latencies_ms.push(world.now_ms - started);
        return;
      } catch (error) {
        if (!(error instanceof QuorumUnavailableError) || attempt >= front_end_attempts_max) {
          failed++;
          return;
        }
        unavailable++;
      }
    }
  };

  const driver = async () => {
    if (mode === "warm") {
      const p = cluster.proposers[0]!;
      await timeOne(p); // warm-up: phase 1
      latencies_ms.length = 0;
      for (let i = 0; i < samples; i++) {
        await timeOne(p);
        await world.sleep(rng.uniform(5, 50));
      }
    } else if (mode === "cold") {
      const p = cluster.proposers[0]!;
      for (let i = 0; i < samples; i++) {
        // A new isolate: no ballot, no next slot; its first request pays phase 1.
        p.crash();
        p.restart();
        await timeOne(p);
        await world.sleep(rng.uniform(50, 200));
      }
    } else {
      const each = Math.ceil(samples / proposers);
      await Promise.all(
        cluster.proposers.map(async (p) => {
          for (let i = 0; i < each; i++) {
            await timeOne(p);
            await world.sleep(rng.uniform(0, 20));
          }
        }),
      );
    }
  };

  let finished = false;
  void driver().then(() => (finished = true));
  await world.run(run_virtual_ms_max, events_max, () => finished);
  const units = latencies_ms.map((ms) => ms / quorum_rtt_ms).sort((a, b) => a - b);
  return {
    setup: setup.label,
    mode,
    quorum_rtt_ms,
    samples: units.length,
    median: quantile(units, 0.5),
    p99: quantile(units, 0.99),
    max: units.at(-1) ?? Number.NaN,
    failed: failed + (finished ? 0 : 1),
    unavailable,
  };
}

export async function latencyTable(samples = 400): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  for (const setup of latency_setups) {
    for (const mode of ["warm", "cold", "contended"] as const) results.push(await measureLatency(setup, mode, samples));
  }
  return results;
}

export async function printLatencyTable(samples = 400): Promise<void> {
  const rows = await latencyTable(samples);
  console.log("Commit latency in units of the quorum RTT (proposer in enam; simulator, `npm run sim -- --latency`)");
  console.log("");
  console.log("| cluster | mode | quorum RTT (ms) | samples | median | p99 | max | 503s retried | failed |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
  const mode = {
    warm: "(a) one warm proposer",
    cold: "(b) cold proposer",
    contended: `(c) ${contending_proposers} contending proposers`,
  };
  for (const r of rows) {
    console.log(
      `| ${r.setup} | ${mode[r.mode]} | ${r.quorum_rtt_ms} | ${r.samples} | ${r.median.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.unavailable} | ${r.failed} |`,
    );
  }
}

/** A cluster's name in the contention table: its acceptor count, and its quorums when not majorities. */
function shortLabel(setup: LatencySetup): string {
  const q = setup.quorum;
  const majority = Math.floor(q.acceptors / 2) + 1;
  return q.prepare === majority && q.accept === majority
    ? `${q.acceptors} acceptors`
    : `${q.acceptors} acceptors Q1=${q.prepare} Q2=${q.accept}`;
}

const cell = (m: number, p99: number, max: number) => `${m.toFixed(2)} / ${p99.toFixed(2)} / ${max.toFixed(2)}`;

/** One design's name in the table: the coordinator's with its region. */
function designLabel(design: ContentionDesign, setup: LatencySetup): string {
  return design === "coordinator" ? `coordinator (${coordinatorRegionOf(setup)})` : "direct";
}

/**
 * A region's cell: its proposers' latencies pooled (each in its own quorum RTT, which is the same
 * for every proposer of one region), `median / p99 / max`; empty when the mix has none there.
 */
function regionCell(proposers: readonly ProposerLatency[], region: RegionHint): string {
  const here = proposers.filter((p) => p.region === region && !p.cold);
  if (here.length === 0) return "";
  const pooled = here.flatMap((p) => p.latencies).sort((a, b) => a - b);
  return cell(quantile(pooled, 0.5), quantile(pooled, 0.99), pooled.at(-1) ?? Number.NaN);
}

function printColdJoinRow(setup: LatencySetup, design: string, r: ColdJoinEffect): void {
  const j = r.joiner_result;
  console.log(
    `| ${shortLabel(setup)} | ${design} | ${r.proposerRegions.length} + 1 cold | ${r.others_p99_without.toFixed(2)} | ${r.others_p99_with.toFixed(2)} | ${r.others_max_without.toFixed(2)} | ${r.others_max_with.toFixed(2)} | ${j.median.toFixed(2)} | ${j.p99.toFixed(2)} | ${r.failed_with} |`,
  );
}

/**
 * The contention table (`contention.ts`), every design and prototype on the same seed (same
 * arrivals): for each cluster and each mix of 1, 2, 4 and 8 proposers, one row per design with a cell per region, in
 * units of each proposer's own quorum RTT; then the others' p99 and max without and with one cold
 * isolate joining part-way; then the bounds by construction (Fast Paxos, the coordinator).
 */
export async function printContentionTable(seed = 1): Promise<void> {
  const regions = contention_client_regions;
  console.log(
    `Open-loop contention, per region: median / p99 / max in units of each proposer's own quorum RTT ` +
      `(${contention_requests_per_proposer} Poisson arrivals per proposer at ${contention_arrivals_per_quorum_rtt} ` +
      `per quorum RTT, seed ${seed}, every design and prototype on the same arrivals; a region's proposers pooled; ` +
      `\`npm run sim -- --latency\`)`,
  );
  console.log("");
  console.log(`| cluster | design | proposers | ${regions.join(" | ")} | 503s retried | failed | phase 1 runs |`);
  console.log(`|---|---|---:|${regions.map(() => "---:|").join("")}---:|---:|---:|`);
  const prototypeRuns: Array<{ setup: LatencySetup; mix: readonly RegionHint[]; result: PrototypeResult }> = [];
  for (const setup of latency_setups) {
    for (const mix of contention_mixes) {
      for (const design of contention_designs) {
        const r = await measureContention(setup, { proposerRegions: mix, seed, design });
        const sum = (f: (p: ProposerLatency) => number) => r.proposers.reduce((k, p) => k + f(p), 0);
        console.log(
          `| ${shortLabel(setup)} | ${designLabel(design, setup)} | ${mix.length} | ${regions.map((g) => regionCell(r.proposers, g)).join(" | ")} | ${sum((p) => p.unavailable)} | ${sum((p) => p.failed)} | ${r.phase1_runs} |`,
        );
      }
      for (const prototype of contention_prototypes) {
        const r = await measurePrototype(prototype.name, prototype.factory, setup, { proposerRegions: mix, seed });
        prototypeRuns.push({ setup, mix, result: r });
        const failed = r.proposers.reduce((k, p) => k + p.failed, 0);
        console.log(
          `| ${shortLabel(setup)} | ${prototype.name} | ${mix.length} | ${regions.map((g) => regionCell(r.proposers, g)).join(" | ")} | – | ${failed} | – |`,
        );
      }
    }
  }
  console.log("");
  console.log("The prototypes (latency models with their own safety self-check, not production code):");
  console.log("");
  for (const prototype of contention_prototypes) console.log(`- ${prototype.name}: ${prototype.describe}`);
  console.log("");
  console.log("| cluster | prototype | proposers | messages per request | counters |");
  console.log("|---|---|---:|---:|---|");
  for (const { setup, mix, result } of prototypeRuns) {
    const counters = Object.entries(result.stats)
      .map(([name, value]) => `${name} ${+value.toFixed(2)}`)
      .join(", ");
    console.log(
      `| ${shortLabel(setup)} | ${result.design} | ${mix.length} | ${result.messages_per_request.toFixed(1)} | ${counters} |`,
    );
  }
  console.log("");
  console.log(
    `Cold isolate joins: the others' p99 and max (pooled, each in its own quorum RTT) without and with one cold ` +
      `isolate in ${cold_joiner_region} (same seed, same arrivals)`,
  );
  console.log("");
  console.log(
    "| cluster | design | proposers | others' p99 without | with | others' max without | with | joiner median | joiner p99 | failed |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const setup of latency_setups) {
    for (const mix of [contention_mixes[0]!, contention_mixes[2]!]) {
      for (const design of contention_designs) {
        printColdJoinRow(
          setup,
          designLabel(design, setup),
          await measureColdJoin(setup, { proposerRegions: mix, seed, design }),
        );
      }
      for (const prototype of contention_prototypes) {
        if (prototype.joining === undefined) continue;
        const r = await measurePrototypeColdJoin(
          prototype.name,
          prototype.joining,
          setup,
          { proposerRegions: mix, seed },
          cold_joiner_region,
        );
        printColdJoinRow(setup, prototype.name, r);
      }
    }
  }
  const three = latency_setups[0]!;
  const { acceptorRegions, quorum } = three;
  const bound = (f: (region: RegionHint) => number) => regions.map((g) => f(g).toFixed(2)).join(" | ");
  console.log("");
  console.log(
    `Bounds by construction, NOT simulated: the RTT table plus the mean durable write (${mean_durable_write_ms} ms), ` +
      `no queueing, no jitter, no contention; ${shortLabel(three)} ${acceptorRegions.join(",")}`,
  );
  console.log("");
  console.log(`| design (bound by construction, not simulated) | ${regions.join(" | ")} |`);
  console.log(`|---|${regions.map(() => "---:|").join("")}`);
  const all = acceptorRegions.length;
  console.log(
    `| Fast Paxos, no collision (fast quorum = all ${all}) | ${bound((g) => fastPaxosBound(g, acceptorRegions, all, quorum.accept, false))} |`,
  );
  console.log(
    `| Fast Paxos, collision recovered by a classic round | ${bound((g) => fastPaxosBound(g, acceptorRegions, all, quorum.accept, true))} |`,
  );
  const placed = coordinatorRegionOf(three);
  console.log(
    `| coordinator in ${placed} (hop + its quorum RTT + write) | ${bound((g) => coordinatorBound(g, placed, acceptorRegions, quorum.accept))} |`,
  );
}

export interface FailFastResult {
  readonly setup: string;
  readonly down: number;
  readonly samples: number;
  readonly committed: number;
  readonly unavailable: number;
  /** Time from the request to its answer (503 or commit), in ms. */
  readonly median_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

/**
 * Time to the answer with `down` acceptors crashed (the simulator's crash: half the calls fail at
 * once, half are never answered), for a stream of requests to one proposer that was warm before the
 * crash (`cold`: a new proposer, nothing measured). With fewer than an accept quorum left, every
 * answer is a 503 and what matters is how soon; with a quorum left, every request must commit.
 */
export async function measureFailFast(
  setup: LatencySetup,
  down: number,
  samples: number,
  { seed = 1, cold = false, every_ms = 20 }: { seed?: number; cold?: boolean; every_ms?: number } = {},
): Promise<FailFastResult> {
  const world = new World();
  const rng = new Prng(seed);
  const cluster = new Cluster(world, rng, {
    quorum: setup.quorum,
    acceptorRegions: setup.acceptorRegions,
    proposerRegions: [setup.proposerRegion],
  });
  const p = cluster.proposers[0]!;
  const took_ms: number[] = [];
  let committed = 0;
  let unavailable = 0;
  let next = 0;
  const driver = async () => {
    if (!cold) await p.proposer.append([fill(`warm${next++}`)]);
    // The farthest acceptors go down: the proposer keeps the nearest.
    const byDistance = [...cluster.acceptors].sort(
      (a, b) =>
        nthNearestRtt_ms(setup.proposerRegion, [a.region], 1) - nthNearestRtt_ms(setup.proposerRegion, [b.region], 1),
    );
    for (const a of byDistance.slice(byDistance.length - down)) cluster.crashAcceptor(a);
    if (cold) {
      p.crash();
      p.restart();
    }
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < samples; i++) {
      const started = world.now_ms;
      pending.push(
        p.proposer.append([fill(`f${next++}`)]).then(
          () => {
            committed++;
            took_ms.push(world.now_ms - started);
          },
          (error: unknown) => {
            if (error instanceof QuorumUnavailableError) unavailable++;
            took_ms.push(world.now_ms - started);
          },
        ),
      );
      await world.sleep(rng.uniform(0, 2 * every_ms));
    }
    await Promise.all(pending);
  };
  let finished = false;
  void driver().then(() => (finished = true));
  await world.run(run_virtual_ms_max, events_max, () => finished);
  const sorted = [...took_ms].sort((a, b) => a - b);
  return {
    setup: setup.label,
    down,
    samples: took_ms.length,
    committed,
    unavailable,
    median_ms: quantile(sorted, 0.5),
    p99_ms: quantile(sorted, 0.99),
    max_ms: sorted.at(-1) ?? Number.NaN,
  };
}

export async function printFailFastTable(samples = 400): Promise<void> {
  console.log("Time to the answer with acceptors down (proposer in enam; simulator, `npm run sim -- --fail-fast`)");
  console.log("");
  console.log("| cluster | acceptors down | proposer | samples | committed | 503 | median ms | p99 ms | max ms |");
  console.log("|---|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const setup of latency_setups) {
    const quorumGone = setup.acceptorRegions.length - setup.quorum.accept + 1;
    for (const down of [1, quorumGone]) {
      for (const cold of [false, true]) {
        const r = await measureFailFast(setup, down, samples, { cold });
        console.log(
          `| ${r.setup} | ${down} | ${cold ? "cold" : "warm"} | ${r.samples} | ${r.committed} | ${r.unavailable} | ${r.median_ms.toFixed(0)} | ${r.p99_ms.toFixed(0)} | ${r.max_ms.toFixed(0)} |`,
        );
      }
    }
  }
}
