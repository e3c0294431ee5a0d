/**
 * The open-loop contention workload (`contention.ts`): bounded, deterministic (same seed, same
 * figures), per proposer in its own quorum RTT, and a cold joiner that joins, commits and vanishes.
 */
import { describe, expect, test } from "vitest";
import { nthNearestRtt_ms } from "../../src/core/region-rtt.js";
import { contention_mixes, measureColdJoin, measureContention } from "./contention.js";
import { latency_setups } from "./latency.js";

const three = latency_setups[0]!;
const five = latency_setups[1]!;
const fourRegions = contention_mixes[2]!;
const small = { proposerRegions: fourRegions, requests_per_proposer: 30 } as const;
const joiner = { region: "weur", join_ms: 400, requests: 8 } as const;

describe("open-loop contention (units of each proposer's own quorum RTT)", () => {
  test("the same seed gives the same figures, the cold joiner's included; another seed does not", async () => {
    const run = { ...small, coldJoiners: [joiner], seed: 7 };
    const first = await measureContention(three, run);
    const second = await measureContention(three, run);
    expect(second).toEqual(first);
    const other = await measureContention(three, { ...run, seed: 8 });
    expect(other.proposers.map((p) => p.latencies)).not.toEqual(first.proposers.map((p) => p.latencies));
  });

  test("every request of every proposer gets its receipt, each measured in its own quorum RTT", async () => {
    for (const setup of [three, five]) {
      const r = await measureContention(setup, small);
      expect(r.finished).toBe(true);
      expect(r.proposers.map((p) => p.region)).toEqual(fourRegions);
      for (const p of r.proposers) {
        expect(p.failed).toBe(0);
        expect(p.samples).toBe(30);
        expect(p.quorum_rtt_ms).toBe(nthNearestRtt_ms(p.region, setup.acceptorRegions, setup.quorum.accept));
        // Nothing commits faster than one round trip to an accept quorum.
        expect(p.latencies[0]).toBeGreaterThanOrEqual(1.0);
        expect(p.median).toBeLessThanOrEqual(p.p99);
        expect(p.p99).toBeLessThanOrEqual(p.max);
      }
    }
  });

  test("a cold joiner is a new proposer: it joins at its time, commits its appends, and leaves", async () => {
    const r = await measureContention(three, { ...small, coldJoiners: [joiner] });
    const cold = r.proposers.filter((p) => p.cold);
    expect(cold).toHaveLength(1);
    expect(cold[0]!.proposer).toBe(`p${fourRegions.length}`);
    expect(cold[0]!.samples).toBe(joiner.requests);
    // Its first request pays phase 1 at least: two round trips.
    expect(cold[0]!.max).toBeGreaterThanOrEqual(2.0);
  });

  test("the cold-join comparison runs the same arrivals without and with the joiner", async () => {
    const r = await measureColdJoin(three, { proposerRegions: contention_mixes[0]!, requests_per_proposer: 40 });
    expect(r.failed_with).toBe(0);
    expect(r.joiner_result.samples).toBe(r.joiner.requests);
    expect(r.others_p99_without).toBeLessThanOrEqual(r.others_max_without);
    expect(r.others_p99_with).toBeLessThanOrEqual(r.others_max_with);
  });
});
