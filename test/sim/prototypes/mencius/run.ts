/**
 * What the acceptors and proposers of one Mencius run see of the run and of each other. They call
 * each other both ways, and the run (`Mencius` in `../mencius.ts`) creates them both, so each side is
 * typed by these interfaces instead of importing the other's file: no import cycles.
 */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import type { PrototypeEnv } from "../harness.js";
import type { Ownership } from "./ownership.js";
import type { Acknowledgement, PromiseReply, Vote } from "./values.js";

/** A proposer as the acceptors and the other owners address it: votes, skips and phase-1 answers. */
export interface ProposerPeer {
  readonly region: RegionHint;
  onVotes(acceptor: number, votes: readonly Vote[]): void;
  onSkip(slots: readonly number[]): void;
  onPromise(acceptor: number, ballot: number, reply: PromiseReply): void;
}

/** An acceptor as the proposers address it: accepts, an owner's skips, a revocation's phase 1. */
export interface AcceptorPeer {
  readonly region: RegionHint;
  accept(votes: readonly Vote[]): void;
  skip(slots: readonly number[]): void;
  prepare(from: ProposerPeer, ballot: number, slots: readonly number[]): void;
}

/** The run as its acceptors and proposers see it: the slot map, the limits, the peers, the record and the counters. */
export interface MenciusRun {
  readonly env: PrototypeEnv;
  readonly ownership: Ownership;
  readonly slots_in_flight_max: number;
  readonly revocation_timeout_ms: number;
  readonly acceptors: readonly AcceptorPeer[];
  readonly proposers: readonly ProposerPeer[];
  /** Sabotage (`MenciusOptions.ackBeforePrefix`): acknowledge an own slot once learnt, earlier slots or not. */
  readonly ackBeforePrefix: boolean;
  /** Requests acknowledged, in order (the safety check finds each in its one chosen slot, the prefix chosen by then). */
  readonly acknowledged: Acknowledgement[];
  /** Every skip the network carried, logged at send: the owners' ballot-0 no-ops, chosen from then on. */
  readonly skipsSent: Array<{ readonly slot: number; readonly owner: number; readonly at_ms: number }>;
  batches: number;
  requestsBatched: number;
  skipSlots: number;
  skipMessages: number;
  revocations: number;
  revocationsRefused: number;
  ownSlotsRevoked: number;
}
