/**
 * The Mencius-style windows prototype (`mencius.ts`): its safety self-check catches two owners of
 * one window and acknowledgements before their prefix was chosen, every request of 1, 4 and 8 proposers is acknowledged safely, and the 4-region
 * latencies sit between two bounds computed from the RTT table alone.
 */
import { describe, expect, test } from "vitest";
import { durable_write_ms, nthNearestRtt_ms, type RegionHint, regionRtt_ms } from "../../../src/core/region-rtt.js";
import { contention_mixes } from "../contention.js";
import { latency_setups } from "../latency.js";
import { measurePrototype } from "./harness.js";
import {
  type MenciusOptions,
  mencius_revocation_timeout_ms,
  menciusPrototype,
  menciusPrototypeWith,
  menciusRegionalOwnersWith,
} from "./mencius.js";

const three = latency_setups[0]!;
const five = latency_setups[1]!;
const fourRegions = contention_mixes[2]!;
const sabotage_seeds = 40;

describe("Mencius-style windows prototype", () => {
  test("the safety check catches two owners of one window and acks before their prefix; the model passes the same seeds", async () => {
    const run = (seed: number, options: MenciusOptions) =>
      measurePrototype("mencius", menciusPrototypeWith(options), three, {
        proposerRegions: fourRegions,
        requests_per_proposer: 20,
        seed,
      });
    /** The first seed in 1..`sabotage_seeds` whose run throws a safety error matching `error`. */
    const caughtOn = async (options: MenciusOptions, error: RegExp) => {
      for (let seed = 1; seed <= sabotage_seeds; seed++) {
        if (
          await run(seed, options).then(
            () => false,
            (e: Error) => error.test(e.message),
          )
        )
          return seed;
      }
      return undefined;
    };
    expect(await caughtOn({ overlappingOwners: true }, /mencius safety/)).toBeDefined();
    // The check that sees an early acknowledgement, not some other one.
    expect(
      await caughtOn({ ackBeforePrefix: true }, /mencius safety: .* acknowledged at .* not yet chosen/),
    ).toBeDefined();
    for (let seed = 1; seed <= sabotage_seeds; seed++) {
      const r = await run(seed, {});
      expect(r.proposers.every((p) => p.failed === 0 && p.samples === p.requests)).toBe(true);
    }
  });

  test("one proposer alone, and 4 and 8 proposers in 4 regions, on both clusters: 0 failed, safe", async () => {
    for (const setup of [three, five]) {
      for (const mix of [contention_mixes[0]!, fourRegions, contention_mixes[3]!]) {
        const r = await measurePrototype("mencius", menciusPrototype, setup, { proposerRegions: mix, seed: 1 });
        expect(r.finished).toBe(true);
        for (const p of r.proposers) {
          expect(p.failed).toBe(0);
          expect(p.samples).toBe(p.requests);
        }
        // One owner alone never skips; with several, someone does. Nobody vanishes, so nobody revokes.
        expect(r.stats.skipped_slots === 0).toBe(mix.length === 1);
        expect(r.stats.revocations).toBe(0);
      }
    }
  });

  test("an owner that vanishes is revoked: the others stall about one revocation timeout, then run on", async () => {
    const vanished = 3; // apac, the farthest owner
    const r = await measurePrototype(
      "mencius",
      menciusPrototypeWith({ vanishing: { proposer: vanished, at_ms: 1000 } }),
      three,
      { proposerRegions: fourRegions, requests_per_proposer: 100, seed: 1 },
    );
    expect(r.stats.revocations).toBeGreaterThanOrEqual(1);
    expect(r.proposers[vanished]!.failed).toBeGreaterThan(0);
    const others = r.proposers.filter((_, i) => i !== vanished);
    /** Every RTT between two of the run's regions is at most this (apac-weur). */
    const rtt_max = Math.max(...fourRegions.flatMap((a) => fourRegions.map((b) => regionRtt_ms(a, b))));
    for (const p of others) {
      expect(p.failed).toBe(0);
      // The timeout (drawn up to half again) since the prefix last moved, then phase 1 and phase 2
      // of the revocation and the votes' way to this learner: two round trips at most `rtt_max`
      // each, at worst jitter, and two writes.
      const stall_ms_max = 1.5 * mencius_revocation_timeout_ms + 2 * (1.5 * rtt_max + durable_write_ms.max);
      expect(p.max).toBeLessThanOrEqual(stall_ms_max / p.quorum_rtt_ms);
    }
    // Someone did wait out the timeout: the revocation, not the vanished owner, unblocked the log.
    expect(Math.max(...others.map((p) => p.max * p.quorum_rtt_ms))).toBeGreaterThanOrEqual(
      mencius_revocation_timeout_ms,
    );
  });

  test("revoking live owners (a timeout below the skip gate) stays safe and loses no request", async () => {
    let ownSlotsRevoked = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const r = await measurePrototype("mencius", menciusPrototypeWith({ revocation_timeout_ms: 60 }), three, {
        proposerRegions: contention_mixes[3]!,
        requests_per_proposer: 30,
        arrivals_per_quorum_rtt: 8,
        seed,
      });
      expect(r.proposers.every((p) => p.failed === 0)).toBe(true);
      ownSlotsRevoked += r.stats.own_slots_revoked!;
    }
    // The path where an owner's own slot is filled by someone else's revocation did run.
    expect(ownSlotsRevoked).toBeGreaterThan(0);
  });

  test("a cold isolate cannot become an owner; with forwarding it is a client of the nearest owner", async () => {
    const env = {
      world: undefined as never,
      net: undefined as never,
      acceptorRegions: three.acceptorRegions,
      quorum: three.quorum,
      proposerRegions: fourRegions,
      rng: undefined as never,
    };
    expect(menciusPrototype(env).addProposer).toBeUndefined();
    const forwarding = menciusPrototypeWith({ coldJoinersForward: true });
    const run = { proposerRegions: fourRegions, requests_per_proposer: 100, seed: 1 };
    const pooled_p99 = (ps: readonly { cold: boolean; latencies: readonly number[] }[]) => {
      const all = ps
        .filter((p) => !p.cold)
        .flatMap((p) => p.latencies)
        .sort((a, b) => a - b);
      return all[Math.ceil(0.99 * all.length) - 1]!;
    };
    const without = await measurePrototype("mencius", forwarding, three, run);
    const joiner = { region: "weur", join_ms: 1000, requests: 20 } as const;
    const withJoiner = await measurePrototype("mencius", forwarding, three, { ...run, coldJoiners: [joiner] });
    const cold = withJoiner.proposers.find((p) => p.cold)!;
    expect(cold.failed).toBe(0);
    expect(withJoiner.stats.forwarded).toBe(joiner.requests);
    // Issue #12's target: a cold isolate disturbs the others by at most one quorum RTT at p99.
    expect(pooled_p99(withJoiner.proposers)).toBeLessThanOrEqual(pooled_p99(without.proposers) + 1);
  });

  test("4 regions on 3 acceptors: each median at least one quorum round trip and write, each p99 within the skip gate", async () => {
    const { acceptorRegions, quorum } = three;
    const q = (region: RegionHint) => nthNearestRtt_ms(region, acceptorRegions, quorum.accept);
    /** Message delays at their worst: the harness caps jitter at 50 % of the one-way delay. */
    const hop_max = (a: RegionHint, b: RegionHint) => (regionRtt_ms(a, b) / 2) * 1.5;
    /** The accept-quorum-th earliest arrival at `to` of the votes on a value `from` sends to every acceptor. */
    const votesAt_max = (from: RegionHint, to: RegionHint) =>
      acceptorRegions.map((a) => hop_max(from, a) + durable_write_ms.max + hop_max(a, to)).sort((x, y) => x - y)[
        quorum.accept - 1
      ]!;
    /**
     * The skip gate, from the RTT table: a request proposed at P in slot s is acknowledged once s is
     * chosen (P's own votes) and every slot below s is: another owner O uses or skips its slots
     * below s at the latest when the first vote on s reaches it, and its values there reach P as
     * votes, its skips directly. Every hop at its worst jitter, every write at its longest.
     */
    const gate_max = (p: RegionHint) => {
      const own = votesAt_max(p, p);
      const others = fourRegions
        .filter((o) => o !== p)
        .map((o) => {
          const seen = Math.min(...acceptorRegions.map((a) => hop_max(p, a) + durable_write_ms.max + hop_max(a, o)));
          return seen + Math.max(hop_max(o, p), votesAt_max(o, p));
        });
      return Math.max(own, ...others) / q(p);
    };
    const r = await measurePrototype("mencius", menciusPrototype, three, { proposerRegions: fourRegions, seed: 1 });
    for (const p of r.proposers) {
      expect(p.median).toBeGreaterThanOrEqual((q(p.region) + durable_write_ms.min) / q(p.region));
      expect(p.p99).toBeLessThanOrEqual(gate_max(p.region));
    }
  });
  test("one owner per region: every request is forwarded to its region's owner and pays the hop, safely", async () => {
    for (const setup of [three, five]) {
      const eightInFour = contention_mixes[3]!;
      const r = await measurePrototype("mencius-regional", menciusRegionalOwnersWith(), setup, {
        proposerRegions: eightInFour,
        seed: 1,
      });
      expect(r.finished).toBe(true);
      expect(r.proposers.every((p) => p.failed === 0 && p.samples === p.requests)).toBe(true);
      // Two Workers per region, one owner per region: every request crosses a hop, none is proposed by a Worker.
      expect(r.stats.forwarded).toBe(r.proposers.reduce((k, p) => k + p.requests, 0));
      for (const p of r.proposers) {
        // At least the hop there and back, one accept quorum round trip from the owner and a write.
        const floor_ms =
          regionRtt_ms(p.region, p.region) +
          nthNearestRtt_ms(p.region, setup.acceptorRegions, setup.quorum.accept) +
          durable_write_ms.min;
        expect(p.latencies[0]! * p.quorum_rtt_ms).toBeGreaterThanOrEqual(floor_ms * 0.999);
      }
    }
  });
});
