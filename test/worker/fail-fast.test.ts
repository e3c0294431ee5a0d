/**
 * Failing fast under the real Worker and Durable Objects: with fewer than a quorum of regions
 * reachable (fault injection: regions down, or every message lost), an append is answered
 * `503 quorum_unavailable` within the bounds that `limits` gives, with one clear message; the
 * client's `X-Deadline-Ms` caps the server's time; a bad one is 400. Bounds come from `limits` and
 * from the round trip measured here before the faults, never from fixed sleeps.
 */
import { afterEach, describe, expect, test } from "vitest";
import { limits } from "../../src/core/limits.js";
import { setFaults } from "./cluster.js";
import { call, type ErrorBody, expectApiError, fill, ledgerPath, post, uniqueLedger } from "./http.js";

afterEach(async () => {
  await setFaults({});
});

/** Appends one entry; returns the response and how long it took. */
async function timedAppend(ledger: string, id: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await call("POST", ledgerPath(ledger, "entries"), { body: fill(id), headers });
  return { res, took_ms: performance.now() - started };
}

/** A healthy append's time on this machine (the slowest of a few), after a warm-up: the margin unit. */
async function measuredRoundTrip_ms(ledger: string): Promise<number> {
  expect((await post(ledgerPath(ledger, "entries"), fill("warm-0"))).status).toBe(201);
  let slowest = 0;
  for (let i = 1; i <= 3; i++) {
    const { res, took_ms } = await timedAppend(ledger, `warm-${i}`);
    expect(res.status).toBe(201);
    slowest = Math.max(slowest, took_ms);
  }
  return slowest;
}

/** An append's 503: outcome unknown; `proposed` as given (false: this request was refused before it was sent). */
function expectAppendUnavailable(res: Awaited<ReturnType<typeof call>>, proposed?: boolean): ErrorBody {
  const body = expectApiError(res, 503, "quorum_unavailable");
  expect(res.headers.get("retry-after")).toBe("1");
  const details = body.error.details as { outcome?: string; proposed?: boolean } | undefined;
  expect(details?.outcome).toBe("unknown");
  expect(typeof details?.proposed).toBe("boolean");
  if (proposed !== undefined) expect(details?.proposed).toBe(proposed);
  const message = body.error.message;
  // Said once, not twice; and never a replica count that did not happen.
  expect(message.match(/outcome is unknown/gi)?.length ?? 0).toBeLessThanOrEqual(1);
  expect(message).not.toMatch(/replicas answered/);
  return body;
}

describe("append fails fast when a quorum is gone", () => {
  test("two of three regions down: 503 at once (one round trip), with a message naming them", async () => {
    const ledger = uniqueLedger("ff-down");
    const rtt_ms = await measuredRoundTrip_ms(ledger);
    await setFaults({ down: ["wnam", "weur"] });
    for (let i = 0; i < 5; i++) {
      const { res, took_ms } = await timedAppend(ledger, `d-${i}`);
      // Each was proposed (its first attempt always runs: a region that failed may be back), and
      // not retried once that attempt failed.
      const body = expectAppendUnavailable(res, true);
      expect(body.error.message).toMatch(/1 of 3 acceptors reachable, 2 needed/);
      expect(body.error.message).toMatch(/wnam failed/);
      // Before: 3.7 to 9.1 s (12 attempts with backoff).
      expect(took_ms).toBeLessThanOrEqual(limits.quorum_timeout_floor_ms + 4 * rtt_ms);
    }
  });

  test("every message lost: each 503 within one quorum timeout, p99 within 1.5 s; commits resume after the heal", async () => {
    const ledger = uniqueLedger("ff-drop");
    const rtt_ms = await measuredRoundTrip_ms(ledger);
    await setFaults({ drop_rate: 1 });
    const took: number[] = [];
    for (let i = 0; i < 8; i++) {
      const { res, took_ms } = await timedAppend(ledger, `l-${i}`);
      expectAppendUnavailable(res);
      took.push(took_ms);
    }
    took.sort((a, b) => a - b);
    // Before: 25 s. The bound: one quorum timeout at its cap, plus the round trips around it.
    expect(took.at(-1)!).toBeLessThanOrEqual(limits.quorum_timeout_ms + 4 * rtt_ms);
    expect(took.at(-1)!).toBeLessThanOrEqual(1500);
    await setFaults({});
    // Healed: the failure memory expires, then an append commits. Waits for the condition, bounded.
    const healed_by = performance.now() + limits.acceptor_failure_memory_ms + limits.commit_deadline_ms + 20 * rtt_ms;
    let status = 0;
    for (let i = 0; status !== 201 && performance.now() < healed_by; i++) {
      status = (await timedAppend(ledger, `h-${i}`)).res.status;
      if (status !== 201) expect(status).toBe(503);
    }
    expect(status).toBe(201);
  });

  test("one region down: appends commit, none slower than one quorum timeout", async () => {
    const ledger = uniqueLedger("ff-one");
    const rtt_ms = await measuredRoundTrip_ms(ledger);
    await setFaults({ down: ["weur"] });
    for (let i = 0; i < 5; i++) {
      const { res, took_ms } = await timedAppend(ledger, `o-${i}`);
      expect(res.status, res.text).toBe(201);
      expect(took_ms).toBeLessThanOrEqual(limits.quorum_timeout_ms + 4 * rtt_ms);
    }
  });

  test("X-Deadline-Ms caps the server's time; out of bounds or not a number is 400 and changes nothing", async () => {
    const ledger = uniqueLedger("ff-deadline");
    const rtt_ms = await measuredRoundTrip_ms(ledger);
    await setFaults({ drop_rate: 1 });
    const asked_ms = 100;
    const { res, took_ms } = await timedAppend(ledger, "x-1", { "x-deadline-ms": String(asked_ms) });
    expectAppendUnavailable(res);
    expect(took_ms).toBeGreaterThanOrEqual(asked_ms);
    expect(took_ms).toBeLessThanOrEqual(asked_ms + limits.driver_takeover_poll_ms + 4 * rtt_ms);
    await setFaults({});
    for (const bad of [
      "abc",
      "-5",
      "1.5",
      String(limits.append_deadline_header_ms_min - 1),
      String(limits.append_deadline_header_ms_max + 1),
      "",
    ]) {
      const r = await timedAppend(ledger, `bad-${bad}`, { "x-deadline-ms": bad });
      const body = expectApiError(r.res, 400, "invalid_request");
      expect(body.error.message).toMatch(/X-Deadline-Ms/);
    }
    const head = await call("GET", ledgerPath(ledger, "head"));
    expect(head.status).toBe(200);
    expect((head.json as { seq: number }).seq).toBe(4); // the warm-up only: nothing bad was applied
    // Within bounds and healthy: committed as usual.
    const ok = await timedAppend(ledger, "x-ok", { "x-deadline-ms": String(limits.append_deadline_header_ms_max) });
    expect(ok.res.status, ok.res.text).toBe(201);
  });
});
