/**
 * Commit latency in the simulator, in units of the quorum RTT: the RTT from the proposer's region to
 * the accept-quorum-th nearest acceptor, which is what one round trip to an accept quorum costs at
 * best. Message delays come from the region RTT table with jitter, plus the acceptors' durable write
 * time, so a warm commit is a little above 1.0 and a cold one (prepare, then accept) a little above 2.0.
 */
import type { EntryInput } from "../../src/core/entry-schema.js";
import { quorumConfig, type QuorumConfig } from "../../src/core/quorum.js";
import { nthNearestRtt_ms, type RegionHint } from "../../src/core/region-rtt.js";
import { Cluster, type SimProposer } from "./cluster.js";
import { Prng } from "./prng.js";
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
}

export const latency_setups: readonly LatencySetup[] = [
  { label: "3 acceptors enam,wnam,weur (Q1=2, Q2=2)", acceptorRegions: ["enam", "wnam", "weur"], quorum: quorumConfig(3), proposerRegion: "enam" },
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

function fill(id: string): EntryInput {
  return { id, account: "acct-1", symbol: "AAPL", side: "buy", quantity: "1", price: "100.25" };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function measureLatency(setup: LatencySetup, mode: LatencyMode, samples: number, seed = 1): Promise<LatencyResult> {
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

  const timeOne = async (p: SimProposer): Promise<void> => {
    const started = world.now_ms;
    try {
      await p.proposer.append([fill(`e${next++}`)]);
      latencies_ms.push(world.now_ms - started);
    } catch {
      failed++;
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
  console.log("| cluster | mode | quorum RTT (ms) | samples | median | p99 | max | failed |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  const mode = { warm: "(a) one warm proposer", cold: "(b) cold proposer", contended: `(c) ${contending_proposers} contending proposers` };
  for (const r of rows) {
    console.log(
      `| ${r.setup} | ${mode[r.mode]} | ${r.quorum_rtt_ms} | ${r.samples} | ${r.median.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.failed} |`,
    );
  }
}
