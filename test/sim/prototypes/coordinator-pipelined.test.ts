/**
 * The pipelined coordinator prototype (`coordinator-pipelined.ts`): its safety check catching the
 * four broken variants (answers before the prefix is chosen; two batches in one slot; a quorum one
 * vote short; phase 1 one promise short) while the correct model passes every seed of 1..40; its one
 * phase 1 at the start (cold, as production) and the `warm` option; the named limit on the leader's
 * pending queue; fault-free runs that finish with 0 failed at 1, 4 and 16 slots in flight; a cold
 * joiner that is just another Worker; and the one-proposer median against the coordinator bound.
 */
import { describe, expect, test } from "vitest";
import { durable_write_ms, nthNearestRtt_ms } from "../../../src/core/region-rtt.js";
import { coordinatorBound } from "../bounds.js";
import { contention_mixes, coordinatorRegionOf } from "../contention.js";
import { latency_setups } from "../latency.js";
import {
  type CoordinatorPipelinedOptions,
  coordinator_slots_in_flight_measured,
  coordinatorPipelinedPrototype,
  coordinatorPipelinedPrototypeWith,
  leader_pending_requests_max,
} from "./coordinator-pipelined.js";
import { measurePrototype, type PrototypeResult } from "./harness.js";

const three = latency_setups[0]!;
const five = latency_setups[1]!;
const alone = contention_mixes[0]!;
const fourRegions = contention_mixes[2]!;
const eight = contention_mixes[3]!;
/** Seeds the broken variants must be caught within, and the correct model must pass (issue #12: 1..40). */
const sabotage_seeds_max = 40;
/** Requests per proposer in the sabotage runs: enough slots in flight to meet every hazard, cheap on 40 seeds. */
const sabotage_requests_per_proposer = 30;

function expectAllAnswered(r: PrototypeResult): void {
  expect(r.finished).toBe(true);
  for (const p of r.proposers) {
    expect(p.failed).toBe(0);
    expect(p.samples).toBe(p.requests);
  }
}

function sabotageRun(seed: number) {
  return { proposerRegions: fourRegions, requests_per_proposer: sabotage_requests_per_proposer, seed };
}

/** The first seed in 1..40 on which the broken variant's run throws, and the message. */
async function firstSeedCaught(
  options: CoordinatorPipelinedOptions,
): Promise<{ seed: number; message: string } | undefined> {
  for (let seed = 1; seed <= sabotage_seeds_max; seed++) {
    try {
      await measurePrototype("broken", coordinatorPipelinedPrototypeWith(options), three, sabotageRun(seed));
    } catch (error) {
      return { seed, message: (error as Error).message };
    }
  }
  return undefined;
}

