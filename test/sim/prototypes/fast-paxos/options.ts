/**
 * The Fast Paxos prototype's options: the variants the tests and the report compare (and the three
 * sabotages its safety check must catch). Apart from the entry file so that the proposer can read
 * them without importing it.
 */

export interface FastPaxosOptions {
  /** Slots in flight per proposer (default `slots_in_flight_default`). */
  readonly slotsInFlight?: number;
  /** Sabotage: the protocol learns and recovers with a fast quorum one short of the arithmetic's F. */
  readonly fastQuorumOneShort?: boolean;
  /** Sabotage: a proposer re-queues a collided value's requests as soon as its slot is stuck, before learning the chosen value. */
  readonly reproposeBeforeLearning?: boolean;
  /**
   * Sabotage: a proposer acknowledges its requests as soon as it learns their own slot chosen,
   * without waiting for every earlier slot (the check's chosen times catch it).
   */
  readonly ackBeforePrefix?: boolean;
  /** A free recovery proposes the union of the slot's values instead of its own (default true: see `../fast-paxos.ts`'s header). */
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
