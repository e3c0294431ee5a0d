/**
 * The coordinator design in the seeded fault scenarios (`scenario.ts`): on a share of seeds, every
 * client (the scenario's, the contention mix's, the readers' recoveries) goes through its Worker to
 * one coordinator (`coordinator.ts`), which the seed may reset (a Durable Object reset: memory lost,
 * a new proposerId; or a replacement beside the old instance's last work) and cut off from acceptors
 * and Workers. Everything this draws comes from its own stream, seeded from the seed, so a seed that
 * does not draw it runs exactly as it did before.
 */
import { coordinatorRegionFor } from "../../src/core/coordinator/index.js";
import { type RegionHint, region_hints } from "../../src/core/region-rtt.js";
import type { AimPlan } from "./aimed-faults.js";
import { Cluster } from "./cluster.js";
import { type ForwardFallback, type SimCoordinator, useCoordinator } from "./coordinator.js";
import { Prng } from "./prng.js";
import type { World } from "./world.js";

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
