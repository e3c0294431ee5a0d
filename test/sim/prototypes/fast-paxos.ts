/**
 * Fast Paxos for a log (Lamport, "Fast Paxos", 2006) as a latency model for issue #12, over the
 * harness's `PrototypeNet` (virtual time, jittered half-RTT per hop, a durable write before an
 * acceptor's reply to anything that changed its state). Not production code.
 *
 * Quorum arithmetic. n acceptors, classic phase-1 quorum Q1 (`quorum.prepare`), classic phase-2 quorum
 * Q2 (`quorum.accept`), fast quorum F. Safety needs Q1 + Q2 > n (classic) and 2F + Q1 > 2n: any two
 * fast quorums and one phase-1 quorum share an acceptor, so at most one value can have F fast votes
 * "visible" to a recovery. F is the smallest such size: n=3, Q1=2 gives F=3 (all three); n=5, Q1=4,
 * Q2=2 gives F=4. A recovery's phase 1 sees Q1 replies, of which at least F - (n - Q1) voted for a
 * value chosen in the fast round (n=3: 2; n=5 Q1=4: 3), so a value with that many votes at the highest
 * ballot must be picked (two values cannot both have it: that would need 2(F - n + Q1) <= Q1).
 *
 * Ballots. Ballot 0 is the fast "any" ballot: an acceptor that has promised nothing higher and has not
 * voted in a slot votes for the first value it receives for that slot. Classic ballots are
 * (round >= 1, proposer index), encoded as one number so that they are unique and totally ordered.
 * Acceptor state is per slot (promised ballot, votes cast); phase 1 runs for ONE slot, not a suffix.
 *
 * The round. A proposer takes the next slot as 1 + the highest slot it has seen any vote for or has
 * proposed in, puts up to `batch_requests_max` pending requests in one value, and sends it to every
 * acceptor at ballot 0. Up to `slots_in_flight_default` = 8 slots in flight per proposer. Measured on
 * seed 1 (the report's table) with 1, 2, 4 and 8: one slot in flight makes a request wait for the
 * round ahead of it (1 proposer alone, 3 acceptors: median 1.86 against 1.23 with 8); 4 and 8 are
 * close under contention, 8 better at the 4-proposer rows' medians and worst p99 on both clusters.
 *
 * Learning (what "chosen" means to a proposer). Every acceptor sends each vote it casts (slot, ballot,
 * value) to EVERY proposer (the learner broadcast, the sender included), after its durable write. A
 * proposer learns a slot chosen from matching votes only: F votes for one value at ballot 0, or Q2 votes
 * for one value at one classic ballot. There are no "chosen" notices. An acceptor that refuses a fast
 * value answers the sender with its votes in that slot (no write: its state did not change).
 *
 * Collisions. A slot is stuck when no value can still reach F votes at ballot 0 (known from the
 * votes and refusals seen); only then is a classic round needed. Who recovers:
 * - Coordinated (`coordinatedRecovery`, default): slot s's round-1 ballot belongs to warm proposer
 *   s mod W (W = the warm proposers; cold joiners come and go). An acceptor that casts a fast vote
 *   promises that ballot in the same write, so its vote broadcast doubles as its phase-1 reply for it
 *   (Lamport's coordinated recovery); the coordinator, on seeing the slot stuck with at least Q1
 *   fast votes, goes straight to phase 2 (one round trip instead of two). An acceptor that
 *   refuses a fast value because it already voted forwards the value to the slot's coordinator too,
 *   so a far proposer's late value can still be merged (below). The others only wait. This favours
 *   the model: it takes the W warm proposers as a fixed, known, live set, which Worker isolates are
 *   not; a vanished coordinator costs each of its stuck slots a timeout and a phase 1 + 2 at round 2
 *   (`coordinatorsVanish`: 4 proposers on 3 acceptors, medians 7-9 RTTs on seed 1).
 * - Uncoordinated (`coordinatedRecovery: false`): every proposer with a value in the stuck slot runs
 *   phase 1 + 2 for that slot at ballot (1, own index), the highest index winning; one that already
 *   saw a higher ballot for the slot waits. Measured (seed 1, 8 slots in flight): worse medians
 *   (4 proposers on 3 acceptors: enam, wnam, weur 4.3-4.6 against 2.2-2.9 coordinated) but a better
 *   far proposer's tail (apac p99 7.4 against 28: its own recovery always merges its value, while
 *   the coordinator sends phase 2 on the first Q1 fast votes, and a far value that the acceptors
 *   refused and forwarded mostly reaches it after that: on that run 275 values were left out of a
 *   merge that way, 190 of them apac's).
 * In both, the pick rule above decides; when it leaves the choice free (no value can have been
 * chosen in the fast round), the recovery proposes ONE value holding the requests of every value it
 * knows in the slot (`mergeOnRecovery`, default on). Without it (the coordinator takes the first fast
 * vote's value, an uncoordinated recovery its own), 4 proposers on 3 acceptors, seed 1: coordinated,
 * medians 2.8-8.1 and p99 14-47 against 2.2-3.2 and 3.4-28 merged; uncoordinated, the highest index
 * wins every duel and enam, wnam starve (medians 47 and 36). Values are batches of requests, so a
 * union is a value like any other; each proposer then places the requests of its own that the chosen
 * value holds (and re-queues the rest once it knows the chosen value). A waiting proposer
 * whose slot is not learnt after `recovery_timeout_rtts` of its RTTs (plus a random backoff from
 * `env.rng`) runs phase 1 + 2 itself at a higher round (never needed without faults).
 *
 * Not helped by either: a value that loses a fast round OUTRIGHT (another value reached F, nothing
 * stuck) just goes to a later slot, so a proposer far from most acceptors can lose many rounds in a
 * row (5 acceptors, enam + weur: weur's median 20+ RTTs; enam's value reaches 4 acceptors first).
 *
 * Requests never duplicated. A request is in at most one value in flight; when a slot is learnt chosen
 * with another proposer's value, the requests of the proposer's own value there go back to the head of
 * its queue. They are re-proposed only AFTER the slot's chosen value is known: a collided value may
 * still be chosen by someone else's recovery (the pick rule), and re-proposing it earlier would put its
 * requests in two slots (the sabotage `reproposeBeforeLearning` does exactly that, and the check
 * catches it). Acknowledgement: when the proposer knows its slot and every earlier slot chosen.
 * No gaps: every slot up to a proposed one was itself proposed, so every slot ends up chosen.
 *
 * Cold joiner (`addProposer`): it reads the tail first: it asks every acceptor for its recorded votes
 * (one round trip, waiting for all n replies, which the fault-free runs always give; with faults it
 * would recover the slots it cannot decide with classic rounds, not modelled), is added to the
 * acceptors' learner list by that read, and proposes only after it knows the log; requests that
 * arrive meanwhile queue.
 */
