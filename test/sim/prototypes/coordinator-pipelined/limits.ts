/**
 * The pipelined coordinator prototype's named limits, in one file because the leader, the acceptors
 * and the entry file (`../coordinator-pipelined.ts`, which re-exports the public ones) bound their
 * loops and queues with them.
 */
import { limits } from "../../../../src/core/limits.js";

/** Requests one slot's value carries at most: the harness's, the same for every prototype. */
export { prototype_batch_requests_max } from "../harness.js";
/** Slots in flight by default: Mencius' figure, so the two rows differ in the hop and Mencius' skips, not in pipelining. */
export const coordinator_slots_in_flight_default = 16;
/** The slots in flight the report measures: 1 is production's one round at a time. */
export const coordinator_slots_in_flight_measured = [1, 4, 16] as const;
/** The leader's ballot: its one phase 1 (or, warm, the phase 1 done before the run) is at this ballot. */
export const leader_ballot = 1;
/**
 * Requests the leader may hold unproposed: production's coordinator queue (`proposer_queue_requests_max`),
 * which answers 503 beyond it. The harness never retries a 503, so here it is an assertion: the
 * table's runs peak far below (tens of requests, during phase 1 or with 1 slot in flight).
 */
export const leader_pending_requests_max = limits.proposer_queue_requests_max;
/**
 * Chosen slots waiting for an earlier one before they can be answered (an assertion: with no loss a
 * slot is chosen within a round trip of the one before it, so a run never comes near).
 */
export const chosen_unanswered_slots_max = 100_000;
