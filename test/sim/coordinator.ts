/**
 * The coordinator design (issue #12) in the simulator. One coordinator per ledger (a Durable Object
 * in one region) runs the production `Proposer`; its answers come from the production `answerOf`.
 * Every simulated Worker isolate (a `SimProposer` of `Cluster.proposers`) forwards each append and
 * each read's recovery `sync` to it with the production `forwardAppend` / `forwardSync`, over a
 * `CoordinatorLink` whose calls cross the simulated network: half the RTT between the Worker's region
 * and the coordinator's each way (with the cluster's jitter), lost on a dropped message or a cut
 * link (the forward then times out at deadline + margin), failed or silent when the coordinator is
 * down. A reset of the Durable Object (`reset`, or any crash of its node) loses its memory: the
 * next life is a fresh proposer with a new proposerId (`k0.2`, ...) that must run phase 1, and every
 * forward inside the old life either fails (the platform reports the reset) or is never answered;
 * or, as the platform allows for an instance that never touches storage, the old life goes on with
 * what it holds beside the new one (two coordinators at once: Paxos, not uniqueness, keeps it safe).
 *
 * The Worker never proposes. `fallback: "direct_for_tests"` is the trap the study found, kept only
 * as a broken variant for `checker-catches.test.ts`: a forward that fails or times out is proposed
 * again by the Worker's own proposer.
 */
import { InvariantViolation } from "../../src/core/assert.js";
import {
  answerOf,
  type CoordinatorAnswer,
  type CoordinatorLink,
  coordinatorRegionFor,
  type ForwardEnv,
  forwardAppend,
  forwardSync,
} from "../../src/core/coordinator/index.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import type { Proposer } from "../../src/core/proposer/index.js";
import type { RequestOptions } from "../../src/core/proposer/types.js";
import { type RegionHint, region_hints, regionRtt_ms } from "../../src/core/region-rtt.js";
import type { AimPlan } from "./aimed-faults.js";
import { Cluster, type SimProposer, type WorkerRoute } from "./cluster.js";
import { Prng } from "./prng.js";
import type { World } from "./world.js";

/** What a Worker does when its forward fails or times out: answer 503 (the design), or the broken fallback. */
export type ForwardFallback = "none" | "direct_for_tests";

/** The name of the coordinator's node; each life's proposerId is `k0.<life>`. */
export const coordinator_node_name = "k0";

/** A forward the coordinator holds: what to do to its Worker when the coordinator is reset under it. */
interface HeldForward {
  readonly fail: () => void;
}

export class SimCoordinator implements WorkerRoute {
  /** The Durable Object's proposer: outside `Cluster.proposers`, so no client sends to it directly. */
  readonly node: SimProposer;
  private readonly held = new Set<HeldForward>();

  constructor(
    private readonly cluster: Cluster,
    private readonly world: World,
    /** The link's own stream (delays, losses), so forwarding does not shift the cluster's draws. */
    private readonly rng: Prng,
    readonly region: RegionHint,
    readonly fallback: ForwardFallback = "none",
  ) {
    this.node = cluster.addNode(coordinator_node_name, region);
    // Whatever crashes the node (a reset below, an aimed leader cut): the forwards it held are lost.
    this.node.onCrash = () => this.loseHeldForwards();
  }

  get up(): boolean {
    return this.node.up;
  }

  /**
   * A Durable Object reset: memory lost at once; the next life starts `down_ms` later (0: at once).
   * `overlapping`: the new life starts at once while the old one finishes the requests it holds
   * (and answers them), as an instance the platform replaced elsewhere may.
   */
  reset(down_ms = 0, overlapping = false): void {
    if (!this.node.up) return;
    this.cluster.counters.coordinator_resets++;
    if (overlapping) {
      this.cluster.counters.coordinator_overlapping_lives++;
      this.node.replace();
      return;
    }
    this.node.crash();
    if (down_ms <= 0) this.node.restart();
    else this.world.schedule(down_ms, () => this.restart());
  }

  restart(): void {
    if (!this.node.up) this.node.restart();
  }

