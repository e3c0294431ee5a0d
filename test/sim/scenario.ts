/**
 * One seeded scenario: a cluster, clients, a fault phase and a heal phase, then the checker.
 * Everything random is drawn from the seed, so a failing seed replays exactly:
 * `npm run sim -- --seed <seed>`.
 */

import { limits } from "../../src/core/limits.js";
import type { ProposerOptions } from "../../src/core/proposer/index.js";
import { type QuorumConfig, quorumConfig } from "../../src/core/quorum.js";
import type { RegionHint } from "../../src/core/region-rtt.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import { armAims, convergenceDeadline_ms, describeAims, drawAims, runCommitBlackout } from "./aimed-faults.js";
import { checkRun } from "./checker.js";
import { SimClient } from "./clients.js";
import { Cluster } from "./cluster.js";
import { armScenarioMix, describeScenarioMix, drawScenarioMix, mix_under_tiny_limits } from "./contention.js";
import type { ForwardFallback } from "./coordinator.js";
import {
  armScenarioCoordinator,
  coordinator_mix_under_tiny_limits,
  describeScenarioCoordinator,
  drawScenarioCoordinator,
} from "./coordinator-plan.js";
import { tiny_limits_share, tinyLimits } from "./limits-profiles.js";
import { Prng } from "./prng.js";
import { checkReads } from "./read-checker.js";
import { acksOf, startReaders } from "./readers.js";
import { World } from "./world.js";

export interface ScenarioOverrides {
  /** Fixes the acceptor count; the seed still picks among that count's quorums (`cluster_shapes`). */
  readonly acceptors?: 3 | 5 | 7;
  readonly proposers?: number;
  /** Replaces the quorum configuration (the negative test passes a non-intersecting one). */
  readonly quorum?: QuorumConfig;
  readonly proposerOptions?: ProposerOptions;
  /** A planted bug (`src/core/sabotage.ts`) for the catch tests: passed to proposers and acceptors. */
  readonly sabotage?: Sabotage;
  /** Runs the contention mix (`contention.ts`) or not, whatever the seed draws (tiny limits too). */
  readonly contentionMix?: boolean;
  /** Runs the coordinator design (`coordinator.ts`) or not, whatever the seed draws. */
  readonly coordinator?: boolean;
  /** With the coordinator design: the broken variant of `checker-catches.test.ts` ("direct_for_tests"). */
  readonly forwardFallback?: ForwardFallback;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly violations: string[];
  readonly summary: string;
  readonly stats: {
    acceptors: number;
    /** The quorum sizes the run used: phase 1 (prepare) and phase 2 (accept). */
    quorum_prepare: number;
    quorum_accept: number;
    proposers: number;
    /** Proposers the contention mix added: warm ones with open-loop streams, and cold joiners. */
    mix_proposers: number;
    /** Whether the run had the coordinator design: every Worker forwarded to one coordinator. */
    coordinator: boolean;
    clients: number;
    requests: number;
    entries: number;
    events: number;
    virtual_ms: number;
    messages: number;
    /** Simulated reads (`readers.ts`) that ended, and those of them a replica served (the rest were 503s). */
    reads: number;
    reads_served: number;
    /** From the last write's answer until every replica held every chosen slot, and the deadline for it. */
    converged_after_last_write_ms: number;
    convergence_deadline_ms: number;
    tiny_limits: boolean;
    /** What the run exercised: the cluster's counters (`Cluster.counters`) and the proposers' (`Proposer.stats`). */
    counters: Readonly<Record<string, number>>;
  };
}

/** The fault phase lasts this long; then every fault stops. */
export const fault_phase_ms = 4000;
/** After the heal, every request a client keeps retrying must complete within this bound. */
export const heal_liveness_bound_ms = 30_000;
/** The last write of every run: this many concurrent one-entry requests to one proposer. */
const final_burst_requests = { min: 3, max: 5 } as const;
/** The burst's requests after the first start this much later, while the first one's round runs. */
const final_burst_stagger_ms = 1;
/** A bound on the loop: a run that needs more events is reported as a failure, not left spinning. */
const events_max = 3_000_000;

