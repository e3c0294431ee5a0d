/**
 * The per-ledger coordinator WITH pipelining (issue #12 prototype), a latency model over the
 * harness's `PrototypeNet`, not production code. The shipped coordinator runs one group round at a
 * time; this row says how much of Mencius' advantage is pipelining and how much is having no hop.
 *
 * Leader: one, in `coordinatorRegion` (default: the production placement, `coordinatorRegionFor`
 * over the table's client regions, so enam for both clusters). It is warm: phase 1 is done before
 * the run, so its ballot is fixed (`leader_ballot`) and every acceptor has promised it.
 *
 * Workers: every proposer of the mix (and every cold joiner, `addProposer`) forwards each request
 * to the leader (`net.send`, a jittered half RTT; the RTT table's same-region figure when they
 * share a region) and resolves when the leader's answer comes back the same way. A cold joiner
 * holds no state, so it costs nothing but its hop.
 *
 * Pipelining: the leader puts every pending request (up to `batch_requests_max`) into the next slot
 * (slots dense from 1) as soon as fewer than `slots_in_flight_max` slots are in flight (proposed,
 * not yet chosen). With 1 it runs one round at a time, as production does.
 *
 * Against the production coordinator row (`test/sim/coordinator.ts`, the real `Proposer`), at 1
 * slot in flight on seed 1 every region's median is within 0.10 quorum RTT (most within 0.05),
 * every mix, both clusters (seeds 1-5, mixes of 1 and 4: -0.26 to +0.07, production the slower on
 * average). Production's p99 and max are higher alone (2.77 / 3.13 against 2.32 / 2.33, 3 acceptors)
 * because it starts cold: its first requests wait for a phase 1 (the first three of a run take
 * 2.3-3.8 quorum RTTs there, 1.1-2.1 here). Production's warm path also sends each Accept only to the
 * fastest accept quorum (thrifty); sending it to the fastest quorum only here changed nothing alone
 * (1.71 / 2.33 against 1.73 / 2.32), so the model keeps the brief's "to every acceptor".
 *
 * Phase 2 and learning: the leader sends the slot's value to every acceptor; an acceptor records the
 * vote at once, waits its durable write, then votes back to the leader ONLY (the leader is the sole
 * learner; there is no learner broadcast and no "chosen" notice, nobody else needs the log). A slot
 * is chosen at `quorum.accept` votes for one value at the leader's ballot; the leader answers a
 * request when its slot AND every earlier slot are chosen (the receipt's seq and hash chain).
 *
 * Safety self-check (`checkSafety`): chosen values computed from the acceptors' recorded votes
 * alone: at most one value per slot, slots voted dense from 1, every acknowledged request in exactly
 * one chosen slot, the leader's learnt log equal to the chosen log on every slot it learnt, and
 * acknowledgements in slot order: the leader's answers go out in nondecreasing slot order, and when
 * one goes out every slot up to it is already chosen (by the acceptors' vote times). Sabotage:
 * `answerBeforePrefix` answers a slot as soon as it is chosen (caught: answers out of slot order);
 * `sameSlotTwice` gives two batches one slot (caught: two chosen values); `quorumOneShort` takes a
 * slot for chosen one vote early (caught: acknowledged while a slot up to its own was not chosen).
 */
import { coordinatorRegionFor } from "../../../src/core/coordinator/index.js";
import type { RegionHint } from "../../../src/core/region-rtt.js";
import { contention_client_regions } from "../contention.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";

/** Requests one slot's value carries at most. */
export const batch_requests_max = 64;
/** Slots in flight by default: Mencius' figure, so the two rows differ in the hop and Mencius' skips, not in pipelining. */
export const coordinator_slots_in_flight_default = 16;
/** The slots in flight the report measures: 1 is production's one round at a time. */
export const coordinator_slots_in_flight_measured = [1, 4, 16] as const;
/** The warm leader's ballot: phase 1 at this ballot completed before the run. */
const leader_ballot = 1;
/**
 * Chosen slots waiting for an earlier one before they can be answered (an assertion: with no loss a
 * slot is chosen within a round trip of the one before it, so a run never comes near).
 */
