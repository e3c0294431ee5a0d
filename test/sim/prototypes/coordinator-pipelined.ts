/**
 * The per-ledger coordinator WITH pipelining (issue #12 prototype), a latency model over the
 * harness's `PrototypeNet`, not production code. The shipped coordinator runs one group round at a
 * time; this row says how much of Mencius' advantage is pipelining and how much is having no hop.
 *
 * Leader: one, in `coordinatorRegion` (default: the production placement, `coordinatorRegionFor`
 * over the table's client regions, so enam for both clusters). It starts cold, as the production
 * coordinator row does: exactly one phase 1 per run, which the first request to reach the leader
 * starts (production's proposer runs it in its first commit): a prepare at `leader_ballot` to every
 * acceptor; an acceptor records its promise, waits its durable write and answers; at
 * `quorum.prepare` promises the leader leads. The log is empty, so the promises carry nothing and
 * there is nothing to recover: phase 1 is only that round trip. Requests arriving meanwhile queue
 * at the leader. `warm: true` skips it (every acceptor promised before the run), the model's old
 * behaviour (it reproduces the old figures exactly).
 *
 * Workers: every proposer of the mix (and every cold joiner, `addProposer`) forwards each request
 * to the leader (`net.send`, a jittered half RTT; the RTT table's same-region figure when they
 * share a region) and resolves when the leader's answer comes back the same way. A cold joiner
 * holds no state, so it costs nothing but its hop.
 *
 * Pipelining: the leader puts every pending request (up to `prototype_batch_requests_max`) into the
 * next slot (slots dense from 1) as soon as fewer than `slots_in_flight_max` slots are in flight
 * (proposed, not yet chosen). With 1 it runs one round at a time, as production does. Pending
 * requests are bounded by `leader_pending_requests_max` (production's queue limit; an assertion).
 *
 * Against the production coordinator row (`test/sim/coordinator.ts`, the real `Proposer`, which
 * also runs its one phase 1 in its first commit), at 1 slot in flight, re-measured with the cold
 * start: on seed 1 every region's median is within 0.08 quorum RTT, every mix, both clusters; seeds
 * 1-5, mixes of 1 and 4: -0.05 to +0.29 (production the slower on average, by 0.04). Alone on seed
 * 1, p99 / max: 3 acceptors production 2.77 / 3.13, model 2.30 / 2.34 (warm 2.32 / 2.33); 5
 * acceptors (Q1 = 4 reaches apac or sam) production 3.19 / 3.55, model 2.34 / 2.85 (warm 2.35 /
 * 2.37). So phase 1 explains part of production's tail with 5 acceptors and none with 3 (there a
 * first request's phase 1 + phase 2, about 2.3, costs no more than a request queued behind a full
 * round); production's remaining tail (3 acceptors: 3 requests of 200 at 2.8-3.2 on seeds 1 and 3,
 * none on seed 2) is not phase 1, and is not modelled. Production's warm path also sends each
 * Accept only to the fastest accept quorum (thrifty); on the warm model, sending it to the fastest
 * quorum only changed nothing alone (1.71 / 2.33 against 1.73 / 2.32), so the model keeps "to every
 * acceptor". With 16 slots in flight (the table's row, seed 1) the cold start is what sets the
 * tail: alone p99 / max 1.73 / 2.28 (3 acceptors) and 2.30 / 2.85 (5) against 1.25 / 1.28 and
 * 1.24 / 1.29 warm; the worst region's p99 with 5 acceptors 3.28 against 2.93 warm.
 *
 * Phase 2 and learning: the leader sends the slot's value to every acceptor; an acceptor records the
 * vote at once, waits its durable write, then votes back to the leader ONLY (the leader is the sole
 * learner; there is no learner broadcast and no "chosen" notice, nobody else needs the log). A slot
 * is chosen at `quorum.accept` votes for one value at the leader's ballot; the leader answers a
 * request when its slot AND every earlier slot are chosen (the receipt's seq and hash chain).
 *
 * Safety self-check (`coordinator-pipelined/check.ts`): chosen values and when (the accept-quorum-th
 * vote's recording) computed from the acceptors' recorded votes alone: at most one value per slot,
 * no vote at a ballot before a prepare quorum promised it, slots voted dense from 1, every
 * acknowledged request in exactly one chosen slot, the leader's learnt log equal to the chosen log on
 * every slot it learnt, and acknowledgements in slot order: the leader's answers go out in
 * nondecreasing slot order, and when one goes out every slot up to it is already chosen. Sabotage:
 * `answerBeforePrefix` answers a slot as soon as it is chosen (caught: answers out of slot order, or
 * before the prefix was chosen); `sameSlotTwice` gives two batches one slot (caught: two chosen
 * values); `quorumOneShort` takes a slot for chosen one vote early (caught: acknowledged while a slot
 * up to its own was not chosen); `phase1OneShort` leads one promise early (caught: a vote before a
 * prepare quorum promised).
 */