/**
 * The cluster shapes a seed picks among: every acceptor count the quorum code supports (3, 5, 7),
 * with majority quorums and flexible ones (any Q1 + Q2 > n is allowed): commits waiting for fewer
 * regions (down to one, Q2 = 1, with Q1 = n), and the other way round (5 with Q1 = 2, Q2 = 4).
 * `weight` is the share of seeds, out of their sum: 7 acceptors cost the most messages per seed.
 */
export const cluster_shapes: ReadonlyArray<{ readonly quorum: QuorumConfig; readonly weight: number }> = [
  { quorum: quorumConfig(3), weight: 30 },
  { quorum: quorumConfig(3, 3, 1), weight: 8 },
  { quorum: quorumConfig(5), weight: 18 },
  { quorum: quorumConfig(5, 4, 2), weight: 10 },
  { quorum: quorumConfig(5, 5, 1), weight: 4 },
  { quorum: quorumConfig(5, 2, 4), weight: 4 },
  { quorum: quorumConfig(7), weight: 10 },
  { quorum: quorumConfig(7, 5, 3), weight: 6 },
  { quorum: quorumConfig(7, 6, 2), weight: 6 },
  { quorum: quorumConfig(7, 7, 1), weight: 4 },
];

/**
 * Acceptor regions per count. The RTT table has six location hints, so the seventh acceptor shares
 * enam with the first (the simulator allows it; production's ACCEPTOR_REGIONS does not).
 */
const acceptor_regions: Readonly<Record<number, readonly RegionHint[]>> = {
  3: ["enam", "wnam", "weur"],
  5: ["enam", "wnam", "weur", "apac", "sam"],
  7: ["enam", "wnam", "weur", "apac", "sam", "oc", "enam"],
};

function pickShape(rng: Prng, acceptors: number | undefined): QuorumConfig {
  const shapes = cluster_shapes.filter((s) => acceptors === undefined || s.quorum.acceptors === acceptors);
  if (shapes.length === 0) throw new RangeError(`no cluster shape with ${acceptors} acceptors`);
  let roll = rng.uniform(
    0,
    shapes.reduce((sum, s) => sum + s.weight, 0),
  );
  for (const s of shapes) {
    roll -= s.weight;
    if (roll < 0) return s.quorum;
  }
  return shapes[shapes.length - 1]!.quorum;
}

export function replayCommand(seed: number): string {
  return `npm run sim -- --seed ${seed}`;
}

/**
 * Runs one seed and always returns a verdict: an error thrown out of the run (a broken core throwing
 * something other than an invariant violation, or a bug of the simulator or the checker) is reported
 * as a violation of that seed, so a sweep of seeds goes on and names the seed to replay.
 */
export async function runScenario(seed: number, overrides: ScenarioOverrides = {}): Promise<ScenarioResult> {
  try {
    return await runScenarioUnguarded(seed, overrides);
  } catch (error) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      seed,
      violations: [`the run crashed: ${why}`],
      summary: `seed ${seed}: crashed (${why})`,
      // A run that never finished has no figures: zeros (a field added to `stats` later reads undefined).
      stats: {
        acceptors: 0,
        quorum_prepare: 0,
        quorum_accept: 0,
        proposers: 0,
        mix_proposers: 0,
        coordinator: false,
        clients: 0,
        requests: 0,
        entries: 0,
        events: 0,
        virtual_ms: 0,
        messages: 0,
        counters: {},
      } as ScenarioResult["stats"],
    };
  }
}

