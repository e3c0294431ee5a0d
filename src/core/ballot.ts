/**
 * A ballot orders proposals: by round, then by proposer id. Two proposers never share a ballot
 * because proposer ids are unique (random per proposer instance, passed in).
 */
export interface Ballot {
  readonly round: number;
  readonly proposerId: string;
}

/** Lower than every ballot a proposer can hold (proposer ids are non-empty). */
export const ballot_zero: Ballot = { round: 0, proposerId: "" };

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.proposerId === b.proposerId) return 0;
  return a.proposerId < b.proposerId ? -1 : 1;
}

export function ballotsEqual(a: Ballot, b: Ballot): boolean {
  return compareBallots(a, b) === 0;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.proposerId}`;
}
