/**
 * The measuring harness for issue #12's protocol prototypes (Fast Paxos, Mencius windows, the
 * coordinator with slots in flight). They are latency models, not production code: each runs its
 * own small acceptors and proposers over the same simulated network as the cluster (half the region RTT each way with the same exponential
 * jitter, a durable write of `durable_write_ms` before each acceptor's reply), fed the same Poisson
 * arrivals as `measureContention` on the same seed (the PRNG is forked in the same order), so their
 * rows sit beside the direct and coordinator rows of the contention table. Each prototype checks its
 * own safety at the end of a run (one value per slot, every acknowledged request in exactly one
 * chosen slot, no acknowledgement before its whole prefix was chosen, the same log at every
 * learner) and the harness fails the run if it does not hold.
 */
import type { QuorumConfig } from "../../../src/core/quorum.js";
import { durable_write_ms, nthNearestRtt_ms, type RegionHint, regionRtt_ms } from "../../../src/core/region-rtt.js";
import { default_jitter_fraction_mean, jitter_fraction_max } from "../cluster.js";
import {
  type ColdJoinEffect,
  type ContentionCluster,
  type ContentionRun,
  coldJoinEffect,
  coldJoinerFor,
  contention_arrivals_per_quorum_rtt,
  contention_requests_per_proposer,
  type ProposerLatency,
  proposerLatency,
  type Stream,
} from "../contention.js";
import { Prng } from "../prng.js";
import { World } from "../world.js";

/** Same bounds as `measureContention`: requests still open at the bound count as failed. */
const prototype_virtual_ms_max = 600_000;
const prototype_events_max = 20_000_000;
/**
 * Requests one slot's value carries at most, in every prototype: the same batching for all, so that
 * no design's rows differ from another's by a batch limit.
 */
export const prototype_batch_requests_max = 64;

/** The network the prototypes send over: no loss, no partition (the contention table's network). */
export class PrototypeNet {
  messages = 0;
  constructor(
    readonly world: World,
    private readonly rng: Prng,
  ) {}

  /** One-way delay from `from` to `to`: half the RTT with jitter. */
  oneWay_ms(from: RegionHint, to: RegionHint): number {
    // The cluster's default jitter (the contention table's network), from the same constants.
    const jitter = Math.min(jitter_fraction_max, this.rng.exponential(default_jitter_fraction_mean));
    return (regionRtt_ms(from, to) / 2) * (1 + jitter);
  }

  /** A durable write's time at an acceptor (uniform, as the cluster's). */
  write_ms(): number {
    return this.rng.uniform(durable_write_ms.min, durable_write_ms.max);
  }

  /** Delivers `run` at `to` one jittered one-way delay after now. */
  send(from: RegionHint, to: RegionHint, run: () => void): void {
    this.messages++;
    this.world.schedule(this.oneWay_ms(from, to), run);
  }
}

/** What a prototype is built from: the cluster, the proposers' regions, and the network. */
export interface PrototypeEnv {
  readonly world: World;
  readonly net: PrototypeNet;
  readonly acceptorRegions: readonly RegionHint[];
  readonly quorum: QuorumConfig;
  readonly proposerRegions: readonly RegionHint[];
  /** For the prototype's own choices (backoff and the like); never the arrivals'. */
  readonly rng: Prng;
}

/** One proposer of a prototype: `append` resolves when the request is acknowledged (its slot and every earlier one chosen). */
export interface PrototypeProposer {
  readonly region: RegionHint;
  append(requestId: string): Promise<void>;
}

export interface Prototype {
  readonly proposers: readonly PrototypeProposer[];
  /**
   * A cold isolate joining part-way, with no state (the contention table's cold joiner), or
   * undefined when the design has no way for one to join (say why in `describe`).
   */
  addProposer?(region: RegionHint): PrototypeProposer;
  /** Throws if the run broke safety: two values for one slot, an acknowledged request not in exactly one chosen slot, two learners with different logs. */
  checkSafety(): void;
  /** Counters worth printing beside the latencies (collisions, skips, recoveries, ...). */
  stats(): Readonly<Record<string, number>>;
}

export type PrototypeFactory = (env: PrototypeEnv) => Prototype;

export interface PrototypeResult {
  readonly setup: string;
  readonly design: string;
  readonly proposers: readonly ProposerLatency[];
  readonly stats: Readonly<Record<string, number>>;
  /** Messages sent over the network per request arrived. */
  readonly messages_per_request: number;
  readonly virtual_ms: number;
  readonly finished: boolean;
}

