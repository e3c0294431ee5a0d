/**
 * Aimed faults: besides the random faults of every seed, a share of the seeds (chosen by the seed)
 * places faults where the protocol is most fragile:
 * - an acceptor that crashes right after a Promise left it (then every acceptor that promises that
 *   ballot does too), or right after an Accepted did; and once, a proposer that recovers beside the
 *   leader while every acceptor restarts right after promising it;
 * - proposers whose clocks are equal and coarse (two phase 1s in one tick tie on the round, so the
 *   proposer id decides) or skewed (a proposer ahead outranks the others from its first ballot);
 * - a leader that dies mid-phase-2 (its Accept reached one acceptor), while two proposers recover at
 *   once over that partially accepted slot;
 * - a commit blackout (after the heal, with tiny limits): a client writes several requests while the
 *   commits reach one acceptor only (to the others, as if each leader died right after its quorum
 *   accepted); then that acceptor fails and another proposer recovers over the others' backlog of
 *   accepted, undecided slots: truncated Promise listings, and the re-prepare loop they need;
 * - lost Commits: the first Commit naming a slot to an acceptor is lost, a resend is not. The
 *   acceptors run anti-entropy at the Durable Object's timings (`anti_entropy`), which would hide a
 *   proposer that never tells a replica of a slot; so the scenario also checks that every acceptor
 *   was told of each slot of the last write by a proposer's commit within the deadline below.
 */
import { anti_entropy, type CoreLimits } from "../../src/core/limits.js";
import { durable_write_ms, type RegionHint, regionRtt_ms } from "../../src/core/region-rtt.js";
import { SimClient } from "./clients.js";
import type { Cluster, SimProposer } from "./cluster.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

export type ClockAim = "equal" | "equal_coarse" | "skewed";

export interface AimPlan {
  readonly crashAfterPromise: number;
  readonly crashAfterAccepted: number;
  readonly clocks: ClockAim;
  /** Coarse clocks: one tick, in ms. Skewed clocks: the largest offset, in ms. */
  readonly clock_ms: number;
  readonly leaderCuts: number;
  readonly lostCommits: boolean;
  /** After the heal: writes while commits reach one acceptor only, then it fails and a phase 1 runs. */
  readonly commitBlackout: boolean;
}

/** The share of seeds with each aim (drawn independently). */
const aim_share = {
  crash_after_promise: 0.25,
  crash_after_accepted: 0.2,
  leader_cut: 0.4,
  lost_commits: 0.3,
  commit_blackout: 0.25,
  clocks_equal_coarse: 0.2,
  clocks_skewed: 0.2,
} as const;

/** Requests written, one after the other, during a commit blackout: more slots than a tiny Promise lists. */
const commit_blackout_requests = { min: 6, max: 10 } as const;

/** How long after a recovery starts its Promises crash their acceptors (one phase 1, with retries). */
const recovery_promise_crash_window_ms = 300;

/**
 * Skewed clocks stay within this: `ownEntriesCreated` assumes proposers' clocks differ by less than
 * a client's resend delay (at least 10 ms in `clients.ts`), so a larger skew is a documented
 * limitation, not a bug to hunt.
 */
const clock_skew_ms_max = 8;

/**
 * Coarse clocks tick at most this often. `ownEntriesCreated` tells a request's own entries from a
 * resend's by time (`committedAt >= proposedAt_ms`): that needs the clock to advance between a commit
 * and the acknowledgment it produces, which comes at least one durable write (5 ms) later. With ticks
 * of 71 and 89 ms, seeds 15671 and 18646 of 20,000 answered a deliberate resend of an acknowledged
 * request `created` instead of `exists` (same seq, slot and hash): the documented limitation, not a
 * bug to hunt. Ticks of 2-4 ms still make two phase 1s tie on the round.
 */
const clock_tick_ms_max = 4;