  append(worker: SimProposer, entries: readonly EntryInput[], options: RequestOptions): Promise<BatchOutcome> {
    const link = this.linkFrom(worker);
    if (this.fallback === "none") return forwardAppend(link, this.envOf(worker), entries, options);
    return this.appendWithFallback(worker, link, entries, options);
  }

  sync(worker: SimProposer, options: RequestOptions): Promise<void> {
    return forwardSync(this.linkFrom(worker), this.envOf(worker), options);
  }

  /**
   * The broken variant: when no answer came back (the call failed or timed out), the Worker proposes
   * the same request itself. A request the coordinator did commit then comes back `exists`.
   */
  private async appendWithFallback(
    worker: SimProposer,
    link: CoordinatorLink,
    entries: readonly EntryInput[],
    options: RequestOptions,
  ): Promise<BatchOutcome> {
    let answered = false;
    const noting: CoordinatorLink = {
      append: (e, o) =>
        link.append(e, o).then((answer) => {
          answered = true;
          return answer;
        }),
      sync: (o) => link.sync(o),
    };
    try {
      return await forwardAppend(noting, this.envOf(worker), entries, options);
    } catch (error) {
      if (answered) throw error;
      this.cluster.counters.forward_fallbacks++;
      return worker.proposer.append(entries, undefined, options);
    }
  }

  /** The Worker's timer: a crashed isolate's never fires (its request simply stops, as its proposer's do). */
  private envOf(worker: SimProposer): ForwardEnv {
    return {
      sleep: (ms) => {
        const epoch = worker.epoch;
        return new Promise((resolve) => this.world.schedule(ms, () => worker.epoch === epoch && resolve()));
      },
    };
  }

  /** The coordinator as `worker` reaches it: each call crosses the network both ways. */
  linkFrom(worker: SimProposer): CoordinatorLink {
    return {
      append: (entries, options) => this.call(worker, (p) => p.append(entries, undefined, options)),
      sync: (options) => this.call(worker, (p) => p.sync(undefined, options).then(() => null)),
    };
  }

  private oneWay_ms(a: RegionHint, b: RegionHint): number {
    const jitter = Math.min(0.5, this.rng.exponential(this.cluster.faults.jitter_fraction_mean));
    return (regionRtt_ms(a, b) / 2) * (1 + jitter);
  }

  private linkUp(worker: SimProposer): boolean {
    return this.cluster.linkUp(worker.name, this.node.name);
  }

  /**
   * One RPC from `worker` to the coordinator, running `work` on its proposer and answering with
   * `answerOf`. A lost request or answer never settles (the forward times out); a coordinator that
   * is down fails the call half the time (the platform reports it) and is silent otherwise.
   */
  private call<T>(worker: SimProposer, work: (p: Proposer) => Promise<T>): Promise<CoordinatorAnswer<T>> {
    const workerEpoch = worker.epoch;
    const faults = this.cluster.faults;
    return new Promise<CoordinatorAnswer<T>>((resolve, reject) => {
      if (!worker.up) return;
      this.cluster.counters.coordinator_forwards++;
      if (this.rng.chance(faults.drop_rate) || !this.linkUp(worker)) return;
      const out_ms = this.oneWay_ms(worker.region, this.region);
      /** Delivers to the Worker after the way back, unless its isolate or the link is gone, or the answer is lost. */
      const back = (deliver: () => void) => {
        const dropped = this.rng.chance(faults.drop_rate);
        this.world.schedule(this.oneWay_ms(this.region, worker.region), () => {
          if (dropped || worker.epoch !== workerEpoch || !this.linkUp(worker)) return;
          deliver();
        });
      };
      this.world.schedule(out_ms, () => {
        const node = this.node;
        if (!node.up) {
          if (this.rng.chance(0.5)) back(() => reject(new Error("the coordinator is down")));
          return;
        }
        const life = node.epoch;
        const heldForward: HeldForward = {
          fail: () => {
            if (this.rng.chance(0.5)) back(() => reject(new Error("the coordinator's Durable Object was reset")));
          },
        };
        this.held.add(heldForward);
        answerOf(startWork(() => work(node.proposer))).then(
          (answer) => {
            this.held.delete(heldForward);
            if (node.epoch !== life) return; // reset meanwhile: `fail` ran
            const copy = structuredClone(answer); // a copy stands in for serialization
            back(() => resolve(copy));
          },
          (error: unknown) => {
            this.held.delete(heldForward);
            // Not an answer: a bug of the proposer. The RPC fails (the Worker answers 503), and an
            // assertion that fired is a violation the checker reports.
            if (error instanceof InvariantViolation)
              this.cluster.proposerViolations.push(`${node.name}: ${error.message}`);
            if (node.epoch !== life) return;
            back(() => reject(error));
          },
        );
      });
    });
  }

