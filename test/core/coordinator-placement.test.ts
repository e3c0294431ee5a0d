/**
 * Where a ledger's coordinator lives (src/core/coordinator/placement.ts): the region whose worst
 * ratio (hop to the coordinator + the coordinator's accept-quorum round trip, over the client's own
 * accept-quorum round trip) over the client regions is smallest. The ratios are checked against
 * arithmetic done by hand from the RTT table (src/core/region-rtt.ts), written out below.
 */
import { describe, expect, test } from "vitest";
import { coordinatorRegionFor, forwardedRatio } from "../../src/core/coordinator/index.js";
import type { RegionHint } from "../../src/core/region-rtt.js";

const acceptors: readonly RegionHint[] = ["enam", "wnam", "weur"];
const clients: readonly RegionHint[] = ["enam", "wnam", "weur", "apac"];

/*
 * By hand, accept quorum 2 of enam,wnam,weur (the 2nd nearest acceptor's RTT):
 *   own quorum RTT: enam 80.5 (2, 80.5, 87), wnam 87 (2, 87, 137), weur 80.5 (2, 80.5, 137),
 *                   apac 145 (89, 145, 212.4)
 *   through enam (q 80.5): enam 80.5/80.5 = 1; wnam (87+80.5)/87 = 1.925; weur (80.5+80.5)/80.5 = 2;
 *                          apac (145+80.5)/145 = 1.555   -> worst 2 (weur)
 *   through wnam (q 87):   enam (87+87)/80.5 = 2.161; wnam 1; weur (137+87)/80.5 = 2.783;
 *                          apac (89+87)/145 = 1.214     -> worst 2.783 (weur)
 *   through weur (q 80.5): enam (80.5+80.5)/80.5 = 2; wnam (137+80.5)/87 = 2.5; weur 1;
 *                          apac (212.4+80.5)/145 = 2.020 -> worst 2.5 (wnam)
 */
const by_hand: ReadonlyArray<readonly [RegionHint, RegionHint, number]> = [
  ["enam", "enam", 1],
  ["wnam", "enam", 167.5 / 87],
  ["weur", "enam", 2],
  ["apac", "enam", 225.5 / 145],
  ["enam", "wnam", 174 / 80.5],
  ["wnam", "wnam", 1],
  ["weur", "wnam", 224 / 80.5],
  ["apac", "wnam", 176 / 145],
  ["enam", "weur", 2],
  ["wnam", "weur", 217.5 / 87],
  ["weur", "weur", 1],
  ["apac", "weur", 292.9 / 145],
];

describe("forwardedRatio against the RTT table by hand", () => {
  for (const [client, coordinator, ratio] of by_hand) {
    test(`${client} through ${coordinator}: ${ratio.toFixed(3)}`, () => {
      expect(forwardedRatio(client, coordinator, acceptors, 2)).toBeCloseTo(ratio, 9);
    });
  }

  test("a client in the coordinator's region pays no hop (not even the 2 ms same-region RTT)", () => {
    expect(forwardedRatio("enam", "enam", acceptors, 2)).toBe(1);
  });

  test("5 acceptors with Q2 = 2: apac has its own acceptor, so its own quorum RTT is 89 (wnam)", () => {
    const five: RegionHint[] = ["enam", "wnam", "weur", "apac", "sam"];
    // enam's 2nd nearest of five is weur (80.5); apac's is wnam (89): (145 + 80.5) / 89.
    expect(forwardedRatio("apac", "enam", five, 2)).toBeCloseTo(225.5 / 89, 9);
  });
});

describe("coordinatorRegionFor", () => {
  test("acceptors enam,wnam,weur, clients in four regions: enam (worst 2.00, against 2.78 and 2.50)", () => {
    expect(coordinatorRegionFor(acceptors, 2, clients)).toBe("enam");
    const worst = (k: RegionHint) => Math.max(...clients.map((c) => forwardedRatio(c, k, acceptors, 2)));
    expect(worst("enam")).toBeCloseTo(2, 9);
    expect(worst("wnam")).toBeCloseTo(224 / 80.5, 9);
    expect(worst("weur")).toBeCloseTo(217.5 / 87, 9);
  });

  test("clients only in wnam and apac: wnam, whose worst ratio (1.21) beats enam's (1.93)", () => {
    expect(coordinatorRegionFor(acceptors, 2, ["wnam", "apac"])).toBe("wnam");
  });

  test("clients only in weur: weur", () => {
    expect(coordinatorRegionFor(acceptors, 2, ["weur"])).toBe("weur");
  });

  test("a tie goes to the earlier candidate", () => {
    // The same worst ratio twice (one region listed twice): the first of the two is kept, and a
    // worse region listed before them is not.
    expect(coordinatorRegionFor(acceptors, 2, clients, ["wnam", "enam", "enam"])).toBe("enam");
    expect(coordinatorRegionFor(acceptors, 2, ["enam"], ["weur", "enam"])).toBe("enam");
  });

  test("candidates outside the acceptors can be chosen", () => {
    // Clients only in apac: a coordinator in apac pays no hop and apac's own quorum: ratio 1.
    expect(coordinatorRegionFor(acceptors, 2, ["apac"], [...acceptors, "apac"])).toBe("apac");
  });

  test("no candidates or no clients is refused", () => {
    expect(() => coordinatorRegionFor(acceptors, 2, clients, [])).toThrow();
    expect(() => coordinatorRegionFor(acceptors, 2, [])).toThrow();
  });
});
