/**
 * The Fast Paxos prototype's named limits, in one file because the proposer, the acceptor and the
 * entry file (`../fast-paxos.ts`, which re-exports the public ones) all bound their loops and queues
 * with them.
 */

/** Slots a proposer has in flight at once, by default (see `../fast-paxos.ts`'s header: measured against 1, 2 and 4). */
export const slots_in_flight_default = 8;
/** Classic rounds one proposer may start for one slot before it gives up (its requests then fail, visibly). */
export const recovery_attempts_max = 50;
/** A recovery attempt that has not seen its slot chosen after this many of the proposer's farthest-acceptor RTTs is retried. */
export const recovery_timeout_rtts = 4;
/**
 * Requests a proposer may hold unproposed, its queue's limit (asserted when a request arrives; the
 * runs never come near it). Requests per value: the harness's `prototype_batch_requests_max`.
 */
export const pending_requests_max = 100_000;
/** Slots of one log (a bound on slot numbers). */
export const slots_max = 1_000_000;
/** Ballot encoding: round * ballot_round_span + proposer index + 1; ballot 0 is the fast round. */
export const ballot_round_span = 1024;
/** Proposers of one run, the cold joiners included (the ballot encoding's bound). */
export const proposers_max = ballot_round_span - 1;