import type { RegionHint } from "../../../src/core/region-rtt.js";
import { regionRtt_ms } from "../../../src/core/region-rtt.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";

/** Requests one slot's value carries at most. */
export const batch_requests_max = 64;
/** Slots a proposer has in flight at once, by default (see the header: measured against 1, 2 and 4). */
export const slots_in_flight_default = 8;
/** Classic rounds one proposer may start for one slot before it gives up (its requests then fail, visibly). */
export const recovery_attempts_max = 50;
/** A recovery attempt that has not seen its slot chosen after this many of the proposer's farthest-acceptor RTTs is retried. */
export const recovery_timeout_rtts = 4;
/** Requests a proposer may hold unproposed (a bound on its queue; the runs never come near it). */
export const pending_requests_max = 100_000;
/** Slots of one log (a bound on slot numbers). */
export const slots_max = 1_000_000;
/** Ballot encoding: round * ballot_round_span + proposer index + 1; ballot 0 is the fast round. */
const ballot_round_span = 1024;
/** Proposers of one run, the cold joiners included (the ballot encoding's bound). */
export const proposers_max = ballot_round_span - 1;

export const describeFastPaxos =
  "Fast Paxos per slot: fast round (ballot 0) straight to every acceptor, chosen at the fast quorum (n=3: 3; n=5 Q1=4: 4); " +
  "a stuck slot recovered by the slot's round-1 coordinator (warm proposer s mod W) with phase 2 alone, fast votes " +
  "doubling as promises, collided values merged into one; up to 8 slots in flight per proposer; learners learn from " +
  "every acceptor's vote broadcast; a cold joiner reads the acceptors' votes first";

