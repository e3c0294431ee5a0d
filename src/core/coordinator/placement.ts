/**
 * Where a ledger's coordinator lives (its Durable Object's location hint). A request from region C
 * through a coordinator in region K costs RTT(C, K) for the hop plus K's own accept-quorum round
 * trip; measured against what C would pay proposing itself (C's accept-quorum round trip), the
 * placement that keeps the WORST of these ratios over the client regions smallest is chosen. Ties go
 * to the earlier region of `candidates`. With acceptors enam,wnam,weur and clients in
 * enam,wnam,weur,apac that is enam (worst ratio 2.00 for weur, 2.11 with the durable write); see docs/design.md.
 */
import { assert } from "../assert.js";
import { nthNearestRtt_ms, type RegionHint, regionRtt_ms } from "../region-rtt.js";

/** The ratio a client in `client` pays through a coordinator in `coordinator`, in its own quorum RTTs (no write time). */
export function forwardedRatio(
  client: RegionHint,
  coordinator: RegionHint,
  acceptors: readonly RegionHint[],
  acceptQuorum: number,
): number {
  const own_ms = nthNearestRtt_ms(client, acceptors, acceptQuorum);
  const hop_ms = client === coordinator ? 0 : regionRtt_ms(client, coordinator);
  return (hop_ms + nthNearestRtt_ms(coordinator, acceptors, acceptQuorum)) / own_ms;
}

/** The coordinator region with the smallest worst ratio over `clients`, among `candidates`. */
export function coordinatorRegionFor(
  acceptors: readonly RegionHint[],
  acceptQuorum: number,
  clients: readonly RegionHint[],
  candidates: readonly RegionHint[] = acceptors,
): RegionHint {
  assert(candidates.length > 0 && clients.length > 0, "a coordinator is placed among candidates, for clients");
  let best: { region: RegionHint; worst: number } | undefined;
  for (const region of candidates) {
    const worst = Math.max(...clients.map((c) => forwardedRatio(c, region, acceptors, acceptQuorum)));
    if (best === undefined || worst < best.worst) best = { region, worst };
  }
  return best!.region;
}
