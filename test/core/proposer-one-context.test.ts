/**
 * The proposer in one I/O context (`ProposerOptions.requestsShareOneContext`, the coordinator Durable
 * Object): waiting requests are woken by the end of a group round, or by their deadline, and never
 * poll on a timer. Under `wrangler dev`, 64 requests polling every 5 ms in one Durable Object delayed
 * its timers by 0.5 to 1.5 s; in a Worker (the default) each request polls in its own context. And
 * the coordinator's other option (`recoveryOutlivesRequests`): as the ledger's sole proposer, a
 * phase 1 it starts is finished even when the requests it started for have reached their deadlines.
 */
import { describe, expect, test } from "vitest";
import { limits } from "../../src/core/limits.js";
import { QuorumUnavailableError } from "../../src/core/proposer/index.js";
import { proposerCluster } from "./proposer-cluster.js";

/** Requests started together: they wait behind one another's group rounds. */
const burst_requests = 8;

function countingSleeps(c: ReturnType<typeof proposerCluster>) {
  const sleeps: number[] = [];
  const sleep = c.world.sleep.bind(c.world);
  c.world.sleep = (ms: number) => {
    sleeps.push(ms);
    return sleep(ms);
  };
  return sleeps;
}

describe("one context", () => {
  test("a burst is answered at its group rounds' ends, with no takeover poll", async () => {
    const c = proposerCluster({ options: { requestsShareOneContext: true } });
    const sleeps = countingSleeps(c);
    await c.append(); // warm: phase 1 done
    const boxes = Array.from({ length: burst_requests }, () => c.start());
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    for (const b of boxes) expect(b.answer?.ok).toBe(true);
    expect(sleeps.filter((ms) => ms === limits.driver_takeover_poll_ms)).toEqual([]);
    // The first drives its own round; the others share the next one and are answered when it ends.
    const took = boxes.map((b) => b.answer!.took_ms);
    expect(new Set(took.slice(1)).size).toBe(1);
  });

  test("the same burst in a Worker (the default) polls", async () => {
    const c = proposerCluster();
    const sleeps = countingSleeps(c);
    await c.append();
    const boxes = Array.from({ length: burst_requests }, () => c.start());
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    expect(sleeps.filter((ms) => ms === limits.driver_takeover_poll_ms).length).toBeGreaterThan(0);
  });

  test("a queued request is answered at its deadline, not proposed, while the round ahead hangs", async () => {
    const c = proposerCluster({ options: { requestsShareOneContext: true } });
    await c.append();
    for (const id of c.ids) c.silent.add(id);
    const ahead = c.start();
    const deadline_ms = 50;
    const queued = c.start(undefined, { deadline_ms });
    await c.runUntil(() => queued.answer !== undefined);
    expect(queued.answer?.ok).toBe(false);
    expect(queued.answer?.took_ms).toBe(deadline_ms);
    const error = (queued.answer as { error: unknown }).error;
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect((error as QuorumUnavailableError).outcomeUnknown).toBe(false);
    expect(ahead.answer).toBeUndefined();
  });

  test("a tenure that ends with requests queued hands over at once", async () => {
    const c = proposerCluster({
      options: { requestsShareOneContext: true },
      limits: { ...limits, driver_rounds_max: 1 },
    });
    const sleeps = countingSleeps(c);
    await c.append();
    const first = c.start();
    await c.runFor(1);
    const later = [c.start(), c.start()];
    await c.runUntil(() => [first, ...later].every((b) => b.answer !== undefined));
    for (const b of [first, ...later]) expect(b.answer?.ok).toBe(true);
    // One round each: the first's tenure ends after it, and a waiter drives the next at once.
    const round_ms = first.answer!.took_ms;
    for (const b of later) expect(b.answer!.took_ms).toBe(2 * round_ms - 1);
    expect(sleeps.filter((ms) => ms === limits.driver_takeover_poll_ms)).toEqual([]);
  });
});

describe("a sole proposer's recovery outlives its requests (recoveryOutlivesRequests)", () => {
  /** A phase 1 and an Accept take 4 one-way delays: far longer than the request's deadline. */
  const one_way_ms = 100;
  const deadline_ms = 50;

  test("the round finishes its phase 1 and commits; the request is answered at its deadline", async () => {
    const c = proposerCluster({
      one_way_ms: { a: one_way_ms, b: one_way_ms, c: one_way_ms },
      options: { recoveryOutlivesRequests: true },
    });
    const first = c.start(undefined, { deadline_ms });
    await c.runUntil(() => first.answer !== undefined);
    expect(first.answer?.ok).toBe(false);
    expect(first.answer?.took_ms).toBe(deadline_ms);
    await c.runFor(4 * one_way_ms + limits.recovery_round_floor_ms);
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(c.proposer.stats.requests_committed).toBe(1);
    // Leadership is kept: the next request commits with one Accept, no phase 1.
    const next = await c.append();
    expect(next.ok).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(1);
  });

  test("without it (a Worker) the phase 1 is cut at the deadline and the next request runs another", async () => {
    const c = proposerCluster({ one_way_ms: { a: one_way_ms, b: one_way_ms, c: one_way_ms } });
    const first = c.start(undefined, { deadline_ms });
    await c.runUntil(() => first.answer !== undefined);
    await c.runFor(4 * one_way_ms + limits.recovery_round_floor_ms);
    expect(c.proposer.stats.requests_committed).toBe(0);
    const next = await c.append();
    expect(next.ok).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(2);
  });
});

describe("one context, the edges", () => {
  test("requests with no subrequests left wait for their deadline without spinning", async () => {
    const waiters = 32;
    const deadline_ms = 1000;
    const c = proposerCluster({ options: { requestsShareOneContext: true }, subrequestsLeft: () => 0 });
    const boxes = Array.from({ length: waiters }, () => c.start(undefined, { deadline_ms }));
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    for (const b of boxes) {
      expect(b.answer?.ok).toBe(false);
      expect(b.answer?.took_ms).toBe(deadline_ms);
    }
    // Each tried to drive once at most: no tenure after tenure with nothing between.
    expect(c.proposer.stats.budget_handovers).toBeLessThanOrEqual(waiters);
  });

  test("recoveries queued together run one phase 1", async () => {
    const c = proposerCluster({ options: { requestsShareOneContext: true } });
    await c.append();
    const before = c.proposer.stats.phase1_runs;
    // One append in flight, so that the recoveries queue behind it together.
    const inFlight = c.start();
    const synced: boolean[] = [];
    for (let i = 0; i < 5; i++) void c.proposer.sync().then(() => synced.push(true));
    await c.runUntil(() => synced.length === 5 && inFlight.answer !== undefined);
    expect(synced).toHaveLength(5);
    expect(c.proposer.stats.phase1_runs - before).toBe(1);
  });
});