const chosen_unanswered_slots_max = 100_000;

export interface CoordinatorPipelinedOptions {
  /** Where the leader lives; default the production placement for the table's client regions. */
  readonly coordinatorRegion?: RegionHint;
  /** Slots proposed and not yet chosen, at most. */
  readonly slots_in_flight_max?: number;
  /** Sabotage: answer a slot's requests once it is chosen, without waiting for the earlier slots. */
  readonly answerBeforePrefix?: boolean;
  /** Sabotage: every second batch is proposed in the same slot as the batch before it. */
  readonly sameSlotTwice?: boolean;
  /** Sabotage: the leader takes a slot for chosen one vote short of the accept quorum. */
  readonly quorumOneShort?: boolean;
}

export function describeCoordinatorPipelinedWith(slots_in_flight_max: number): string {
  return (
    `the per-ledger coordinator (a warm leader in the production placement, enam) with ${slots_in_flight_max} ` +
    `slot${slots_in_flight_max === 1 ? "" : "s"} in flight: Workers forward each request (hop included), the leader ` +
    `batches all pending (<= ${batch_requests_max}) into the next slot, one accept-quorum round trip, votes to the leader ` +
    "only, answers once the whole prefix is chosen; a cold isolate is a Worker like the others (its hop only)"
  );
}

export const describeCoordinatorPipelined = describeCoordinatorPipelinedWith(coordinator_slots_in_flight_default);

interface Batch {
  readonly id: string;
  readonly requests: readonly string[];
}

interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly batch: Batch;
  /** When the acceptor recorded it (the vote counts toward "chosen" from then on). */
  readonly at_ms: number;
}

class Acceptor {
  /** Every vote cast, in order: what `checkSafety` computes the chosen log from. */
  readonly votes: Vote[] = [];
  /** The warm leader's phase 1 is done: every acceptor has promised its ballot. */
  private readonly promised = leader_ballot;

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly c: CoordinatorPipelined,
  ) {}

  accept(slot: number, ballot: number, batch: Batch): void {
    if (ballot < this.promised) return;
    this.votes.push({ slot, ballot, batch, at_ms: this.c.env.world.now_ms });
    const { net } = this.c.env;
    this.c.env.world.schedule(net.write_ms(), () => {
      net.send(this.region, this.c.leaderRegion, () => this.c.leader.onVote(this.index, slot, ballot, batch));
    });
  }
}

interface Request {
  readonly id: string;
  readonly answer: () => void;
}

interface Answer {
  readonly id: string;
  readonly slot: number;
  readonly at_ms: number;
}

class Leader {
  private readonly pending: Request[] = [];
  /** Slots proposed and not yet chosen. */
  private inFlight = 0;
  private nextSlot = 1;
  /** Every slot below this one is chosen and answered. */
  private prefix = 1;
  private proposedBatches = 0;
  /** The requests waiting on each proposed slot (two batches' only under `sameSlotTwice`). */
  private readonly waiting = new Map<number, Request[]>();
  /** Batches proposed in each slot not yet chosen: 1, or 2 under `sameSlotTwice`. */
  private readonly proposals = new Map<number, number>();
  /** Slot -> batch id -> acceptors that voted it (at the leader's ballot). */
  private readonly tallies = new Map<number, Map<string, Set<number>>>();
  /** What the leader learnt chosen, per slot. */
  readonly learnt = new Map<number, Batch>();
  /** Every answer sent, in order: `checkSafety` checks they follow the slot order. */
  readonly answers: Answer[] = [];
  inFlightPeak = 0;
  pendingPeak = 0;

  constructor(private readonly c: CoordinatorPipelined) {}

  receive(request: Request): void {
    this.pending.push(request);
    this.pendingPeak = Math.max(this.pendingPeak, this.pending.length);
    this.pump();
  }