  private loseHeldForwards(): void {
    const lost = [...this.held];
    this.held.clear();
    for (const h of lost) h.fail();
  }
}

/** The work's promise; a synchronous throw becomes its rejection, as an async RPC handler's does. */
function startWork<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Puts a coordinator in front of the cluster: from now on every Worker (present and future) forwards to it. */
export function useCoordinator(
  cluster: Cluster,
  world: World,
  rng: Prng,
  region: RegionHint,
  fallback: ForwardFallback = "none",
): SimCoordinator {
  const coordinator = new SimCoordinator(cluster, world, rng, region, fallback);
  cluster.setRoute(coordinator);
  cluster.coordinator = coordinator;
  return coordinator;
}

/*
 * The coordinator design in the seeded fault scenarios (`scenario.ts`): on a share of seeds, every
 * client (the scenario's, the contention mix's, the readers' recoveries) goes through its Worker to
 * one coordinator, which the seed may reset (a Durable Object reset: memory lost, a new proposerId)
 * and cut off from acceptors and Workers. Everything this draws comes from its own stream, seeded
 * from the seed, so a seed that does not draw it runs exactly as it did before.
 */

/** Share of seeds whose scenario runs the coordinator design. */
export const scenario_coordinator_share = 0.3;
/**
 * Whether a coordinator seed with tiny limits may draw the contention mix (direct seeds may not:
 * `mix_under_tiny_limits` in `contention.ts`). Not yet, though the coordinator does far better than
 * the duels: with the coordinator forced on seeds 1-2000, 276 run the mix under tiny limits and 275
 * meet the liveness bound (direct: 253). The one that does not, seed 904, is a throughput limit, not
 * a duel: a coordinator misplaced in apac, 5 acceptors with Q2 = 3, a queue of one request, and
 * every slot's first Commit lost (the aimed loss, which outlives the heal), so each commit waits
 * for the Commit's resend (about a second) before its outcome; one proposer then serves about one
 * request a second to seven streams and passes the 30 s bound. No value is lost or chosen twice.
 */
export const coordinator_mix_under_tiny_limits = false;
/** XORed into the seed to seed the design's stream (any constant other than the mix's). */
const scenario_coordinator_stream = 0x636f6f72;
/** Share of coordinator seeds whose Durable Object lands outside the placement (a location hint is only a hint). */
const misplaced_share = 0.25;
/** Resets of the coordinator during the fault phase, and how long each leaves it down (0: back at once). */
const coordinator_resets = { min: 0, max: 2 } as const;
const coordinator_down_ms = { min: 0, max: 1500 } as const;
/** Cuts between the coordinator and some acceptors and Workers during the fault phase. */
const coordinator_partitions = { min: 0, max: 2 } as const;
const coordinator_partition_ms = { min: 100, max: 2500 } as const;
/** Chance that a cut includes a given acceptor, and a given Worker. */
const cut_acceptor_chance = 0.6;
const cut_worker_chance = 0.5;

export interface ScenarioCoordinator {
  readonly region: RegionHint;
  readonly misplaced: boolean;
  readonly resets: ReadonlyArray<{ readonly at_ms: number; readonly down_ms: number; readonly overlapping: boolean }>;
  readonly partitions: ReadonlyArray<{ readonly at_ms: number; readonly until_ms: number }>;
  /** The design's stream after the plan: the link's delays and the cuts' members fork from it. */
  readonly rng: Prng;
}