/** Poisson arrivals, each sent at once; a prototype never answers 503, so there is no retry. */
async function openLoop(world: World, p: PrototypeProposer, rng: Prng, stream: Stream, mean_gap_ms: number) {
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < stream.requests; i++) {
    await world.sleep(rng.exponential(mean_gap_ms));
    const arrived_ms = world.now_ms;
    pending.push(p.append(`${stream.name}-e${i}`).then(() => void stream.latencies_ms.push(world.now_ms - arrived_ms)));
  }
  await Promise.all(pending);
  stream.finished = true;
}

/**
 * Runs one mix through a prototype, with `measureContention`'s arrivals: the root PRNG of the seed
 * forks the network's stream, then the arrivals' (one fork per proposer, then per joiner), then the
 * prototype's own.
 */
export async function measurePrototype(
  design: string,
  factory: PrototypeFactory,
  setup: ContentionCluster,
  run: ContentionRun,
): Promise<PrototypeResult> {
  const requests_per_proposer = run.requests_per_proposer ?? contention_requests_per_proposer;
  const rate = run.arrivals_per_quorum_rtt ?? contention_arrivals_per_quorum_rtt;
  const root = new Prng(run.seed ?? 1);
  const netRng = root.fork();
  const arrivalsRng = root.fork();
  const protoRng = root.fork();
  const world = new World();
  const net = new PrototypeNet(world, netRng);
  const prototype = factory({
    world,
    net,
    acceptorRegions: setup.acceptorRegions,
    quorum: setup.quorum,
    proposerRegions: run.proposerRegions,
    rng: protoRng,
  });
  const quorumRtt_ms = (region: RegionHint) => nthNearestRtt_ms(region, setup.acceptorRegions, setup.quorum.accept);
  const newStream = (name: string, region: RegionHint, cold: boolean, requests: number): Stream => ({
    name,
    region,
    cold,
    quorum_rtt_ms: quorumRtt_ms(region),
    requests,
    latencies_ms: [],
    // A prototype never answers 503: nothing to retry.
    unavailable: 0,
    finished: false,
  });
  const warm = prototype.proposers.map((p, i) => ({
    p,
    rng: arrivalsRng.fork(),
    stream: newStream(`p${i}`, p.region, false, requests_per_proposer),
  }));
  const joining = (run.coldJoiners ?? []).map((j, i) => ({
    j,
    rng: arrivalsRng.fork(),
    stream: newStream(`cold${i}`, j.region, true, j.requests),
  }));
  for (const { p, rng, stream } of warm) void openLoop(world, p, rng, stream, stream.quorum_rtt_ms / rate);
  for (const { j, rng, stream } of joining) {
    const add = prototype.addProposer;
    if (add === undefined) throw new Error(`${design}: the prototype has no way for a cold isolate to join`);
    world.schedule(j.join_ms, () => {
      void openLoop(world, add.call(prototype, j.region), rng, stream, stream.quorum_rtt_ms / rate);
    });
  }
  const streams = [...warm.map((w) => w.stream), ...joining.map((c) => c.stream)];
  const finished = () => streams.every((s) => s.finished);
  await world.run(prototype_virtual_ms_max, prototype_events_max, finished);
  prototype.checkSafety();
  const arrived = streams.reduce((k, s) => k + s.requests, 0);
  return {
    setup: setup.label,
    design,
    stats: prototype.stats(),
    messages_per_request: net.messages / arrived,
    virtual_ms: world.now_ms,
    finished: finished(),
    proposers: streams.map(proposerLatency),
  };
}

/**
 * The cold-joiner rows for a prototype: the same run (same seed, same arrivals) without and with the
 * table's cold joiner (`coldJoinerFor`), through `joining` (a prototype that has a way for one to join).
 */
export async function measurePrototypeColdJoin(
  design: string,
  joining: PrototypeFactory,
  setup: ContentionCluster,
  run: ContentionRun,
  joinerRegion: RegionHint,
): Promise<ColdJoinEffect> {
  const joiner = coldJoinerFor(setup, run, joinerRegion);
  const without = await measurePrototype(design, joining, setup, { ...run, coldJoiners: [] });
  const withJoiner = await measurePrototype(design, joining, setup, { ...run, coldJoiners: [joiner] });
  return { ...coldJoinEffect(without.proposers, withJoiner.proposers, joiner), setup: setup.label, design };
}
