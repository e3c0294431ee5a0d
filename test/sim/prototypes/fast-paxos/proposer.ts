/**
 * A Fast Paxos proposer (class `Node`; also the learner): it batches requests into fast proposals,
 * learns slots from the acceptors' vote broadcasts, recovers stuck slots (as their round-1
 * coordinator or after a timeout) and acknowledges a request once its slot and every earlier one are
 * learnt. The protocol it follows is described in `../fast-paxos.ts`'s header.
 */
import { type RegionHint, regionRtt_ms } from "../../../../src/core/region-rtt.js";
import { type PrototypeProposer, prototype_batch_requests_max } from "../harness.js";
import { pending_requests_max, recovery_attempts_max, recovery_timeout_rtts } from "./limits.js";
import { isStuck, type OwnSlot, type Recovery, type SlotKnowledge } from "./proposer-slots.js";
import { forcedValue } from "./quorums.js";
import type { FastPaxosRun, ProposerPeer } from "./run.js";
import { classicBallot, fast_ballot, roundOf, type Value, type Vote } from "./values.js";

export class Node implements PrototypeProposer, ProposerPeer {
  ready: boolean;
  private readonly pending: string[] = [];
  private readonly waiting = new Map<string, () => void>();
  /** 1 + this is the next slot to propose in. */
  private highestSlotSeen = 0;
  /** Slots learnt chosen: slot -> value id (kept for the safety check). */
  readonly learnt = new Map<number, string>();
  /** Every slot up to this is learnt. */
  watermark = 0;
  private readonly known = new Map<number, SlotKnowledge>();
  private readonly own = new Map<number, OwnSlot>();
  /** Own chosen values waiting for the prefix before them. */
  private readonly placed = new Map<number, readonly string[]>();
  private values = 0;
  private readReplies = 0;

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly fp: FastPaxosRun,
    cold: boolean,
  ) {
    this.ready = !cold;
  }

  append(requestId: string): Promise<void> {
    if (this.pending.length >= pending_requests_max)
      throw new Error(`proposer ${this.index}: more than ${pending_requests_max} requests queued`);
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.pending.push(requestId);
      this.pump();
    });
  }

  /** Proposes while there are requests and room for another slot in flight. */
  private pump(): void {
    if (!this.ready) return;
    while (this.own.size < this.fp.slotsInFlight && this.pending.length > 0) {
      const slot = this.highestSlotSeen + 1;
      this.highestSlotSeen = slot;
      const value: Value = {
        id: `${this.index}:${this.values++}`,
        proposer: this.index,
        requests: this.pending.splice(0, prototype_batch_requests_max),
      };
      this.own.set(slot, { value, abandoned: false, stuck: false, attempts: 0, timer: 0 });
      this.fp.counters.slots_proposed++;
      for (const a of this.fp.acceptors)
        this.fp.env.net.send(this.region, a.region, () => a.onFastProposal(this, slot, value));
    }
  }

  private knowledge(slot: number): SlotKnowledge {
    let k = this.known.get(slot);
    if (k === undefined) {
      k = { votes: new Map(), noFastVote: new Set(), highestBallot: fast_ballot, coordinated: false, late: [] };
      this.known.set(slot, k);
    }
    return k;
  }

  /** A vote cast by acceptor `a` (the learner broadcast, a refusal, or a tail read). */
  onVote(a: number, vote: Vote): void {
    const { slot, ballot, value } = vote;
    this.highestSlotSeen = Math.max(this.highestSlotSeen, slot);
    if (this.learnt.has(slot)) return;
    const k = this.knowledge(slot);
    let mine = k.votes.get(a);
    if (mine === undefined) {
      mine = new Map();
      k.votes.set(a, mine);
    }
    mine.set(ballot, value);
    k.highestBallot = Math.max(k.highestBallot, ballot);
    if (ballot !== fast_ballot && !mine.has(fast_ballot)) k.noFastVote.add(a);
    if (ballot === fast_ballot) k.noFastVote.delete(a);
    let matching = 0;
    for (const votes of k.votes.values()) if (votes.get(ballot)?.id === value.id) matching++;
    if (matching >= (ballot === fast_ballot ? this.fp.fastQuorum : this.fp.env.quorum.accept)) {
      this.learn(slot, value, ballot);
      return;
    }
    this.checkStuck(slot);
  }

  /** As the slot's coordinator: a fast value an acceptor refused; merged if the recovery is free and not sent yet. */
  onLateValue(slot: number, value: Value): void {
    if (this.learnt.has(slot)) return;
    const k = this.knowledge(slot);
    if (!k.coordinated && !k.late.some((v) => v.id === value.id)) k.late.push(value);
  }

  /** Acceptor `a` refused our fast value: it had voted in the slot already or promised a classic ballot. */
  onRefused(a: number, slot: number, promised: number, votes: readonly Vote[]): void {
    this.highestSlotSeen = Math.max(this.highestSlotSeen, slot);
    if (this.learnt.has(slot)) return;
    const k = this.knowledge(slot);
    k.highestBallot = Math.max(k.highestBallot, promised);
    if (!votes.some((v) => v.ballot === fast_ballot)) k.noFastVote.add(a);
    for (const v of votes) this.onVote(a, v);
    this.checkStuck(slot);
  }

  onReadReply(a: number, votes: readonly Vote[]): void {
    for (const v of votes) this.onVote(a, v);
    this.readReplies++;
    if (this.readReplies === this.fp.acceptors.length) {
      this.ready = true;
      this.pump();
    }
  }

  private learn(slot: number, value: Value, ballot: number): void {
    this.learnt.set(slot, value.id);
    this.known.delete(slot);
    const own = this.own.get(slot);
    if (own !== undefined) {
      this.own.delete(slot);
      // A merged recovery value may carry our requests under another proposer's value id.
      const chosenRequests = new Set(value.requests);
      const here = own.value.requests.filter((id) => chosenRequests.has(id));
      const lost = own.value.requests.filter((id) => !chosenRequests.has(id));
      // The sabotage acknowledges on learning its own slot, before the prefix below it is known.
      if (here.length > 0 && this.fp.options.ackBeforePrefix) this.acknowledge(here, slot);
      else if (here.length > 0) this.placed.set(slot, here);
      if (lost.length > 0 && ballot === fast_ballot) this.fp.counters.slots_lost_to_fast++;
      if (lost.length > 0 && ballot !== fast_ballot) this.fp.counters.slots_lost_to_recovery++;
      if (lost.length > 0 && !own.abandoned) this.pending.unshift(...lost);
    }
    while (this.learnt.has(this.watermark + 1)) {
      this.watermark++;
      const requests = this.placed.get(this.watermark);
      if (requests === undefined) continue;
      this.placed.delete(this.watermark);
      this.acknowledge(requests, this.watermark);
    }
    this.pump();
  }

  private acknowledge(requests: readonly string[], slot: number): void {
    for (const id of requests) {
      const resolve = this.waiting.get(id);
      // The sabotage may ack a request twice; the safety check reports it, the promise resolves once.
      if (resolve === undefined) continue;
      this.waiting.delete(id);
      this.fp.acknowledged.set(id, { slot, at_ms: this.fp.env.world.now_ms });
      resolve();
    }
  }

  private checkStuck(slot: number): void {
    const k = this.known.get(slot);
    if (k === undefined) return;
    const own = this.own.get(slot);
    const coordinator =
      this.fp.coordinatedRecovery &&
      !this.fp.options.coordinatorsVanish &&
      this.fp.roundOneCoordinator(slot) === this.index;
    const stuck = () => isStuck(k, this.fp.acceptors.length, this.fp.fastQuorum);
    if (coordinator && !k.coordinated && stuck()) this.coordinate(slot, k);
    if (own === undefined || own.stuck || !stuck()) return;
    own.stuck = true;
    this.fp.counters.collisions++;
    if (this.fp.options.reproposeBeforeLearning && !own.abandoned) {
      own.abandoned = true;
      this.pending.unshift(...own.value.requests);
    }
    // Coordinated: the slot's round-1 coordinator recovers it; we only wait (and retry at round 2 on a timeout).
    if (this.fp.coordinatedRecovery || k.highestBallot > fast_ballot) this.armTimer(slot, own);
    else this.recover(slot, own, 1);
  }

  /**
   * Round 1 of a stuck slot, as its coordinator: the acceptors' fast votes it learnt are their phase-1
   * replies for the round-1 ballot (each promised it when voting), so it goes straight to phase 2 once
   * it has at least Q1 of them. With k >= Q1 replies a value chosen in the fast round has at least
   * F - (n - k) of them, and two values cannot both have that many (2F + Q1 > 2n).
   */
  private coordinate(slot: number, k: SlotKnowledge): void {
    const fastVotes: Value[] = [];
    for (const votes of k.votes.values()) {
      const v = votes.get(fast_ballot);
      if (v !== undefined) fastVotes.push(v);
    }
    if (fastVotes.length < this.fp.env.quorum.prepare) return;
    k.coordinated = true;
    this.fp.counters.coordinated_recoveries++;
    const forcedVotes = this.fp.fastQuorum - (this.fp.acceptors.length - fastVotes.length);
    const free = () => (this.fp.mergeOnRecovery ? this.merged([...fastVotes, ...k.late]) : fastVotes[0]!);
    const value = forcedValue(fastVotes, forcedVotes) ?? free();
    const ballot = this.fp.roundOneBallot(slot);
    for (const a of this.fp.acceptors)
      this.fp.env.net.send(this.region, a.region, () => a.onAccept(this, slot, ballot, value));
  }

  /** One new value holding the requests of all these (a batch is a set of requests, so a union is a value). */
  private merged(values: readonly Value[]): Value {
    const requests = new Set<string>();
    for (const v of values) for (const id of v.requests) requests.add(id);
    this.fp.counters.merged_recoveries++;
    return { id: `${this.index}:${this.values++}`, proposer: this.index, requests: [...requests] };
  }

  private recover(slot: number, own: OwnSlot, round: number): void {
    if (own.attempts >= recovery_attempts_max) {
      this.fp.counters.recovery_give_ups++;
      return;
    }
    own.attempts++;
    this.fp.counters.recoveries++;
    const ballot = classicBallot(round, this.index);
    own.recovery = { ballot, promises: new Map(), phase: 1 };
    for (const a of this.fp.acceptors)
      this.fp.env.net.send(this.region, a.region, () => a.onPrepare(this, slot, ballot));
    this.armTimer(slot, own);
  }

  /** Retries the slot's recovery at a higher round if it is still not learnt after a timeout and a random backoff. */
  private armTimer(slot: number, own: OwnSlot): void {
    const timer = ++own.timer;
    const rtt_ms = Math.max(...this.fp.acceptors.map((a) => regionRtt_ms(this.region, a.region)));
    const delay_ms = recovery_timeout_rtts * rtt_ms + this.fp.env.rng.uniform(0, rtt_ms);
    this.fp.env.world.schedule(delay_ms, () => {
      if (own.timer !== timer || this.own.get(slot) !== own) return;
      const highest = this.known.get(slot)?.highestBallot ?? fast_ballot;
      this.fp.counters.recovery_timeouts++;
      // Above every ballot seen, and never round 1 when that round is the slot's coordinator's.
      const round = roundOf(Math.max(highest, own.recovery?.ballot ?? 0)) + 1;
      this.recover(slot, own, this.fp.coordinatedRecovery ? Math.max(2, round) : round);
    });
  }

  onPromise(a: number, slot: number, ballot: number, highest: Vote | undefined): void {
    const own = this.own.get(slot);
    const r = own?.recovery;
    if (own === undefined || r === undefined || r.ballot !== ballot || r.phase !== 1) return;
    r.promises.set(a, highest);
    if (r.promises.size < this.fp.env.quorum.prepare) return;
    r.phase = 2;
    const value = this.pick(r, own.value, this.known.get(slot));
    for (const acc of this.fp.acceptors)
      this.fp.env.net.send(this.region, acc.region, () => acc.onAccept(this, slot, ballot, value));
  }

  /**
   * Fast Paxos' rule over Q1 promises: the highest ballot's value; at the fast ballot, a value with
   * F - (n - Q1) votes. Otherwise no value can have been chosen, and any value is safe: our own, or
   * (`mergeOnRecovery`) one value holding the requests of every value known to be in the slot, so a
   * collision costs nobody their slot.
   */
  private pick(r: Recovery, ownValue: Value, k: SlotKnowledge | undefined): Value {
    let top = -1;
    for (const v of r.promises.values()) if (v !== undefined) top = Math.max(top, v.ballot);
    if (top > fast_ballot) return [...r.promises.values()].find((v) => v?.ballot === top)!.value;
    const atTop = [...r.promises.values()].filter((v): v is Vote => v !== undefined && v.ballot === top);
    const forced = forcedValue(
      atTop.map((v) => v.value),
      this.fp.recoveryPick,
    );
    if (forced !== undefined) return forced;
    if (!this.fp.mergeOnRecovery) return ownValue;
    const known = [ownValue, ...atTop.map((v) => v.value)];
    for (const votes of k?.votes.values() ?? []) {
      const v = votes.get(fast_ballot);
      if (v !== undefined) known.push(v);
    }
    return this.merged(known);
  }

  onBallotRefused(slot: number, ballot: number, promised: number): void {
    const own = this.own.get(slot);
    const r = own?.recovery;
    if (own === undefined || r === undefined || r.ballot !== ballot || r.phase === "refused") return;
    r.phase = "refused";
    this.fp.counters.recoveries_refused++;
    const k = this.knowledge(slot);
    k.highestBallot = Math.max(k.highestBallot, promised);
  }
}