export function drawAims(rng: Prng): AimPlan {
  const crashAfterPromise = rng.chance(aim_share.crash_after_promise) ? rng.int(2, 6) : 0;
  const crashAfterAccepted = rng.chance(aim_share.crash_after_accepted) ? rng.int(1, 3) : 0;
  const leaderCuts = rng.chance(aim_share.leader_cut) ? rng.int(2, 4) : 0;
  const lostCommits = rng.chance(aim_share.lost_commits);
  const commitBlackout = rng.chance(aim_share.commit_blackout);
  const roll = rng.next();
  const clocks: ClockAim =
    roll < aim_share.clocks_equal_coarse
      ? "equal_coarse"
      : roll < aim_share.clocks_equal_coarse + aim_share.clocks_skewed
        ? "skewed"
        : "equal";
  const clock_ms =
    clocks === "equal_coarse" ? rng.int(2, clock_tick_ms_max) : clocks === "skewed" ? rng.int(1, clock_skew_ms_max) : 0;
  return { crashAfterPromise, crashAfterAccepted, clocks, clock_ms, leaderCuts, lostCommits, commitBlackout };
}

/** Arms the plan's faults over the fault phase [0, fault_phase_ms). */
export function armAims(plan: AimPlan, cluster: Cluster, world: World, rng: Prng, fault_phase_ms: number): void {
  for (const p of cluster.proposers) {
    if (plan.clocks === "equal_coarse") p.clockTick_ms = plan.clock_ms;
    if (plan.clocks === "skewed") p.clockOffset_ms = rng.uniform(-plan.clock_ms, plan.clock_ms);
  }
  const aims = cluster.aims;
  aims.commitLossesOnce = plan.lostCommits;
  // Each aimed crash is armed at a random moment and fires at the next matching reply after it.
  for (let i = 0; i < plan.crashAfterPromise; i++)
    world.schedule(rng.uniform(0, fault_phase_ms), () => aims.crashAfterPromise++);
  // And once: a proposer that is not the leader recovers (a phase 1 only) while the leader goes on,
  // and every acceptor restarts right after promising it. The leader's next Accepts must still be
  // refused: the promises were durable before they were sent.
  if (plan.crashAfterPromise > 0) {
    world.schedule(rng.uniform(0, fault_phase_ms - recovery_promise_crash_window_ms), () => {
      const live = cluster.proposers.filter((p) => p.up);
      const recovering = live.find((p) => !p.proposer.isLeader);
      if (recovering === undefined || live.length < 2) return;
      aims.crashPromisesTo = recovering.name;
      // Not awaited: the recovery runs beside the leader on the simulated clock, and may fail amid
      // the faults; the checks judge what the cluster holds afterwards.
      void recovering.sync().catch(() => undefined);
      world.schedule(recovery_promise_crash_window_ms, () => (aims.crashPromisesTo = undefined));
    });
  }
  for (let i = 0; i < plan.crashAfterAccepted; i++)
    world.schedule(rng.uniform(0, fault_phase_ms), () => aims.crashAfterAccepted++);
  for (let i = 0; i < plan.leaderCuts; i++) world.schedule(rng.uniform(0, fault_phase_ms), () => aims.leaderCuts++);
  aims.onLeaderCut = (cut: SimProposer) => {
    // Two proposers recover at once over the partially accepted slot: the others that are up, and
    // the cut one after its restart when fewer than two others are. Not awaited, and allowed to
    // fail, like the recovery above.
    const others = cluster.proposers.filter((p) => p !== cut && p.up).slice(0, 2);
    for (const p of others) void p.sync().catch(() => undefined);
    world.schedule(rng.uniform(20, 300), () => {
      if (cut.up) return;
      cut.restart();
      if (others.length < 2) void cut.sync().catch(() => undefined);
    });
  };
  world.schedule(fault_phase_ms, () => {
    aims.crashAfterPromise = 0;
    aims.crashAfterAccepted = 0;
    aims.leaderCuts = 0;
  });
}

export function describeAims(plan: AimPlan): string {
  const parts: string[] = [];
  if (plan.crashAfterPromise > 0) parts.push(`${plan.crashAfterPromise} crashes after Promise`);
  if (plan.crashAfterAccepted > 0) parts.push(`${plan.crashAfterAccepted} crashes after Accepted`);
  if (plan.leaderCuts > 0) parts.push(`${plan.leaderCuts} leader cuts`);
  if (plan.lostCommits) parts.push("commits lost once");
  if (plan.commitBlackout) parts.push("a commit blackout");
  if (plan.clocks !== "equal")
    parts.push(
      plan.clocks === "skewed" ? `clocks skewed up to ${plan.clock_ms} ms` : `clock ticks of ${plan.clock_ms} ms`,
    );
  return parts.length === 0 ? "no aimed faults" : parts.join(", ");
}

