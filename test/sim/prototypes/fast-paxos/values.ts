/**
 * What Fast Paxos messages carry (values, votes) and how its ballots are numbered: shared by the
 * acceptor, the proposer and the prototype's safety check, so kept apart from all three.
 */
import { ballot_round_span } from "./limits.js";

export const fast_ballot = 0;
export const classicBallot = (round: number, proposer: number) => round * ballot_round_span + proposer + 1;
export const roundOf = (ballot: number) => Math.floor(ballot / ballot_round_span);

export interface Value {
  /** Unique per proposal: `${proposer}:${counter}`. */
  readonly id: string;
  readonly proposer: number;
  readonly requests: readonly string[];
}

export interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly value: Value;
}

/** A vote as its acceptor recorded it, with when (virtual ms): the safety check's chosen times. */
export interface RecordedVote extends Vote {
  readonly at_ms: number;
}
