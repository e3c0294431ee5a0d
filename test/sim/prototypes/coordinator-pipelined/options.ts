import type { RegionHint } from "../../../../src/core/region-rtt.js";

export interface CoordinatorPipelinedOptions {
  /** Where the leader lives; default the production placement for the table's client regions. */
  readonly coordinatorRegion?: RegionHint;
  /** Slots proposed and not yet chosen, at most. */
  readonly slots_in_flight_max?: number;
  /**
   * Start as leader, phase 1 done before the run (every acceptor promised `leader_ballot`): the
   * model before it started cold. Default false: one phase 1 at the start, as production.
   */
  readonly warm?: boolean;
  /** Requests the leader may hold unproposed (an assertion); default `leader_pending_requests_max`. */
  readonly pending_requests_max?: number;
  /** Sabotage: answer a slot's requests once it is chosen, without waiting for the earlier slots. */
  readonly answerBeforePrefix?: boolean;
  /** Sabotage: every second batch is proposed in the same slot as the batch before it. */
  readonly sameSlotTwice?: boolean;
  /** Sabotage: the leader takes a slot for chosen one vote short of the accept quorum. */
  readonly quorumOneShort?: boolean;
  /** Sabotage: the leader ends its phase 1 one promise short of the prepare quorum. */
  readonly phase1OneShort?: boolean;
}
