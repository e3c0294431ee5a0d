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
 * proposed in, puts up to the harness's `prototype_batch_requests_max` pending requests in one value,
 * and sends it to every acceptor at ballot 0. Up to `slots_in_flight_default` = 8 slots in flight per proposer. Measured on
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
 * The check (`./fast-paxos/safety.ts`) times each slot's choice by the acceptors' vote records (the
 * F-th fast or Q2-th classic matching vote) and fails an acknowledgement earlier than the whole
 * prefix up to its slot; the sabotage `ackBeforePrefix` acknowledges on learning the own slot alone.
 * No gaps: every slot up to a proposed one was itself proposed, so every slot ends up chosen.
 *
 * Cold joiner (`addProposer`): it reads the tail first: it asks every acceptor for its recorded votes
 * (one round trip, waiting for all n replies, which the fault-free runs always give; with faults it
 * would recover the slots it cannot decide with classic rounds, not modelled), is added to the
 * acceptors' learner list by that read, and proposes only after it knows the log; requests that
 * arrive meanwhile queue.
 */
import type { RegionHint } from "../../../src/core/region-rtt.js";
import { Acceptor } from "./fast-paxos/acceptor.js";
import { proposers_max, slots_in_flight_default } from "./fast-paxos/limits.js";
import type { FastPaxosOptions } from "./fast-paxos/options.js";
import { Node } from "./fast-paxos/proposer.js";
import { fastQuorumSize, recoveryPickVotes } from "./fast-paxos/quorums.js";
import type { Acknowledgement, FastPaxosCounters, FastPaxosRun } from "./fast-paxos/run.js";
import { checkSafety, chosenLog, type SafetyView } from "./fast-paxos/safety.js";
import { classicBallot } from "./fast-paxos/values.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";

// The parts live in ./fast-paxos/, each named for what it holds; this file keeps the public API.
export {
  pending_requests_max,
  proposers_max,
  recovery_attempts_max,
  recovery_timeout_rtts,
  slots_in_flight_default,
  slots_max,
} from "./fast-paxos/limits.js";
export type { FastPaxosOptions } from "./fast-paxos/options.js";
export { fastQuorumSize, recoveryPickVotes } from "./fast-paxos/quorums.js";

export const describeFastPaxos =
  "Fast Paxos per slot: fast round (ballot 0) straight to every acceptor, chosen at the fast quorum (n=3: 3; n=5 Q1=4: 4); " +
  "a stuck slot recovered by the slot's round-1 coordinator (warm proposer s mod W) with phase 2 alone, fast votes " +
  "doubling as promises, collided values merged into one; up to 8 slots in flight per proposer; learners learn from " +
  "every acceptor's vote broadcast; a cold joiner reads the acceptors' votes first";

class FastPaxos implements Prototype, FastPaxosRun {
  readonly nodes: Node[];
  readonly acceptors: Acceptor[];
  readonly fastQuorum: number;
  readonly recoveryPick: number;
  readonly slotsInFlight: number;
  readonly mergeOnRecovery: boolean;
  readonly coordinatedRecovery: boolean;
  /** Acknowledged request -> the slot its proposer acknowledged it in, and when. */
  readonly acknowledged = new Map<string, Acknowledgement>();
  readonly counters: FastPaxosCounters = {
    slots_proposed: 0,
    collisions: 0,
    slots_lost_to_fast: 0,
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

  /** What the safety check reads, with the arithmetic's F (not the protocol's). */
  private safetyView(): SafetyView {
    return {
      acceptors: this.acceptors,
      learners: this.nodes,
      acknowledged: this.acknowledged,
      fastQuorum: fastQuorumSize(this.acceptors.length, this.env.quorum.prepare),
      acceptQuorum: this.env.quorum.accept,
    };
  }

  checkSafety(): void {
    checkSafety(this.safetyView());
  }

  stats(): Readonly<Record<string, number>> {
    const chosen = chosenLog(this.safetyView());
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