export interface FastPaxosOptions {
  /** Slots in flight per proposer (default `slots_in_flight_default`). */
  readonly slotsInFlight?: number;
  /** Sabotage: the protocol learns and recovers with a fast quorum one short of the arithmetic's F. */
  readonly fastQuorumOneShort?: boolean;
  /** Sabotage: a proposer re-queues a collided value's requests as soon as its slot is stuck, before learning the chosen value. */
  readonly reproposeBeforeLearning?: boolean;
  /** A free recovery proposes the union of the slot's values instead of its own (default true: see the header). */
  readonly mergeOnRecovery?: boolean;
  /**
   * Coordinated recovery (Lamport's, per slot): slot s's round-1 ballot belongs to warm proposer
   * s mod W; acceptors promise it when they vote fast, so that proposer recovers a stuck slot with
   * phase 2 alone. Off: every proposer with a value in a stuck slot runs phase 1 + 2 itself.
   */
  readonly coordinatedRecovery?: boolean;
  /**
   * Test of the fallback: round-1 coordinators never act, as if their isolate were evicted, so every
   * stuck slot is recovered by a waiting proposer's timeout (phase 1 + 2 at round 2 or above).
   */
  readonly coordinatorsVanish?: boolean;
}

/** The smallest fast quorum F with 2F + Q1 > 2n (any two fast quorums and a phase-1 quorum intersect). */
export function fastQuorumSize(acceptors: number, prepare: number): number {
  for (let f = 1; f <= acceptors; f++) if (2 * f + prepare > 2 * acceptors) return f;
  throw new RangeError(`no fast quorum for ${acceptors} acceptors with a phase-1 quorum of ${prepare}`);
}

/** Votes at the fast ballot among Q1 phase-1 replies that force a recovery to pick that value: F - (n - Q1). */
export function recoveryPickVotes(acceptors: number, prepare: number, fast: number): number {
  return fast - (acceptors - prepare);
}

const fast_ballot = 0;
const classicBallot = (round: number, proposer: number) => round * ballot_round_span + proposer + 1;
const roundOf = (ballot: number) => Math.floor(ballot / ballot_round_span);

interface Value {
  /** Unique per proposal: `${proposer}:${counter}`. */
  readonly id: string;
  readonly proposer: number;
  readonly requests: readonly string[];
}

interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly value: Value;
}

interface AcceptorSlot {
  promised: number;
  /** Votes cast in this slot, in ballot order. */
  readonly votes: Vote[];
}

class Acceptor {
  readonly slots = new Map<number, AcceptorSlot>();
  /** Every vote this acceptor cast: what the safety check and a cold joiner's read use. */
  readonly history: Vote[] = [];
  readonly learners: Node[];
  constructor(
    readonly index: number,
    readonly region: RegionHint,
    warm: readonly Node[],
    private readonly fp: FastPaxos,
  ) {
    this.learners = [...warm];
  }

  private slot(s: number): AcceptorSlot {
    let state = this.slots.get(s);
    if (state === undefined) {
      if (s < 1 || s > slots_max) throw new RangeError(`slot ${s} outside 1..${slots_max}`);
      state = { promised: fast_ballot, votes: [] };
      this.slots.set(s, state);
    }
    return state;
  }

  /** Records a vote now; after the durable write, tells every learner. */
  private vote(state: AcceptorSlot, vote: Vote): void {
    const last = state.votes.at(-1);
    if (last !== undefined && last.ballot >= vote.ballot)
      throw new Error(`acceptor ${this.index}: second vote at ballot ${vote.ballot} in slot ${vote.slot}`);
    state.promised = Math.max(state.promised, vote.ballot);
    state.votes.push(vote);
    this.history.push(vote);
    this.fp.env.world.schedule(this.fp.env.net.write_ms(), () => {
      for (const learner of this.learners)
        this.fp.env.net.send(this.region, learner.region, () => learner.onVote(this.index, vote));
    });
  }

  onFastProposal(from: Node, slot: number, value: Value): void {
    const state = this.slot(slot);
    if (state.promised === fast_ballot && state.votes.length === 0) {
      this.vote(state, { slot, ballot: fast_ballot, value });
      // Coordinated recovery: this fast vote is also this acceptor's phase-1 reply for the slot's
      // round-1 ballot, so it must not vote below that ballot any more.
      if (this.fp.coordinatedRecovery) state.promised = this.fp.roundOneBallot(slot);
      return;
    }
    const votes = [...state.votes];
    const promised = state.promised;
    this.fp.env.net.send(this.region, from.region, () => from.onRefused(this.index, slot, promised, votes));
    // Coordinated recovery: a value that came too late for any vote is still offered to the slot's
    // coordinator, whose free choice merges it (otherwise a far proposer loses every contended slot).
    if (this.fp.coordinatedRecovery && state.votes[0]?.ballot === fast_ballot) {
      const coordinator = this.fp.nodes[this.fp.roundOneCoordinator(slot)]!;
      if (coordinator !== from)
        this.fp.env.net.send(this.region, coordinator.region, () => coordinator.onLateValue(slot, value));
    }
  }