async function runScenarioUnguarded(seed: number, overrides: ScenarioOverrides): Promise<ScenarioResult> {
  const rng = new Prng(seed);
  const planRng = rng.fork();
  const netRng = rng.fork();
  // Limits and aimed faults draw from their own stream, so they change nothing else of the seed.
  const aimRng = rng.fork();
  const world = new World();
  const aims = drawAims(aimRng);
  // A commit blackout exists to make Promise listings outgrow their limit: those seeds run tiny limits.
  const coreLimits = aims.commitBlackout || aimRng.chance(tiny_limits_share) ? tinyLimits(aimRng) : limits;

  // One draw whatever the overrides, so that an override changes the shape and nothing else of the seed.
  const drawn = pickShape(planRng, overrides.quorum?.acceptors ?? overrides.acceptors);
  const quorum = overrides.quorum ?? drawn;
  const n = quorum.acceptors;
  const regions = acceptor_regions[n];
  if (regions === undefined) throw new RangeError(`no acceptor regions for ${n} acceptors`);
  const drawnProposers = planRng.int(1, 3);
  // Contending recoveries after a leader cut, and a recovery beside a leader, need two proposers.
  const proposerCount =
    overrides.proposers ??
    (aims.leaderCuts > 0 || aims.crashAfterPromise > 0 ? Math.max(2, drawnProposers) : drawnProposers);
  // Production runs thrifty Accepts; a quarter of the seeds keep the send-to-all path covered too.
  const thrifty = planRng.chance(0.75);
  const cluster = new Cluster(world, netRng, {
    quorum,
    acceptorRegions: regions,
    proposerRegions: Array.from({ length: proposerCount }, () => planRng.pick(regions)),
    proposerOptions: { thrifty, ...overrides.proposerOptions },
    limits: coreLimits,
    ...(overrides.sabotage === undefined ? {} : { sabotage: overrides.sabotage }),
  });
  armAims(aims, cluster, world, aimRng, fault_phase_ms);

  // Faults for the fault phase.
  const faults = cluster.faults;
  faults.drop_rate = planRng.pick([0, 0.02, 0.1, 0.25]);
  faults.duplicate_rate = planRng.pick([0, 0.05, 0.2]);
  faults.jitter_fraction_mean = planRng.pick([0.03, 0.1, 0.5]);
  const fault_drop_rate = faults.drop_rate;
  const crashes = planRng.int(0, 4);
  for (let i = 0; i < crashes; i++) {
    const a = planRng.pick(cluster.acceptors);
    const at = planRng.uniform(0, fault_phase_ms);
    const down = planRng.uniform(50, 2000);
    world.schedule(at, () => cluster.crashAcceptor(a));
    world.schedule(Math.min(at + down, fault_phase_ms), () => cluster.restartAcceptor(a));
  }
  const proposerCrashes = planRng.int(0, 2);
  for (let i = 0; i < proposerCrashes; i++) {
    const p = planRng.pick(cluster.proposers);
    const at = planRng.uniform(0, fault_phase_ms);
    world.schedule(at, () => p.up && p.crash());
    world.schedule(Math.min(at + planRng.uniform(50, 1500), fault_phase_ms), () => !p.up && p.restart());
  }
  const partitions = planRng.int(0, 3);
  const nodes = [...cluster.acceptors.map((a) => a.name), ...cluster.proposers.map((p) => p.name)];
  for (let i = 0; i < partitions; i++) {
    const isolated = planRng.pick(nodes);
    const cut = nodes.filter((x) => x !== isolated && planRng.chance(0.6)).map((x) => Cluster.linkKey(isolated, x));
    const at = planRng.uniform(0, fault_phase_ms);
    world.schedule(at, () => {
      for (const k of cut) faults.partitioned.add(k);
    });
    world.schedule(Math.min(at + planRng.uniform(100, 2500), fault_phase_ms), () => {
      for (const k of cut) faults.partitioned.delete(k);
    });
  }

  // The coordinator design (issue #12) on a share of seeds: every Worker forwards to one
  // coordinator, which the seed resets and cuts off. Its own stream, as the mix below.
  const coordinatorPlan = drawScenarioCoordinator(seed, fault_phase_ms, regions, quorum.accept, overrides.coordinator);
  if (coordinatorPlan !== undefined)
    armScenarioCoordinator(coordinatorPlan, cluster, world, aims, overrides.forwardFallback);

  // The contention mix (issue #12) on a share of seeds: proposers in regions of their own with
  // open-loop streams, and cold joiners. Its own stream: a seed without it runs as it did before.
  const mixUnderTinyLimits = coordinatorPlan === undefined ? mix_under_tiny_limits : coordinator_mix_under_tiny_limits;
  const mix = drawScenarioMix(
    seed,
    fault_phase_ms,
    overrides.contentionMix ?? (coreLimits === limits || mixUnderTinyLimits ? undefined : false),
  );
  const mixClients = mix === undefined ? [] : armScenarioMix(mix, cluster, world, aims, quorum);

  const clients = Array.from(
    { length: planRng.int(2, 4) },
    (_, i) => new SimClient(`c${i}`, world, cluster, rng.fork(), planRng.int(3, 7)),
  );
  const running = clients.map((c) => world.sleep(planRng.uniform(0, 300)).then(() => c.run()));
  // Read clients on the production read path, through the faults and after; their own random stream.
  const readers = startReaders(world, cluster, clients, rng.fork(), overrides.sabotage);

  // Fault phase.
  await world.run(fault_phase_ms, events_max);
  // Heal: every fault stops and every node is back. No probe beyond the Durable Object's own alarm
  // rules: a restarted acceptor asks its peers (its constructor), the others learn from new traffic.
  faults.drop_rate = 0;
  faults.duplicate_rate = 0;
  faults.partitioned.clear();
  for (const a of cluster.acceptors) cluster.restartAcceptor(a);
  for (const p of cluster.proposers) if (!p.up) p.restart();
  cluster.coordinator?.restart();
  const heal_ms = world.now_ms;
  const allDone = () => clients.every((c) => c.finished) && mixClients.every((c) => c.finished);
  await world.run(heal_ms + heal_liveness_bound_ms, events_max, allDone);
  const liveness_ms = world.now_ms - heal_ms;
  const blackoutClients = aims.commitBlackout
    ? [await runCommitBlackout(cluster, world, aimRng, heal_liveness_bound_ms, events_max)]
    : [];
  // The last write: a burst of one-entry requests to one proposer (under load, so Accepts are
  // thrifty where the seed allows), after which the ledger is idle. Its commit must reach every
  // replica, and every replica then holds every chosen slot within the convergence deadline.
  const burstTarget = cluster.proposers.find((p) => p.up);
  const burst_started_ms = world.now_ms;
  const finalClients = Array.from(
    { length: aimRng.int(final_burst_requests.min, final_burst_requests.max) },
    (_, i) => new SimClient(`f${i}`, world, cluster, aimRng.fork(), 1, burstTarget),
  );
  // The first request starts a round alone; the others queue behind it and share the next round,
  // which is then under load: its Accept is thrifty where the seed allows.
  const finalRunning = finalClients.map((c, i) =>
    i === 0 ? c.run() : world.sleep(final_burst_stagger_ms).then(() => c.run()),
  );
  const finalDone = () => finalClients.every((c) => c.finished);
  await world.run(world.now_ms + heal_liveness_bound_ms, events_max, finalDone);
  const final_ms = world.now_ms;
  const chosenMax = () => Math.max(0, ...cluster.observer.chosen.keys());
  const backlog_slots = chosenMax() - Math.min(...cluster.acceptors.map((a) => a.store.chosenThrough()));
  const deadline_ms = convergenceDeadline_ms(regions, coreLimits, backlog_slots);
  const converged = () => cluster.acceptors.every((a) => a.store.chosenThrough() === chosenMax());
  await world.run(final_ms + deadline_ms, events_max, converged);
  const converged_ms = world.now_ms - final_ms;
  const convergenceViolations: string[] = converged()
    ? []
    : [
        `replicas did not converge within ${deadline_ms} ms of the last write (backlog ${backlog_slots} slots): ` +
          `chosenThrough ${cluster.acceptors.map((a) => a.store.chosenThrough()).join(", ")}, highest chosen slot ${chosenMax()}`,
      ];
  // The checker then sees the cluster at the deadline (nothing is left to happen but alarms).
  await world.run(final_ms + deadline_ms, events_max);
  // The last write's slots were chosen with no fault but the aimed loss of one copy of a Commit: a
  // proposer that learned a slot chosen owes it to every acceptor (thrifty phase 2 sends the others
  // the values), and owes a lost Commit once more. So each acceptor has been told of each such slot
  // by a proposer within the deadline; learning it from a peer instead (anti-entropy) hides a proposer
  // that drops them. (A slot chosen behind a proposer's back, its replies lost or preempted, is told
  // by no proposer until a phase 1 recovers it: anti-entropy's job, checked by convergence above.)
  for (const [slot, chosen_ms] of cluster.chosenAt_ms) {
    if (chosen_ms < burst_started_ms || !cluster.commitSentFor.has(slot)) continue;
    const untold = cluster.acceptors.filter((a) => !cluster.committedTo.has(`${a.name}|${slot}`)).map((a) => a.name);
    if (untold.length > 0) {
      convergenceViolations.push(
        `slot ${slot}, chosen during the last write, was never committed to ${untold.join(", ")} within ${deadline_ms} ms`,
      );
    }
  }
  void Promise.all([...running, ...finalRunning]);

  const violations = [
    ...checkRun(cluster, [...clients, ...mixClients, ...blackoutClients, ...finalClients], {
      requireConvergence: true,
    }),
    ...convergenceViolations,
  ];
  const reads = readers.flatMap((r) => r.reads);
  const finalLedger = cluster.acceptors
    .map((a) => a.store.entriesAfter(0, Number.MAX_SAFE_INTEGER))
    .reduce((a, b) => (b.length > a.length ? b : a));
  violations.push(...checkReads(reads, acksOf(clients), finalLedger));
  if (world.events_run >= events_max) violations.push(`the run hit its bound of ${events_max} events`);
  // The coordinator design's own rule: a Worker never proposes (the broken fallback aside, which the
  // receipt check above must catch by itself).
  const workerSends = cluster.counters.forwarding_worker_sends;
  if (workerSends > 0 && overrides.forwardFallback === undefined)
    violations.push(`Workers that forward to the coordinator sent ${workerSends} messages to acceptors themselves`);
  const requests = [...clients, ...mixClients].reduce((k, c) => k + c.requests.length, 0);
  const entries = Math.max(...cluster.acceptors.map((a) => a.store.head().seq));
  const summary =
    `seed ${seed}: ${n} acceptors (prepare ${quorum.prepare}, accept ${quorum.accept}${thrifty ? ", thrifty" : ""}), ${proposerCount} proposers, ` +
    `${clients.length} clients, ${requests} requests, ${entries} entries, drop ${fault_drop_rate}, ` +
    `${crashes} acceptor crashes, ${proposerCrashes} proposer crashes, ${partitions} partitions, ` +
    `done ${liveness_ms.toFixed(0)} ms after heal, converged ${converged_ms.toFixed(0)} ms after the last write; ` +
    `${coreLimits === limits ? "production limits" : "tiny limits"}; ${describeAims(aims)}${describeScenarioMix(mix)}` +
    describeScenarioCoordinator(coordinatorPlan);
  return {
    seed,
    violations,
    summary,
    stats: {
      acceptors: n,
      quorum_prepare: quorum.prepare,
      quorum_accept: quorum.accept,
      proposers: proposerCount,
      mix_proposers: mix === undefined ? 0 : mix.warm.length + mix.joiners.length,
      coordinator: coordinatorPlan !== undefined,
      clients: clients.length + mixClients.length,
      requests,
      entries,
      events: world.events_run,
      virtual_ms: world.now_ms,
      messages: cluster.messages_delivered,
      reads: reads.filter((r) => r.ended_ms !== undefined).length,
      reads_served: reads.filter((r) => r.result !== undefined).length,
      converged_after_last_write_ms: converged_ms,
      convergence_deadline_ms: deadline_ms,
      tiny_limits: coreLimits !== limits,
      counters: { ...cluster.counters, ...cluster.proposerStats() },
    },
  };
}
