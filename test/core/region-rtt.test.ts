import { describe, expect, it } from "vitest";
import {
  isRegionHint,
  nthNearestRtt_ms,
  region_hints,
  regionRtt_ms,
  same_region_rtt_ms,
} from "../../src/core/region-rtt.js";

describe("region RTT table", () => {
  it("is symmetric, same_region_rtt_ms on the diagonal, positive elsewhere", () => {
    for (const a of region_hints) {
      expect(regionRtt_ms(a, a)).toBe(same_region_rtt_ms);
      for (const b of region_hints) {
        expect(regionRtt_ms(a, b)).toBe(regionRtt_ms(b, a));
        if (a !== b) expect(regionRtt_ms(a, b)).toBeGreaterThan(same_region_rtt_ms);
      }
    }
  });

  it("isRegionHint knows exactly the six hints", () => {
    for (const h of region_hints) expect(isRegionHint(h)).toBe(true);
    for (const s of ["", "ENAM", "eu", "enam ", "toString"]) expect(isRegionHint(s)).toBe(false);
  });
});

describe("nthNearestRtt_ms", () => {
  const five = ["enam", "wnam", "weur", "apac", "sam"] as const;

  it("ranks by RTT from the given region, nearest first, counting itself", () => {
    // From enam: enam 2, weur 80.5, wnam 87, sam 119.5, apac 145.
    expect([1, 2, 3, 4, 5].map((rank) => nthNearestRtt_ms("enam", five, rank))).toEqual([2, 80.5, 87, 119.5, 145]);
    // Numeric order, not string order ("145" < "80.5" as strings).
    expect(nthNearestRtt_ms("enam", ["apac", "weur"], 1)).toBe(80.5);
  });

  it("refuses a rank beyond the regions, naming both", () => {
    expect(() => nthNearestRtt_ms("enam", five, 6)).toThrow(RangeError);
    expect(() => nthNearestRtt_ms("enam", five, 6)).toThrow("rank 6 of 5 regions");
    expect(() => nthNearestRtt_ms("enam", five, 0)).toThrow("rank 0 of 5 regions");
  });
});