/**
 * How long after the last write is answered (faults over) every replica must hold every chosen slot.
 * What a correct cluster needs, without the idle probe (`anti_entropy.idle_probe_ms`, 30 s):
 * - the commit of the last write reaches every acceptor: sent after `owed_commit_linger_ms` at most,
 *   and when lost once (the aimed loss), owed again after `quorum_timeout_ms` and sent after another
 *   linger, then one network trip;
 * - an acceptor that learns of a slot it lacks runs its alarm at once: rounds to every peer (each at
 *   most the slowest peer's round trip), each bringing at least one catch-up page (or apply batch) of
 *   the backlog measured when the last write was answered, `catch_up_rounds_per_alarm_max` per alarm
 *   and `gap_retry_ms` between alarms;
 * - an acceptor that holds an accepted slot whose commit never came asks after `unchosen_alarm_ms`.
 * A replica that is never told of a slot (owed values dropped, lost commits never resent) waits for
 * the idle probe instead, which comes up to 30 s after its first message since its last alarm: far
 * beyond this deadline for the runs the simulator makes, so the checker sees it.
 */
export function convergenceDeadline_ms(regions: readonly RegionHint[], lim: CoreLimits, backlog_slots: number): number {
  let rtt_max_ms = 0;
  for (const a of regions) for (const b of regions) rtt_max_ms = Math.max(rtt_max_ms, regionRtt_ms(a, b));
  // One-way delays carry up to 50 % jitter (`Cluster.oneWay_ms`), plus the durable write.
  const peer_round_trip_ms = 1.5 * rtt_max_ms + durable_write_ms.max;
  const commit_ms = 2 * lim.owed_commit_linger_ms + lim.quorum_timeout_ms + peer_round_trip_ms;
  // Each catch-up round brings at least one page (or one apply batch) of the backlog, plus one round that finds nothing new.
  const rounds = Math.ceil(backlog_slots / Math.min(lim.catch_up_slots_max, lim.apply_slots_per_message_max)) + 1;
  const alarms = Math.ceil(rounds / anti_entropy.catch_up_rounds_per_alarm_max);
  const catch_up_ms = rounds * peer_round_trip_ms + alarms * anti_entropy.gap_retry_ms;
  return Math.ceil(Math.max(commit_ms, anti_entropy.unchosen_alarm_ms) + catch_up_ms);
}

/**
 * The commit blackout: one client writes `commit_blackout_requests` requests through the leader
 * while commits reach only `informed`; then `informed` crashes (it restarts a moment later) and a
 * proposer other than the leader (the leader when it is alone) recovers. Returns the client, whose
 * requests the checker checks like any other.
 */
export async function runCommitBlackout(
  cluster: Cluster,
  world: World,
  rng: Prng,
  run_ms_max: number,
  events_max: number,
): Promise<SimClient> {
  const live = cluster.proposers.filter((p) => p.up);
  const leader = live.find((p) => p.proposer.isLeader) ?? live[0];
  const informed = rng.pick(cluster.acceptors);
  const writer = new SimClient(
    "blackout",
    world,
    cluster,
    rng.fork(),
    rng.int(commit_blackout_requests.min, commit_blackout_requests.max),
    leader,
  );
  // The blackout alone: commits lost once on top of it would leave no acceptor able to tell outcomes.
  const lossesOnce = cluster.aims.commitLossesOnce;
  cluster.aims.commitLossesOnce = false;
  cluster.aims.commitBlackout = informed.name;
  // Not awaited: world.run below drives it until it is finished.
  void writer.run();
  await world.run(world.now_ms + run_ms_max, events_max, () => writer.finished);
  cluster.aims.commitBlackout = undefined;
  cluster.aims.commitLossesOnce = lossesOnce;
  cluster.crashAcceptor(informed);
  world.schedule(rng.uniform(300, 1000), () => cluster.restartAcceptor(informed));
  const recovering = live.find((p) => p !== leader && p.up) ?? leader;
  // With a coordinator, the one proposer that recovers is a new life of it (a Durable Object reset):
  // its phase 1 meets the others' backlog, as another proposer's does without one.
  cluster.coordinator?.reset();
  // Not awaited, and allowed to fail: world.run below drives it; the checker judges the outcome.
  void recovering?.sync().catch(() => undefined);
  // Faults are over once `informed` is back: what follows (the last write) runs on a whole cluster.
  await world.run(world.now_ms + run_ms_max, events_max, () => informed.up);
  return writer;
}