  onPrepare(from: Node, slot: number, ballot: number): void {
    const state = this.slot(slot);
    if (ballot <= state.promised) {
      const promised = state.promised;
      this.fp.env.net.send(this.region, from.region, () => from.onBallotRefused(slot, ballot, promised));
      return;
    }
    state.promised = ballot;
    const highest = state.votes.at(-1);
    this.fp.env.world.schedule(this.fp.env.net.write_ms(), () => {
      this.fp.env.net.send(this.region, from.region, () => from.onPromise(this.index, slot, ballot, highest));
    });
  }

  onAccept(from: Node, slot: number, ballot: number, value: Value): void {
    const state = this.slot(slot);
    if (ballot < state.promised || state.votes.at(-1)?.ballot === ballot) {
      const promised = state.promised;
      this.fp.env.net.send(this.region, from.region, () => from.onBallotRefused(slot, ballot, promised));
      return;
    }
    this.vote(state, { slot, ballot, value });
  }

  /** A cold joiner's tail read: it becomes a learner from now on and gets every vote cast so far. */
  onRead(from: Node): void {
    if (!this.learners.includes(from)) this.learners.push(from);
    const votes = [...this.history];
    this.fp.env.net.send(this.region, from.region, () => from.onReadReply(this.index, votes));
  }
}

/** What a proposer knows of one slot it has not learnt yet. */
interface SlotKnowledge {
  /** Per acceptor, its votes by ballot. */
  readonly votes: Map<number, Map<number, Value>>;
  /** Acceptors known not to vote at the fast ballot any more (refused with no fast vote, or voted at a classic one). */
  readonly noFastVote: Set<number>;
  highestBallot: number;
  /** This proposer, as the slot's round-1 coordinator, sent its phase 2. */
  coordinated: boolean;
  /** Fast values refused by an acceptor, forwarded to this proposer as the slot's coordinator. */
  readonly late: Value[];
}

interface Recovery {
  readonly ballot: number;
  readonly promises: Map<number, Vote | undefined>;
  phase: 1 | 2 | "refused";
}

interface OwnSlot {
  readonly value: Value;
  /** The requests went back to the queue already (the sabotage only). */
  abandoned: boolean;
  stuck: boolean;
  recovery?: Recovery;
  attempts: number;
  /** Bumped by each timer armed, so a stale timer does nothing. */
  timer: number;
}