  /** Proposes batches while there is room in flight (bounded by the in-flight limit). */
  private pump(): void {
    while (this.pending.length > 0 && this.inFlight < this.c.slots_in_flight_max) {
      const requests = this.pending.splice(0, batch_requests_max);
      const batch: Batch = { id: `b${this.proposedBatches}`, requests: requests.map((r) => r.id) };
      const reuse = this.c.options.sameSlotTwice === true && this.proposedBatches % 2 === 1 && this.nextSlot > 1;
      const slot = reuse ? this.nextSlot - 1 : this.nextSlot++;
      this.proposedBatches++;
      this.c.batches++;
      this.c.requestsBatched += requests.length;
      this.waiting.set(slot, [...(this.waiting.get(slot) ?? []), ...requests]);
      this.proposals.set(slot, (this.proposals.get(slot) ?? 0) + 1);
      this.inFlight++;
      this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlight);
      const { net } = this.c.env;
      for (const a of this.c.acceptors) {
        net.send(this.c.leaderRegion, a.region, () => a.accept(slot, leader_ballot, batch));
      }
    }
  }

  onVote(acceptor: number, slot: number, ballot: number, batch: Batch): void {
    if (ballot !== leader_ballot || this.learnt.has(slot)) return;
    let bySlot = this.tallies.get(slot);
    if (bySlot === undefined) {
      bySlot = new Map();
      this.tallies.set(slot, bySlot);
    }
    let voters = bySlot.get(batch.id);
    if (voters === undefined) {
      voters = new Set();
      bySlot.set(batch.id, voters);
    }
    voters.add(acceptor);
    const quorum = this.c.env.quorum.accept - (this.c.options.quorumOneShort === true ? 1 : 0);
    if (voters.size < quorum) return;
    this.learnt.set(slot, batch);
    this.tallies.delete(slot);
    // Under `sameSlotTwice` two proposals share the slot: both leave the in-flight count.
    this.inFlight -= this.proposals.get(slot) ?? 0;
    this.proposals.delete(slot);
    if (this.learnt.size - (this.prefix - 1) > chosen_unanswered_slots_max) {
      throw new Error(
        `coordinator-pipelined: more than ${chosen_unanswered_slots_max} chosen slots wait on an earlier one`,
      );
    }
    if (this.c.options.answerBeforePrefix === true) this.answer(slot);
    // Bounded by the slots learnt: each passes the prefix once.
    while (this.learnt.has(this.prefix)) {
      if (this.c.options.answerBeforePrefix !== true) this.answer(this.prefix);
      this.prefix++;
    }
    this.pump();
  }

  /** Answers the requests of `slot`: each answer travels back to its Worker. */
  private answer(slot: number): void {
    const requests = this.waiting.get(slot) ?? [];
    this.waiting.delete(slot);
    for (const r of requests) {
      this.answers.push({ id: r.id, slot, at_ms: this.c.env.world.now_ms });
      r.answer();
    }
  }
}

class CoordinatorPipelined implements Prototype {
  readonly leaderRegion: RegionHint;
  readonly slots_in_flight_max: number;
  readonly acceptors: readonly Acceptor[];
  readonly leader: Leader;
  readonly proposers: readonly PrototypeProposer[];
  batches = 0;
  requestsBatched = 0;
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
    this.acceptors = env.acceptorRegions.map((region, i) => new Acceptor(i, region, this));
    this.leader = new Leader(this);
    this.proposers = env.proposerRegions.map((region) => this.worker(region));
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

