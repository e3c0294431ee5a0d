/**
 * Round-trip times between Cloudflare Durable Object location hints, in milliseconds, for the
 * simulator and for the fault-injecting transport of local runs and benchmarks.
 *
 * Source: the project's shared/data/region-rtt-ms.json: each hint mapped to the nearest AWS region of
 * a published inter-region ping table (AWS, April 2017, republished at
 * acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html; cross-checked against IBM
 * Cloud's Aug-Oct 2024 averages, within 15% except weur-oc, which 2024 puts at 261). Cloudflare
 * publishes no such table. Durable write time: 5 to 13 ms (a third-party measurement, lumenize.com).
 */
export const region_hints = ["enam", "wnam", "weur", "apac", "oc", "sam"] as const;
export type RegionHint = (typeof region_hints)[number];

export const same_region_rtt_ms = 2;

const rtt_ms: Readonly<Record<RegionHint, Readonly<Record<Exclude<RegionHint, never>, number>>>> = {
  enam: { enam: 2, wnam: 87, weur: 80.5, apac: 145, oc: 230, sam: 119.5 },
  wnam: { enam: 87, wnam: 2, weur: 137, apac: 89, oc: 162, sam: 182.7 },
  weur: { enam: 80.5, wnam: 137, weur: 2, apac: 212.4, oc: 309.6, sam: 191.3 },
  apac: { enam: 145, wnam: 89, weur: 212.4, apac: 2, oc: 103.9, sam: 256.8 },
  oc: { enam: 230, wnam: 162, weur: 309.6, apac: 103.9, oc: 2, sam: 322.5 },
  sam: { enam: 119.5, wnam: 182.7, weur: 191.3, apac: 256.8, oc: 322.5, sam: 2 },
};

export const durable_write_ms = { min: 5, max: 13 } as const;

export function isRegionHint(s: string): s is RegionHint {
  return (region_hints as readonly string[]).includes(s);
}

export function regionRtt_ms(a: RegionHint, b: RegionHint): number {
  return rtt_ms[a][b];
}

/** The RTT from `from` to the `rank`-th nearest of `regions` (rank 1 = nearest). */
export function nthNearestRtt_ms(from: RegionHint, regions: readonly RegionHint[], rank: number): number {
  const sorted = regions.map((r) => regionRtt_ms(from, r)).sort((x, y) => x - y);
  const rtt = sorted[rank - 1];
  if (rtt === undefined) throw new RangeError(`rank ${rank} of ${regions.length} regions`);
  return rtt;
}