class Node implements PrototypeProposer {
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
    private readonly fp: FastPaxos,
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
        requests: this.pending.splice(0, batch_requests_max),
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
      if (here.length > 0) this.placed.set(slot, here);
      if (lost.length > 0 && ballot === fast_ballot) this.fp.counters.slots_lost_to_fast++;
      if (lost.length > 0 && ballot !== fast_ballot) this.fp.counters.slots_lost_to_recovery++;
      if (lost.length > 0 && !own.abandoned) this.pending.unshift(...lost);
    }
    while (this.learnt.has(this.watermark + 1)) {
      this.watermark++;
      const requests = this.placed.get(this.watermark);
      if (requests === undefined) continue;
      this.placed.delete(this.watermark);
      for (const id of requests) {
        const resolve = this.waiting.get(id);
        // The sabotage may ack a request twice; the safety check reports it, the promise resolves once.
        if (resolve === undefined) continue;
        this.waiting.delete(id);
        this.fp.acknowledged.set(id, this.watermark);
        resolve();
      }
    }
    this.pump();
  }

  /** Stuck: no value can still reach the fast quorum at ballot 0, so a classic round must decide the slot. */
  private isStuck(k: SlotKnowledge): boolean {
    const counts = new Map<string, number>();
    let fastVoters = 0;
    for (const votes of k.votes.values()) {
      const v = votes.get(fast_ballot);
      if (v === undefined) continue;
      fastVoters++;
      counts.set(v.id, (counts.get(v.id) ?? 0) + 1);
    }
    const undecided = this.fp.acceptors.length - fastVoters - k.noFastVote.size;
    const best = Math.max(0, ...counts.values());
    return best + undecided < this.fp.fastQuorum;
  }

  private checkStuck(slot: number): void {
    const k = this.known.get(slot);
    if (k === undefined) return;
    const own = this.own.get(slot);
    const coordinator =
      this.fp.coordinatedRecovery &&
      !this.fp.options.coordinatorsVanish &&
      this.fp.roundOneCoordinator(slot) === this.index;
    if (coordinator && !k.coordinated && this.isStuck(k)) this.coordinate(slot, k);
    if (own === undefined || own.stuck || !this.isStuck(k)) return;
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
    const value = this.forcedValue(fastVotes, forcedVotes) ?? free();
    const ballot = this.fp.roundOneBallot(slot);
    for (const a of this.fp.acceptors)
      this.fp.env.net.send(this.region, a.region, () => a.onAccept(this, slot, ballot, value));
  }

  /** The value with at least `votes` of these fast votes, if any (the most voted, should the sabotage allow two). */
  private forcedValue(fastVotes: readonly Value[], votes: number): Value | undefined {
    const counts = new Map<string, { value: Value; votes: number }>();
    for (const v of fastVotes) {
      const c = counts.get(v.id) ?? { value: v, votes: 0 };
      c.votes++;
      counts.set(v.id, c);
    }
    let forced: { value: Value; votes: number } | undefined;
    for (const c of counts.values())
      if (c.votes >= votes && (forced === undefined || c.votes > forced.votes)) forced = c;
    return forced?.value;
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
    const forced = this.forcedValue(
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

class FastPaxos implements Prototype {
  readonly nodes: Node[];
  readonly acceptors: Acceptor[];
  readonly fastQuorum: number;
  readonly recoveryPick: number;
  readonly slotsInFlight: number;
  readonly mergeOnRecovery: boolean;
  readonly coordinatedRecovery: boolean;
  /** Acknowledged request -> the slot its proposer acknowledged it in. */
  readonly acknowledged = new Map<string, number>();
  readonly counters = {
    slots_proposed: 0,
    collisions: 0,
    /** Own values that lost their slot outright: another value reached the fast quorum. */
    slots_lost_to_fast: 0,
    /** Own values (or some of their requests) left out of a recovered slot's value. */
    slots_lost_to_recovery: 0,
    recoveries: 0,
    recoveries_refused: 0,
    merged_recoveries: 0,
    coordinated_recoveries: 0,
    recovery_timeouts: 0,
    recovery_give_ups: 0,
    tail_reads: 0,
  };

  constructor(
    readonly env: PrototypeEnv,
    readonly options: FastPaxosOptions,
  ) {
    const n = env.acceptorRegions.length;
    if (n !== env.quorum.acceptors)
      throw new RangeError(`${n} acceptor regions for a quorum of ${env.quorum.acceptors}`);
    const f = fastQuorumSize(n, env.quorum.prepare);
    this.fastQuorum = options.fastQuorumOneShort ? f - 1 : f;
    this.recoveryPick = recoveryPickVotes(n, env.quorum.prepare, this.fastQuorum);
    this.slotsInFlight = options.slotsInFlight ?? slots_in_flight_default;
    this.mergeOnRecovery = options.mergeOnRecovery ?? true;
    this.coordinatedRecovery = options.coordinatedRecovery ?? true;
    if (env.proposerRegions.length > proposers_max) throw new RangeError(`more than ${proposers_max} proposers`);
    this.nodes = env.proposerRegions.map((region, i) => new Node(i, region, this, false));
    this.acceptors = env.acceptorRegions.map((region, i) => new Acceptor(i, region, this.nodes, this));
  }

  /** The warm proposer that owns slot s's round-1 ballot (cold joiners come and go, so never one of them). */
  roundOneCoordinator(slot: number): number {
    return slot % this.env.proposerRegions.length;
  }

  roundOneBallot(slot: number): number {
    return classicBallot(1, this.roundOneCoordinator(slot));
  }

  get proposers(): readonly PrototypeProposer[] {
    return this.nodes.slice(0, this.env.proposerRegions.length);
  }

  addProposer(region: RegionHint): PrototypeProposer {
    if (this.nodes.length >= proposers_max) throw new RangeError(`more than ${proposers_max} proposers`);
    const node = new Node(this.nodes.length, region, this, true);
    this.nodes.push(node);
    this.counters.tail_reads++;
    for (const a of this.acceptors) this.env.net.send(region, a.region, () => a.onRead(node));
    return node;
  }

  /** The chosen log from the acceptors' recorded votes alone, with the arithmetic's F (not the protocol's). */
  chosenLog(): Map<number, Value> & { fastSlots: number } {
    const n = this.acceptors.length;
    const f = fastQuorumSize(n, this.env.quorum.prepare);
    const tally = new Map<number, Map<number, Map<string, { value: Value; voters: Set<number> }>>>();
    for (const a of this.acceptors) {
      for (const v of a.history) {
        const byBallot = tally.get(v.slot) ?? new Map<number, Map<string, { value: Value; voters: Set<number> }>>();
        tally.set(v.slot, byBallot);
        const byValue = byBallot.get(v.ballot) ?? new Map<string, { value: Value; voters: Set<number> }>();
        byBallot.set(v.ballot, byValue);
        const t = byValue.get(v.value.id) ?? { value: v.value, voters: new Set<number>() };
        byValue.set(v.value.id, t);
        if (t.voters.has(a.index))
          throw new Error(
            `safety: acceptor ${a.index} voted twice for one value at ballot ${v.ballot} in slot ${v.slot}`,
          );
        t.voters.add(a.index);
      }
    }
    const chosen = Object.assign(new Map<number, Value>(), { fastSlots: 0 });
    for (const [slot, byBallot] of tally) {
      for (const [ballot, byValue] of byBallot) {
        if (ballot !== fast_ballot && byValue.size > 1)
          throw new Error(`safety: two values at classic ballot ${ballot} in slot ${slot}`);
        for (const t of byValue.values()) {
          if (t.voters.size < (ballot === fast_ballot ? f : this.env.quorum.accept)) continue;
          const earlier = chosen.get(slot);
          if (earlier !== undefined && earlier.id !== t.value.id) {
            throw new Error(`safety: slot ${slot} has two chosen values, ${earlier.id} and ${t.value.id}`);
          }
          if (earlier === undefined && ballot === fast_ballot) chosen.fastSlots++;
          chosen.set(slot, t.value);
        }
      }
    }
    return chosen;
  }

  checkSafety(): void {
    const chosen = this.chosenLog();
    const slotOf = new Map<string, number>();
    for (const [slot, value] of chosen) {
      for (const id of value.requests) {
        const other = slotOf.get(id);
        if (other !== undefined) throw new Error(`safety: request ${id} is in two chosen slots, ${other} and ${slot}`);
        slotOf.set(id, slot);
      }
    }
    for (const [id, slot] of this.acknowledged) {
      const at = slotOf.get(id);
      if (at === undefined)
        throw new Error(`safety: request ${id} was acknowledged in slot ${slot} but is in no chosen slot`);
      if (at !== slot)
        throw new Error(`safety: request ${id} was acknowledged in slot ${slot} but is chosen in slot ${at}`);
    }
    for (const node of this.nodes) {
      for (const [slot, id] of node.learnt) {
        const value = chosen.get(slot);
        if (value === undefined)
          throw new Error(
            `safety: proposer ${node.index} learnt ${id} in slot ${slot}, where the acceptors' votes choose nothing`,
          );
        if (value.id !== id)
          throw new Error(`safety: proposer ${node.index} learnt ${id} in slot ${slot}, where ${value.id} is chosen`);
      }
      for (let s = 1; s <= node.watermark; s++) {
        if (!node.learnt.has(s))
          throw new Error(
            `safety: proposer ${node.index} has a hole at slot ${s} below its watermark ${node.watermark}`,
          );
      }
    }
  }

  stats(): Readonly<Record<string, number>> {
    const chosen = this.chosenLog();
    return {
      ...this.counters,
      slots_chosen: chosen.size,
      slots_chosen_fast: chosen.fastSlots,
      fast_quorum: this.fastQuorum,
    };
  }
}

export function fastPaxosPrototypeWith(options: FastPaxosOptions = {}): PrototypeFactory {
  return (env) => new FastPaxos(env, options);
}

export const fastPaxosPrototype: PrototypeFactory = fastPaxosPrototypeWith();