/**
 * Whether `seed` runs the coordinator design (`force` decides instead, after the same first draw)
 * and, if so, its plan. The draws come from the design's own stream, never from the scenario's.
 */
export function drawScenarioCoordinator(
  seed: number,
  fault_phase_ms: number,
  acceptorRegions: readonly RegionHint[],
  acceptQuorum: number,
  force?: boolean,
): ScenarioCoordinator | undefined {
  const rng = new Prng((seed ^ scenario_coordinator_stream) >>> 0);
  const drawn = rng.chance(scenario_coordinator_share);
  if (!(force ?? drawn)) return undefined;
  const placed = [...new Set(acceptorRegions)];
  const misplaced = rng.chance(misplaced_share);
  const region = misplaced ? rng.pick(region_hints) : coordinatorRegionFor(acceptorRegions, acceptQuorum, placed);
  const resets = Array.from({ length: rng.int(coordinator_resets.min, coordinator_resets.max) }, () => {
    const at_ms = rng.uniform(0, fault_phase_ms);
    // A third back at once, a third down a while, a third replaced while the old instance goes on.
    const roll = rng.next();
    const down_ms = roll < 2 / 3 ? 0 : rng.uniform(coordinator_down_ms.min, coordinator_down_ms.max);
    return { at_ms, down_ms, overlapping: roll < 1 / 3 };
  });
  const partitions = Array.from({ length: rng.int(coordinator_partitions.min, coordinator_partitions.max) }, () => {
    const at_ms = rng.uniform(0, fault_phase_ms);
    const until_ms = Math.min(
      at_ms + rng.uniform(coordinator_partition_ms.min, coordinator_partition_ms.max),
      fault_phase_ms,
    );
    return { at_ms, until_ms };
  });
  return { region, misplaced, resets, partitions, rng };
}

export function describeScenarioCoordinator(plan: ScenarioCoordinator | undefined): string {
  if (plan === undefined) return "";
  return (
    `; coordinator in ${plan.region}${plan.misplaced ? " (misplaced)" : ""}, ${plan.resets.length} resets ` +
    `(${plan.resets.filter((r) => r.overlapping).length} overlapping the old life), ` +
    `${plan.partitions.length} partitions of it`
  );
}

/**
 * Puts the plan's coordinator in front of the cluster and schedules its faults over the fault
 * phase; the clock aim the other proposers got applies to it too.
 */
export function armScenarioCoordinator(
  plan: ScenarioCoordinator,
  cluster: Cluster,
  world: World,
  aims: AimPlan,
  fallback: ForwardFallback = "none",
): SimCoordinator {
  const { rng } = plan;
  const linkRng = rng.fork();
  const cutRng = rng.fork();
  const coordinator = useCoordinator(cluster, world, linkRng, plan.region, fallback);
  if (aims.clocks === "equal_coarse") coordinator.node.clockTick_ms = aims.clock_ms;
  if (aims.clocks === "skewed") coordinator.node.clockOffset_ms = rng.uniform(-aims.clock_ms, aims.clock_ms);
  for (const { at_ms, down_ms, overlapping } of plan.resets)
    world.schedule(at_ms, () => coordinator.reset(down_ms, overlapping));
  const faults = cluster.faults;
  const name = coordinator.node.name;
  for (const { at_ms, until_ms } of plan.partitions) {
    // The members are drawn when the cut starts: the Workers of that moment (the mix's among them).
    let cut: string[] = [];
    world.schedule(at_ms, () => {
      cut = [
        ...cluster.acceptors.filter(() => cutRng.chance(cut_acceptor_chance)),
        ...cluster.proposers.filter(() => cutRng.chance(cut_worker_chance)),
      ].map((x) => Cluster.linkKey(name, x.name));
      for (const k of cut) faults.partitioned.add(k);
    });
    world.schedule(until_ms, () => {
      for (const k of cut) faults.partitioned.delete(k);
    });
  }
  return coordinator;
}