  /** What the acceptors' votes chose, per slot (with when: the accept-quorum-th vote's recording), from nothing the leader holds. */
  private chosenLog(): Map<number, { batch: Batch; at_ms: number }> {
    const q2 = this.env.quorum.accept;
    const tally = new Map<string, { vote: Vote; times_ms: number[] }>();
    for (const a of this.acceptors) {
      for (const v of a.votes) {
        const key = `${v.slot}/${v.ballot}/${v.batch.id}`;
        const t = tally.get(key) ?? { vote: v, times_ms: [] };
        t.times_ms.push(v.at_ms);
        tally.set(key, t);
      }
    }
    const chosen = new Map<number, { batch: Batch; at_ms: number }>();
    for (const { vote, times_ms } of tally.values()) {
      if (times_ms.length < q2) continue;
      const known = chosen.get(vote.slot);
      if (known !== undefined && known.batch.id !== vote.batch.id) {
        throw new Error(
          `coordinator-pipelined safety: slot ${vote.slot} has two chosen values: ${known.batch.id}, ${vote.batch.id}`,
        );
      }
      chosen.set(vote.slot, { batch: vote.batch, at_ms: times_ms.sort((x, y) => x - y)[q2 - 1]! });
    }
    return chosen;
  }

  checkSafety(): void {
    const chosen = this.chosenLog();
    const voted = new Set(this.acceptors.flatMap((a) => a.votes.map((v) => v.slot)));
    for (let slot = 1; slot <= voted.size; slot++) {
      if (!voted.has(slot)) {
        throw new Error(`coordinator-pipelined safety: slots voted are not dense from 1 (slot ${slot} missing)`);
      }
    }
    const slotsOf = new Map<string, number[]>();
    for (const [slot, { batch }] of chosen) {
      for (const id of batch.requests) slotsOf.set(id, [...(slotsOf.get(id) ?? []), slot]);
    }
    /** When every slot from 1 to `slot` is chosen, by the acceptors' vote times (Infinity if one never is). */
    const prefixChosenAt_ms: number[] = [0];
    for (let slot = 1; slot <= voted.size; slot++) {
      prefixChosenAt_ms.push(Math.max(prefixChosenAt_ms[slot - 1]!, chosen.get(slot)?.at_ms ?? Infinity));
    }
    let lastSlot = 0;
    for (const a of this.leader.answers) {
      const slots = slotsOf.get(a.id) ?? [];
      if (slots.length !== 1 || slots[0] !== a.slot) {
        throw new Error(
          `coordinator-pipelined safety: acknowledged request ${a.id} (slot ${a.slot}) is in ${slots.length} chosen slots (${slots.join(", ")})`,
        );
      }
      if (a.slot < lastSlot) {
        throw new Error(
          `coordinator-pipelined safety: not acknowledged in slot order: ${a.id} of slot ${a.slot} answered after slot ${lastSlot}`,
        );
      }
      lastSlot = a.slot;
      if (a.at_ms < (prefixChosenAt_ms[a.slot] ?? Infinity)) {
        let open = 1;
        while (open < a.slot && (chosen.get(open)?.at_ms ?? Infinity) <= a.at_ms) open++;
        throw new Error(
          `coordinator-pipelined safety: ${a.id} of slot ${a.slot} acknowledged at ${a.at_ms.toFixed(1)} ms while slot ${open} was not yet chosen`,
        );
      }
    }
    for (const [slot, batch] of this.leader.learnt) {
      const c = chosen.get(slot);
      if (c === undefined || c.batch.id !== batch.id) {
        throw new Error(
          `coordinator-pipelined safety: the leader learnt ${batch.id} for slot ${slot}, chosen is ${c === undefined ? "nothing" : c.batch.id}`,
        );
      }
    }
  }

  stats(): Readonly<Record<string, number>> {
    return {
      slots_in_flight_max: this.slots_in_flight_max,
      batches: this.batches,
      requests_per_batch: this.batches === 0 ? 0 : this.requestsBatched / this.batches,
      slots_in_flight_peak: this.leader.inFlightPeak,
      pending_at_leader_peak: this.leader.pendingPeak,
      forwarded: this.forwarded,
    };
  }
}

export function coordinatorPipelinedPrototypeWith(options: CoordinatorPipelinedOptions = {}): PrototypeFactory {
  return (env) => new CoordinatorPipelined(env, options);
}

export const coordinatorPipelinedPrototype: PrototypeFactory = coordinatorPipelinedPrototypeWith();
