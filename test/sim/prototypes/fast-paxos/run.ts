/**
 * What the acceptors and proposers of one Fast Paxos run see of the run and of each other. They
 * call each other both ways, and the run (`FastPaxos` in `../fast-paxos.ts`) creates them both, so
 * each side is typed by these interfaces instead of importing the other's file: no import cycles.
 */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import type { PrototypeEnv } from "../harness.js";
import type { FastPaxosOptions } from "./options.js";
import type { Value, Vote } from "./values.js";

/** A proposer as the acceptors address it: the learner broadcast, refusals, promises and the tail read. */
export interface ProposerPeer {
  readonly index: number;
  readonly region: RegionHint;
  onVote(a: number, vote: Vote): void;
  onLateValue(slot: number, value: Value): void;
  onRefused(a: number, slot: number, promised: number, votes: readonly Vote[]): void;
  onReadReply(a: number, votes: readonly Vote[]): void;
  onPromise(a: number, slot: number, ballot: number, highest: Vote | undefined): void;
  onBallotRefused(slot: number, ballot: number, promised: number): void;
}

/** An acceptor as the proposers address it: fast proposals and the two phases of a classic round. */
export interface AcceptorPeer {
  readonly region: RegionHint;
  onFastProposal(from: ProposerPeer, slot: number, value: Value): void;
  onPrepare(from: ProposerPeer, slot: number, ballot: number): void;
  onAccept(from: ProposerPeer, slot: number, ballot: number, value: Value): void;
}

/** One request's acknowledgement as the safety check sees it. */
export interface Acknowledgement {
  readonly slot: number;
  readonly at_ms: number;
}

/** What the run counts, reported by `stats()`. */
export interface FastPaxosCounters {
  slots_proposed: number;
  collisions: number;
  /** Own values that lost their slot outright: another value reached the fast quorum. */
  slots_lost_to_fast: number;
  /** Own values (or some of their requests) left out of a recovered slot's value. */
  slots_lost_to_recovery: number;
  recoveries: number;
  recoveries_refused: number;
  merged_recoveries: number;
  coordinated_recoveries: number;
  recovery_timeouts: number;
  recovery_give_ups: number;
  tail_reads: number;
}

/** The run as its acceptors and proposers see it. */
export interface FastPaxosRun {
  readonly env: PrototypeEnv;
  readonly options: FastPaxosOptions;
  readonly nodes: readonly ProposerPeer[];
  readonly acceptors: readonly AcceptorPeer[];
  /** The protocol's F (one short under the `fastQuorumOneShort` sabotage). */
  readonly fastQuorum: number;
  readonly recoveryPick: number;
  readonly slotsInFlight: number;
  readonly mergeOnRecovery: boolean;
  readonly coordinatedRecovery: boolean;
  /** Acknowledged request -> the slot its proposer acknowledged it in, and when. */
  readonly acknowledged: Map<string, Acknowledgement>;
  readonly counters: FastPaxosCounters;
  /** The warm proposer that owns slot s's round-1 ballot. */
  roundOneCoordinator(slot: number): number;
  roundOneBallot(slot: number): number;
}