describe("pipelined coordinator prototype", () => {
  test("the correct model, cold and warm, passes its safety check on seeds 1..40 with every request answered", async () => {
    for (const options of [{}, { warm: true }]) {
      for (let seed = 1; seed <= sabotage_seeds_max; seed++) {
        const r = await measurePrototype(
          "pipelined",
          coordinatorPipelinedPrototypeWith(options),
          three,
          sabotageRun(seed),
        );
        expectAllAnswered(r);
      }
    }
  });

  test("answering a slot before every earlier slot is chosen is caught: not acknowledged in slot order", async () => {
    const caught = await firstSeedCaught({ answerBeforePrefix: true });
    expect(caught).toBeDefined();
    expect(caught!.message).toMatch(/coordinator-pipelined safety: .*(slot order|was not yet chosen)/);
  });

  test("two batches assigned one slot is caught: two chosen values for one slot", async () => {
    const caught = await firstSeedCaught({ sameSlotTwice: true });
    expect(caught).toBeDefined();
    expect(caught!.message).toMatch(/coordinator-pipelined safety: slot \d+ has two chosen values/);
  });

  test("taking a slot for chosen one vote short is caught: acknowledged before its prefix was chosen", async () => {
    const caught = await firstSeedCaught({ quorumOneShort: true });
    expect(caught).toBeDefined();
    expect(caught!.message).toMatch(/coordinator-pipelined safety: .* while slot \d+ was not yet chosen/);
  });

  test("leading one promise short of the prepare quorum is caught: a vote before phase 1 reached a quorum", async () => {
    const caught = await firstSeedCaught({ phase1OneShort: true });
    expect(caught).toBeDefined();
    expect(caught!.message).toMatch(
      /coordinator-pipelined safety: acceptor \d+ voted .* before a prepare quorum promised/,
    );
  });

  test("it starts cold: one phase 1 of at least the prepare-quorum round trip and a write; warm: none", async () => {
    for (const setup of [three, five]) {
      const cold = await measurePrototype("pipelined", coordinatorPipelinedPrototype, setup, {
        proposerRegions: alone,
      });
      const warm = await measurePrototype("pipelined", coordinatorPipelinedPrototypeWith({ warm: true }), setup, {
        proposerRegions: alone,
      });
      expectAllAnswered(cold);
      expectAllAnswered(warm);
      // Jitter only lengthens a hop and every write takes at least its minimum.
      const phase1_bound_ms =
        nthNearestRtt_ms(coordinatorRegionOf(setup), setup.acceptorRegions, setup.quorum.prepare) +
        durable_write_ms.min;
      expect(cold.stats.phase1_ms).toBeGreaterThanOrEqual(phase1_bound_ms);
      expect(warm.stats.phase1_ms).toBe(0);
      // The requests that arrive during phase 1 wait for it: the cold run's max is the longer.
      expect(cold.proposers[0]!.max).toBeGreaterThan(warm.proposers[0]!.max);
    }
  });

  test("the leader's pending queue is bounded: runs stay under the limit, and going over it throws", async () => {
    const r = await measurePrototype("pipelined", coordinatorPipelinedPrototypeWith({ slots_in_flight_max: 1 }), five, {
      proposerRegions: eight,
    });
    expectAllAnswered(r);
    expect(r.stats.pending_at_leader_peak).toBeGreaterThan(1);
    expect(r.stats.pending_at_leader_peak).toBeLessThanOrEqual(leader_pending_requests_max);
    const tiny = coordinatorPipelinedPrototypeWith({ slots_in_flight_max: 1, pending_requests_max: 1 });
    await expect(measurePrototype("pipelined", tiny, five, { proposerRegions: eight })).rejects.toThrow(
      /more than 1 requests pending at the leader/,
    );
  });

  test("one proposer alone and 4 in 4 regions, both clusters, 1, 4 and 16 slots in flight: 0 failed, safe", async () => {
    for (const setup of [three, five]) {
      for (const mix of [alone, fourRegions]) {
        for (const slots of coordinator_slots_in_flight_measured) {
          const factory = coordinatorPipelinedPrototypeWith({ slots_in_flight_max: slots });
          const r = await measurePrototype("pipelined", factory, setup, { proposerRegions: mix, seed: 1 });
          expectAllAnswered(r);
          expect(r.stats.slots_in_flight_peak).toBeLessThanOrEqual(slots);
          expect(r.stats.forwarded).toBe(mix.length * r.proposers[0]!.requests);
        }
      }
    }
  });

  test("a cold isolate is one more Worker: it forwards, and every request is answered", async () => {
    const joiner = { region: "weur", join_ms: 1000, requests: 20 } as const;
    const r = await measurePrototype("pipelined", coordinatorPipelinedPrototype, three, {
      proposerRegions: fourRegions,
      requests_per_proposer: 100,
      seed: 1,
      coldJoiners: [joiner],
    });
    expectAllAnswered(r);
    expect(r.stats.forwarded).toBe(4 * 100 + joiner.requests);
  });

  test("one proposer alone: each median at least the coordinator bound; pipelining beats one round at a time", async () => {
    for (const setup of [three, five]) {
      const medians = new Map<number, number>();
      for (const slots of coordinator_slots_in_flight_measured) {
        const factory = coordinatorPipelinedPrototypeWith({ slots_in_flight_max: slots });
        const r = await measurePrototype("pipelined", factory, setup, { proposerRegions: alone, seed: 1 });
        const p = r.proposers[0]!;
        // The hop to the coordinator and back, its accept-quorum round trip and the mean write: no
        // jitter, no queueing can make it cheaper (the write in the bound is the mean, and the
        // jitter only lengthens every hop).
        const bound = coordinatorBound(
          p.region,
          coordinatorRegionOf(setup),
          setup.acceptorRegions,
          setup.quorum.accept,
        );
        expect(p.median).toBeGreaterThanOrEqual(bound);
        medians.set(slots, p.median);
      }
      // At 4 arrivals per quorum RTT a lone round in flight queues every arrival behind the one
      // in flight; with 16 in flight an arrival seldom waits.
      expect(medians.get(16)!).toBeLessThan(medians.get(1)!);
    }
  });
});
