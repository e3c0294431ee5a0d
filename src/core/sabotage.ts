// Stryker disable all: test-only names of planted bugs, never set in production; each is caught by
// test/sim/checker-catches.test.ts, which the mutation run does not include (docs/mutation-triage.md).
/**
 * Test-only sabotage: realistic one-line bugs planted on purpose so that the simulator can show it
 * catches them (`test/sim/checker-catches.test.ts`). Production never sets one; each is an option of
 * the component it breaks and defaults to off. Two more planted bugs (a chain hash that ignores the
 * previous hash, ballots compared without the proposer id) are pure functions, replaced by module
 * mocks in the test instead of a switch here.
 */
export type Sabotage =
  /** The proposer treats a truncated Promise listing as complete: the re-prepare loop is skipped. */
  | "truncated_promise_treated_complete"
  /** The acceptor keeps a promise in memory only; it reaches the disk with the next Accept. */
  | "promise_in_memory_only"
  /** Thrifty phase 2 drops the values owed to acceptors that missed an Accept. */
  | "owed_values_dropped"
  /** Commits lost in a message are never sent again. */
  | "lost_commits_never_resent"
  /** Recovery takes the value of the lowest ballot a Promise reports instead of the highest. */
  | "recovery_takes_lowest_ballot"
  /** A linearizable read takes its read index from one replica instead of a prepare quorum. */
  | "read_index_from_one_replica"
  /** Rounds in flight (the coordinator) take the next slot only once their phase 2 ends, so that two share one. */
  | "rounds_in_flight_share_a_slot";

export const sabotage_modes: readonly Sabotage[] = [
  "truncated_promise_treated_complete",
  "promise_in_memory_only",
  "owed_values_dropped",
  "lost_commits_never_resent",
  "recovery_takes_lowest_ballot",
  "read_index_from_one_replica",
  "rounds_in_flight_share_a_slot",
];
