/**
 * Fast Paxos' quorum arithmetic (derived in `../fast-paxos.ts`'s header): the fast quorum size, how
 * many fast votes force a recovery's pick, and which value they force. Pure functions, so the tests
 * can check the arithmetic without running the protocol.
 */
import type { Value } from "./values.js";

/** The smallest fast quorum F with 2F + Q1 > 2n (any two fast quorums and a phase-1 quorum intersect). */
export function fastQuorumSize(acceptors: number, prepare: number): number {
  for (let f = 1; f <= acceptors; f++) if (2 * f + prepare > 2 * acceptors) return f;
  throw new RangeError(`no fast quorum for ${acceptors} acceptors with a phase-1 quorum of ${prepare}`);
}

/** Votes at the fast ballot among Q1 phase-1 replies that force a recovery to pick that value: F - (n - Q1). */
export function recoveryPickVotes(acceptors: number, prepare: number, fast: number): number {
  return fast - (acceptors - prepare);
}

/** The value with at least `votes` of these fast votes, if any (the most voted, should the sabotage allow two). */
export function forcedValue(fastVotes: readonly Value[], votes: number): Value | undefined {
  const counts = new Map<string, { value: Value; votes: number }>();
  for (const v of fastVotes) {
    const c = counts.get(v.id) ?? { value: v, votes: 0 };
    c.votes++;
    counts.set(v.id, c);
  }
  let forced: { value: Value; votes: number } | undefined;
  for (const c of counts.values()) if (c.votes >= votes && (forced === undefined || c.votes > forced.votes)) forced = c;
  return forced?.value;
}
