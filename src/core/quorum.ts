/**
 * Quorum sizes. Phase 1 (prepare) waits for `prepare` replies, phase 2 (accept) for `accept`.
 * Safety needs every phase-1 quorum to meet every phase-2 quorum (`prepare + accept > n`); phase-2
 * quorums need not meet each other (flexible Paxos), which lets commits wait only for the nearest
 * regions.
 */
export interface QuorumConfig {
  readonly acceptors: number;
  readonly prepare: number;
  readonly accept: number;
}

export const acceptor_counts_supported = [3, 5, 7] as const;

export class QuorumConfigError extends Error {
  override name = "QuorumConfigError";
}

export function majority(acceptors: number): number {
  return Math.floor(acceptors / 2) + 1;
}

/**
 * Builds a quorum configuration, majority by default, and refuses one whose quorums do not
 * intersect.
 */
export function quorumConfig(acceptors: number, prepare?: number, accept?: number): QuorumConfig {
  if (!Number.isInteger(acceptors) || acceptors < 1) {
    throw new QuorumConfigError(`acceptor count must be a positive integer, got ${acceptors}`);
  }
  const q1 = prepare ?? (accept === undefined ? majority(acceptors) : acceptors - accept + 1);
  const q2 = accept ?? (prepare === undefined ? majority(acceptors) : acceptors - q1 + 1);
  for (const [name, q] of [
    ["prepare", q1],
    ["accept", q2],
  ] as const) {
    if (!Number.isInteger(q) || q < 1 || q > acceptors) {
      throw new QuorumConfigError(`${name} quorum must be an integer in 1..${acceptors}, got ${q}`);
    }
  }
  if (q1 + q2 <= acceptors) {
    throw new QuorumConfigError(
      `quorums do not intersect: prepare ${q1} + accept ${q2} must exceed ${acceptors} acceptors, ` +
        `or two proposers could each see a quorum and choose different values for one slot`,
    );
  }
  return { acceptors, prepare: q1, accept: q2 };
}

/**
 * Builds a configuration without the intersection check. Only the simulator's negative test uses
 * it, to show that the checker catches the safety violation such a cluster produces.
 */
export function unsafeQuorumConfigForTests(acceptors: number, prepare: number, accept: number): QuorumConfig {
  return { acceptors, prepare, accept };
}
