/**
 * Bounds for the worker tests' waits, derived from the round trips this machine measures instead of
 * fixed: a CI machine with every core busy runs the same protocol many times slower than an idle
 * laptop, and a wait that is right for one is a flake on the other. A test measures once
 * (`measureRoundTrip`) and sizes its waits from that figure and the protocol's own timers.
 */
import { expect } from "vitest";
import { callJson } from "./cluster.js";
import { uniqueLedger } from "./http.js";

/** Status calls timed to measure the local round trip (each probes every acceptor once). */
const round_trip_samples = 5;

/**
 * The protocol timers a converging replica may have to wait out: the acceptor's alarm for an
 * accepted-but-unchosen slot (2 s, `unchosen_alarm_ms` in src/acceptor/ledger-acceptor.ts) twice
 * (one alarm may fire while its peers are still behind), plus the proposer's quorum timeout after
 * which unacknowledged commits are owed again (1.5 s, `quorum_timeout_ms`).
 */
const protocol_timers_ms = 2 * 2000 + 1500;

/** Round trips a convergence may take on top of its timers: catch-up pages, probes, re-sent commits. */
const convergence_round_trips = 60;

/** No wait is shorter than the fixed figure these tests used before (their floor on an idle machine). */
const convergence_floor_ms = 15_000;

/** Nor longer than this: the worker project's test timeout (vitest.config.ts) must still hold it. */
const convergence_ceiling_ms = 45_000;

/**
 * The slowest of a few status round trips (Worker -> every acceptor -> Worker) on a ledger of its
 * own: the slowest, since a busy machine's stalls are what the waits must survive.
 */
export async function measureRoundTrip_ms(): Promise<number> {
  const ledger = uniqueLedger("rtt-probe");
  let slowest_ms = 0;
  for (let i = 0; i < round_trip_samples; i++) {
    const started = performance.now();
    const res = await callJson("GET", `/v1/ledgers/${ledger}/status`);
    expect(res.status, res.text).toBe(200);
    slowest_ms = Math.max(slowest_ms, performance.now() - started);
  }
  return slowest_ms;
}

/** How long to wait for the replicas of a ledger to converge after the last write or heal. */
export function convergenceTimeout_ms(roundTrip_ms: number): number {
  const derived = protocol_timers_ms + convergence_round_trips * roundTrip_ms;
  return Math.min(convergence_ceiling_ms, Math.max(convergence_floor_ms, Math.ceil(derived)));
}
