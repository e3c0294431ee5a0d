/**
 * The open-loop contention workload (`contention.ts`): bounded, deterministic (same seed, same
 * figures), per proposer in its own quorum RTT, and a cold joiner that joins, commits and vanishes;
 * then issue #12's latency targets for the coordinator design.
 */
import { describe, expect, test } from "vitest";
import { nthNearestRtt_ms, regionRtt_ms } from "../../src/core/region-rtt.js";
import {
  type ContentionResult,
  contention_mixes,
  measureColdJoin,
  measureContention,
  type ProposerLatency,
} from "./contention.js";
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

/**
 * Issue #12's targets for the coordinator design, at the table's load (`npm run sim -- --latency`:
 * 200 Poisson arrivals per proposer at 4 per its quorum RTT, seed 1), each proposer in its own quorum
 * RTT, with up to `coordinator_rounds_in_flight_max` group rounds in flight. Measured at seed 1 (seeds 2
 * and 3 in brackets, worst proposer): 3 acceptors, 4 proposers p99 2.66 max 2.95 [2.66/2.85,
 * 3.01/3.18]; 8 proposers p99 2.98 [2.73, 2.77]; 5 acceptors Q2=2, 4 proposers p99 3.42 max 3.69
 * [3.60, 3.78], 8 proposers 3.40 [3.40, 3.32]; a cold joiner moves the others' p99 by at most +0.00;
 * the proposer beside the coordinator (enam) has median 1.33. The medians of the others pay the hop to
 * the coordinator and are not asserted (design §6). The direct design's rows are the baseline and are
 * not asserted here.
 */
describe("the coordinator design meets issue #12's latency targets (own quorum RTTs, seed 1)", () => {
  const load = { seed: 1, design: "coordinator" } as const;
  const worst = (r: ContentionResult, f: (p: ProposerLatency) => number) => Math.max(...r.proposers.map(f));
  const failed = (r: ContentionResult) => r.proposers.reduce((k, p) => k + p.failed, 0);

  test("4 proposers in 4 regions, 3 acceptors: 0 failed, p99 <= 3 and max <= 6; one phase 1", async () => {
    const r = await measureContention(three, { ...load, proposerRegions: fourRegions });
    expect(r.finished).toBe(true);
    expect(failed(r)).toBe(0);
    expect(worst(r, (p) => p.p99)).toBeLessThanOrEqual(3.0);
    expect(worst(r, (p) => p.max)).toBeLessThanOrEqual(6.0);
    // Beside the coordinator there is no hop: the median holds there.
    expect(r.proposers.find((p) => p.region === "enam")!.median).toBeLessThanOrEqual(1.5);
    // No duel, and rounds in flight never cost the leadership: the first phase 1 is the only one.
    expect(r.phase1_runs).toBe(1);
    expect(r.counters.rounds_in_flight_peak).toBeGreaterThan(1);
  });

  test("8 proposers (two per region), 3 acceptors: 0 failed, p99 <= 4", async () => {
    const r = await measureContention(three, { ...load, proposerRegions: contention_mixes[3]! });
    expect(failed(r)).toBe(0);
    expect(worst(r, (p) => p.p99)).toBeLessThanOrEqual(4.0);
  });

  test("5 acceptors Q1=4 Q2=2, 4 and 8 proposers: 0 failed, p99 <= 4, max <= 6", async () => {
    for (const mix of [fourRegions, contention_mixes[3]!]) {
      const r = await measureContention(five, { ...load, proposerRegions: mix });
      expect(failed(r)).toBe(0);
      expect(
        worst(r, (p) => p.p99),
        `${mix.length} proposers`,
      ).toBeLessThanOrEqual(4.0);
      expect(
        worst(r, (p) => p.max),
        `${mix.length} proposers`,
      ).toBeLessThanOrEqual(6.0);
    }
  });

  test("a cold isolate joining 4 busy proposers moves the others' p99 by at most one quorum RTT", async () => {
    for (const setup of [three, five]) {
      const r = await measureColdJoin(setup, { ...load, proposerRegions: fourRegions });
      expect(r.failed_with).toBe(0);
      expect(r.others_p99_with - r.others_p99_without, setup.label).toBeLessThanOrEqual(1.0);
      // A cold Worker only forwards: no phase 1 of its own, so its own p99 is a warm one's.
      expect(r.joiner_result.p99, setup.label).toBeLessThanOrEqual(4.0);
    }
  });

  test("one proposer alone is no worse than direct, but for the same-region hop to the coordinator", async () => {
    const alone = contention_mixes[0]!;
    const direct = await measureContention(three, { seed: 1, design: "direct", proposerRegions: alone });
    const forwarded = await measureContention(three, { ...load, proposerRegions: alone });
    const p = forwarded.proposers[0]!;
    const d = direct.proposers[0]!;
    // The hop enam -> enam, with the simulator's jitter at most +50 %, in enam's quorum RTT.
    const hop = (1.5 * regionRtt_ms("enam", "enam")) / p.quorum_rtt_ms;
    expect(p.failed).toBe(0);
    expect(p.median).toBeLessThanOrEqual(d.median + hop);
    expect(p.p99).toBeLessThanOrEqual(d.p99 + hop);
  });
});
