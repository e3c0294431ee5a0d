/**
 * The pipelined coordinator prototype's leader: one phase 1 at the start (unless warm), then every
 * pending request into the next slot while fewer than `slots_in_flight_max` are in flight, and the
 * answers in slot order once the whole prefix is chosen.
 */
import {
  chosen_unanswered_slots_max,
  leader_ballot,
  leader_pending_requests_max,
  prototype_batch_requests_max,
} from "./limits.js";
import type { Answer, Batch, CoordinatorRun, Request } from "./values.js";

export class Leader {
  private readonly pending: Request[] = [];
  private readonly pending_requests_max: number;
  /** Phase 1 has begun (on the first request, or at once when warm). */
  private started = false;
  /** Phase 1 is done: the leader may propose. */
  private leading = false;
  private readonly promisers = new Set<number>();
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
  /** Every answer sent, in order: the safety check checks they follow the slot order. */
  readonly answers: Answer[] = [];
  /** When phase 1 began and ended (both 0 when warm). */
  phase1Began_ms = Number.NaN;
  leadingSince_ms = Number.NaN;
  inFlightPeak = 0;
  pendingPeak = 0;
  batches = 0;
  requestsBatched = 0;

  constructor(private readonly run: CoordinatorRun) {
    this.pending_requests_max = run.options.pending_requests_max ?? leader_pending_requests_max;
  }

  /**
   * Warm: lead at once. Cold: one phase 1, a prepare to every acceptor, started by the first request
   * to arrive, as production's proposer runs it in its first commit; requests queue meanwhile.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.run.options.warm === true) {
      this.phase1Began_ms = this.run.env.world.now_ms;
      this.lead();
      return;
    }
    const { net, world } = this.run.env;
    this.phase1Began_ms = world.now_ms;
    for (const a of this.run.acceptors) net.send(this.run.leaderRegion, a.region, () => a.prepare(leader_ballot));
  }

  onPromise(acceptor: number, ballot: number): void {
    if (this.leading || ballot !== leader_ballot) return;
    this.promisers.add(acceptor);
    const quorum = this.run.env.quorum.prepare - (this.run.options.phase1OneShort === true ? 1 : 0);
    if (this.promisers.size >= quorum) this.lead();
  }

  receive(request: Request): void {
    if (this.pending.length >= this.pending_requests_max) {
      throw new Error(`coordinator-pipelined: more than ${this.pending_requests_max} requests pending at the leader`);
    }
    this.pending.push(request);
    this.pendingPeak = Math.max(this.pendingPeak, this.pending.length);
    this.start();
    this.pump();
  }

  private lead(): void {
    this.leading = true;
    this.leadingSince_ms = this.run.env.world.now_ms;
    this.pump();
  }

  /** Proposes batches while leading and there is room in flight (bounded by the in-flight limit). */
  private pump(): void {
    const { options } = this.run;
    while (this.leading && this.pending.length > 0 && this.inFlight < this.run.slots_in_flight_max) {
      const requests = this.pending.splice(0, prototype_batch_requests_max);
      const batch: Batch = { id: `b${this.proposedBatches}`, requests: requests.map((r) => r.id) };
      const reuse = options.sameSlotTwice === true && this.proposedBatches % 2 === 1 && this.nextSlot > 1;
      const slot = reuse ? this.nextSlot - 1 : this.nextSlot++;
      this.proposedBatches++;
      this.batches++;
      this.requestsBatched += requests.length;
      this.waiting.set(slot, [...(this.waiting.get(slot) ?? []), ...requests]);
      this.proposals.set(slot, (this.proposals.get(slot) ?? 0) + 1);
      this.inFlight++;
      this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlight);
      const { net } = this.run.env;
      for (const a of this.run.acceptors) {
        net.send(this.run.leaderRegion, a.region, () => a.accept(slot, leader_ballot, batch));
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
    const { options } = this.run;
    const quorum = this.run.env.quorum.accept - (options.quorumOneShort === true ? 1 : 0);
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
    if (options.answerBeforePrefix === true) this.answer(slot);
    // Bounded by the slots learnt: each passes the prefix once.
    while (this.learnt.has(this.prefix)) {
      if (options.answerBeforePrefix !== true) this.answer(this.prefix);
      this.prefix++;
    }
    this.pump();
  }

  /** Answers the requests of `slot`: each answer travels back to its Worker. */
  private answer(slot: number): void {
    const requests = this.waiting.get(slot) ?? [];
    this.waiting.delete(slot);
    for (const r of requests) {
      this.answers.push({ id: r.id, slot, at_ms: this.run.env.world.now_ms });
      r.answer();
    }
  }
}
