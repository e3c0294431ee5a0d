/**
 * Commit latency in the simulator, in units of the quorum RTT. One round trip plus the acceptors'
 * durable write (5 to 13 ms on an 80.5 ms quorum RTT) puts a warm commit a little above 1.0; a cold
 * proposer pays phase 1 first, a little above 2.0; contending proposers must still all finish.
 */
import { describe, expect, test } from "vitest";
import { limits } from "../../src/core/limits.js";
import { latency_setups, measureFailFast, measureLatency } from "./latency.js";

const three = latency_setups[0]!;
const five = latency_setups[1]!;

describe("commit latency (units of the quorum RTT)", () => {
  test("a warm proposer commits in one round trip", async () => {
    for (const setup of [three, five]) {
      const r = await measureLatency(setup, "warm", 200);
      expect(r.failed).toBe(0);
      expect(r.median).toBeGreaterThanOrEqual(1.0);
      expect(r.median).toBeLessThanOrEqual(1.2);
      expect(r.p99).toBeLessThanOrEqual(1.35);
    }
  });

  test("a cold proposer pays one extra round trip for phase 1", async () => {
    const r = await measureLatency(three, "cold", 100);
    expect(r.failed).toBe(0);
    expect(r.median).toBeGreaterThanOrEqual(2.0);
    expect(r.median).toBeLessThanOrEqual(2.4);
  });

  test("four contending proposers all finish (no livelock) within a bounded tail", async () => {
    const r = await measureLatency(three, "contended", 200);
    expect(r.samples + r.failed).toBe(200);
    expect(r.samples).toBeGreaterThanOrEqual(196);
    expect(r.max).toBeLessThan(200);
  });
});

describe("failing fast with acceptors down (time to the answer)", () => {
  test("fewer than an accept quorum left: every request is answered 503, p99 within 1.5 s, warm or cold", async () => {
    for (const setup of [three, five]) {
      const quorumGone = setup.acceptorRegions.length - setup.quorum.accept + 1;
      for (const cold of [false, true]) {
        const r = await measureFailFast(setup, quorumGone, 200, { cold });
        expect(r.samples).toBe(200);
        expect(r.unavailable).toBe(200);
        expect(r.p99_ms).toBeLessThanOrEqual(1500);
        expect(r.max_ms).toBeLessThanOrEqual(limits.quorum_timeout_ms + 2 * limits.driver_takeover_poll_ms);
      }
    }
  });

  test("one acceptor down: every request commits, none slower than one quorum timeout", async () => {
    for (const setup of [three, five]) {
      for (const cold of [false, true]) {
        const r = await measureFailFast(setup, 1, 200, { cold });
        expect(r.committed).toBe(200);
        expect(r.max_ms).toBeLessThanOrEqual(limits.quorum_timeout_ms);
      }
    }
  });
});
