/**
 * Latency bounds by construction, from the RTT table and the mean durable write alone (no queueing,
 * no jitter, no contention): what a design cannot beat, in units of the client's own quorum RTT (the
 * RTT from its region to the accept-quorum-th nearest acceptor). Nothing here is simulated; the
 * contention table prints these rows beside the simulated ones, labelled as bounds.
 */
import { durable_write_ms, nthNearestRtt_ms, type RegionHint, regionRtt_ms } from "../../src/core/region-rtt.js";

/** The mean of the simulator's durable write (uniform between its min and max). */
export const mean_durable_write_ms = (durable_write_ms.min + durable_write_ms.max) / 2;

/**
 * Fast Paxos from `client`: the value goes straight to every acceptor and is chosen when a fast
 * quorum accepted it (with n = 3, all three: the farthest acceptor's RTT plus a write). A collision
 * (two values in one fast round) is recovered by a classic round from the client: one more
 * accept-quorum round trip and write.
 */
export function fastPaxosBound(
  client: RegionHint,
  acceptors: readonly RegionHint[],
  fastQuorum: number,
  acceptQuorum: number,
  collision: boolean,
): number {
  const own_ms = nthNearestRtt_ms(client, acceptors, acceptQuorum);
  const fast_ms = nthNearestRtt_ms(client, acceptors, fastQuorum) + mean_durable_write_ms;
  const classic_ms = collision ? own_ms + mean_durable_write_ms : 0;
  return (fast_ms + classic_ms) / own_ms;
}

/** The coordinator design from `client`: the hop to the coordinator, its accept round and write. */
export function coordinatorBound(
  client: RegionHint,
  coordinator: RegionHint,
  acceptors: readonly RegionHint[],
  acceptQuorum: number,
): number {
  const own_ms = nthNearestRtt_ms(client, acceptors, acceptQuorum);
  const hop_ms = regionRtt_ms(client, coordinator);
  return (hop_ms + nthNearestRtt_ms(coordinator, acceptors, acceptQuorum) + mean_durable_write_ms) / own_ms;
}