import { coordinatorRegionFor } from "../../../src/core/coordinator/index.js";
import type { RegionHint } from "../../../src/core/region-rtt.js";
import { contention_client_regions } from "../contention.js";
import { Acceptor } from "./coordinator-pipelined/acceptor.js";
import { checkCoordinatorSafety } from "./coordinator-pipelined/check.js";
import { Leader } from "./coordinator-pipelined/leader.js";
import { coordinator_slots_in_flight_default, prototype_batch_requests_max } from "./coordinator-pipelined/limits.js";
import type { CoordinatorPipelinedOptions } from "./coordinator-pipelined/options.js";
import type { CoordinatorRun } from "./coordinator-pipelined/values.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";

// The parts live in ./coordinator-pipelined/, each named for what it holds; this file keeps the public API.
export {
  coordinator_slots_in_flight_default,
  coordinator_slots_in_flight_measured,
  leader_pending_requests_max,
} from "./coordinator-pipelined/limits.js";
export type { CoordinatorPipelinedOptions } from "./coordinator-pipelined/options.js";

export function describeCoordinatorPipelinedWith(slots_in_flight_max: number): string {
  return (
    `the per-ledger coordinator (a leader in the production placement, enam, that starts cold: one phase 1, as ` +
    `production) with ${slots_in_flight_max} slot${slots_in_flight_max === 1 ? "" : "s"} in flight: Workers forward ` +
    `each request (hop included), the leader batches all pending (<= ${prototype_batch_requests_max}) into the next ` +
    "slot, one accept-quorum round trip, votes to the leader only, answers once the whole prefix is chosen; a cold " +
    "isolate is a Worker like the others (its hop only)"
  );
}

export const describeCoordinatorPipelined = describeCoordinatorPipelinedWith(coordinator_slots_in_flight_default);

class CoordinatorPipelined implements Prototype, CoordinatorRun {
  readonly leaderRegion: RegionHint;
  readonly slots_in_flight_max: number;
  readonly acceptors: readonly Acceptor[];
  readonly leader: Leader;
  readonly proposers: readonly PrototypeProposer[];
  forwarded = 0;

  constructor(
    readonly env: PrototypeEnv,
    readonly options: CoordinatorPipelinedOptions,
  ) {
    this.leaderRegion =
      options.coordinatorRegion ??
      coordinatorRegionFor(env.acceptorRegions, env.quorum.accept, contention_client_regions);
    this.slots_in_flight_max = options.slots_in_flight_max ?? coordinator_slots_in_flight_default;
    if (!(Number.isInteger(this.slots_in_flight_max) && this.slots_in_flight_max >= 1)) {
      throw new Error(
        `coordinator-pipelined: slots_in_flight_max ${this.slots_in_flight_max} is not a positive integer`,
      );
    }
    const warm = options.warm === true;
    this.acceptors = env.acceptorRegions.map((region, i) => new Acceptor(i, region, this, warm));
    this.leader = new Leader(this);
    this.proposers = env.proposerRegions.map((region) => this.worker(region));
    if (warm) this.leader.start();
  }

  addProposer(region: RegionHint): PrototypeProposer {
    return this.worker(region);
  }

  /** A Worker: one hop to the leader with the request, one hop back with the answer. */
  private worker(region: RegionHint): PrototypeProposer {
    const { net } = this.env;
    return {
      region,
      append: (requestId) =>
        new Promise<void>((resolve) => {
          this.forwarded++;
          net.send(region, this.leaderRegion, () =>
            this.leader.receive({ id: requestId, answer: () => net.send(this.leaderRegion, region, resolve) }),
          );
        }),
    };
  }

  checkSafety(): void {
    checkCoordinatorSafety(this.acceptors, this.leader, this.env.quorum);
  }

  stats(): Readonly<Record<string, number>> {
    const { leader } = this;
    return {
      slots_in_flight_max: this.slots_in_flight_max,
      batches: leader.batches,
      requests_per_batch: leader.batches === 0 ? 0 : leader.requestsBatched / leader.batches,
      slots_in_flight_peak: leader.inFlightPeak,
      pending_at_leader_peak: leader.pendingPeak,
      phase1_ms: leader.leadingSince_ms - leader.phase1Began_ms,
      forwarded: this.forwarded,
    };
  }
}

export function coordinatorPipelinedPrototypeWith(options: CoordinatorPipelinedOptions = {}): PrototypeFactory {
  return (env) => new CoordinatorPipelined(env, options);
}

export const coordinatorPipelinedPrototype: PrototypeFactory = coordinatorPipelinedPrototypeWith();
