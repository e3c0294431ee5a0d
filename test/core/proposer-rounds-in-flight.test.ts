/**
 * Group rounds in flight at once (`ProposerOptions.roundsInFlightMax`, the coordinator): requests that
 * arrive while a round flies start rounds of their own while the proposer leads; a round that overtook
 * an earlier slot asks for its outcome once that slot's phase 2 has ended, naming its commit; and when
 * the leadership is lost with rounds in flight, they share one phase 1 and finish in the slots it
 * recovered instead of proposing their values a second time.
 */
import { describe, expect, test } from "vitest";
import { InvariantViolation } from "../../src/core/assert.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import type { AcceptorRequest } from "../../src/core/messages.js";
import { Proposer } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { epoch_ms, proposerCluster } from "./proposer-cluster.js";

const in_flight_max = 4;
const one_context = { requestsShareOneContext: true, roundsInFlightMax: in_flight_max } as const;

function slotOf(outcome: BatchOutcome): number {
  expect(outcome.kind).toBe("applied");
  if (outcome.kind !== "applied") throw new Error("not applied");
  return outcome.receipts[0]!.slot;
}

function isAccept(request: AcceptorRequest): request is Extract<AcceptorRequest, { type: "accept" }> {
  return request.type === "accept";
}

describe("rounds in flight", () => {
  test("requests arriving while rounds fly start rounds of their own, up to the bound, in arrival order", async () => {
    const c = proposerCluster({ options: one_context });
    await c.append(); // warm: phase 1 done
    const boxes: Array<ReturnType<typeof c.start>> = [];
    for (let i = 0; i < 2 * in_flight_max; i++) {
      boxes.push(c.start());
      await c.runFor(1);
    }
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    const slots = boxes.map((b) => {
      expect(b.answer?.ok).toBe(true);
      return slotOf((b.answer as { outcome: BatchOutcome }).outcome);
    });
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(in_flight_max);
    // Arrival order is slot order (requests queued behind a full pipeline share the next round).
    expect(slots).toEqual([...slots].sort((a, b) => a - b));
    expect(new Set(slots).size).toBeGreaterThan(in_flight_max);
    // Rounds of 20 ms each: one at a time, the last would wait behind seven; in flight, far less.
    const last = boxes.at(-1)!.answer!.took_ms;
    expect(last).toBeLessThan(4 * 20);
    expect(c.proposer.stats.phase1_runs).toBe(1);
  });

  test("the window closes when rounds slow down: then a burst flies one round at a time", async () => {
    const c = proposerCluster({ options: one_context });
    const staggered = async (count: number) => {
      const boxes: Array<ReturnType<typeof c.start>> = [];
      for (let i = 0; i < count; i++) {
        boxes.push(c.start());
        await c.runFor(1);
      }
      await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
      for (const b of boxes) expect(b.answer?.ok).toBe(true);
    };
    await c.append();
    for (let i = 0; i < 4; i++) await c.append(); // the fastest round: one 20 ms round trip
    await staggered(2 * in_flight_max);
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(in_flight_max);
    // Every acceptor six times slower (a busy machine, say): each round now halves the window.
    for (const id of c.ids) c.one_way_ms[id] = 60;
    await staggered(2 * in_flight_max);
    c.proposer.stats.rounds_in_flight_peak = 0;
    await staggered(2 * in_flight_max);
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(1);
    // Fast again: it opens, one step per window's worth of rounds, back to the bound.
    for (const id of c.ids) c.one_way_ms[id] = 10;
    for (let i = 0; i < 40; i++) await c.append();
    c.proposer.stats.rounds_in_flight_peak = 0;
    await staggered(2 * in_flight_max);
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(in_flight_max);
  });

  test("drive loops already running leave when the window closes under a steady stream", async () => {
    const c = proposerCluster({ options: one_context });
    await c.append();
    for (let i = 0; i < 4; i++) await c.append();
    // A request every 2 ms for 600 ms: the drive loops never run out of work.
    const boxes: Array<ReturnType<typeof c.start>> = [];
    const stream = async (ms: number) => {
      for (let t = 0; t < ms; t += 2) {
        boxes.push(c.start());
        await c.runFor(2);
      }
    };
    await stream(100);
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(in_flight_max);
    for (const id of c.ids) c.one_way_ms[id] = 60; // rounds now six times slower
    await stream(300);
    c.proposer.stats.rounds_in_flight_peak = 0;
    await stream(200);
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    for (const b of boxes) expect(b.answer?.ok).toBe(true);
    expect(c.proposer.stats.rounds_in_flight_peak).toBeLessThanOrEqual(2);
  });

  test("one round at a time (the default) never has two in flight", async () => {
    const c = proposerCluster({ options: { requestsShareOneContext: true } });
    await c.append();
    const boxes: Array<ReturnType<typeof c.start>> = [];
    for (let i = 0; i < 2 * in_flight_max; i++) {
      boxes.push(c.start());
      await c.runFor(1);
    }
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    for (const b of boxes) expect(b.answer?.ok).toBe(true);
    expect(c.proposer.stats.rounds_in_flight_peak).toBe(1);
  });

  test("a round that overtook an earlier slot asks for its outcome once that slot is chosen, naming its commit", async () => {
    // c is far: the first round's Accept to a is lost, so its quorum is b and c (100 ms); the second
    // round's is a and b (20 ms), but neither can apply its slot before the first is committed.
    const c = proposerCluster({ options: one_context, one_way_ms: { a: 10, b: 10, c: 50 } });
    await c.append();
    let lostOne = false;
    c.control.route = (to, request) => {
      if (!lostOne && to === "a" && isAccept(request)) {
        lostOne = true;
        return { kind: "lose" };
      }
      return { kind: "deliver" };
    };
    const first = c.start();
    await c.runFor(1);
    const second = c.start();
    await c.runUntil(() => first.answer !== undefined && second.answer !== undefined);
    expect(first.answer?.ok).toBe(true);
    expect(second.answer?.ok).toBe(true);
    const firstSlot = slotOf((first.answer as { outcome: BatchOutcome }).outcome);
    const secondSlot = slotOf((second.answer as { outcome: BatchOutcome }).outcome);
    expect(secondSlot).toBe(firstSlot + 1);
    // Asked after the first slot's phase 2 ended (100 ms after it started), never before.
    const asks = c.sentOf("commit").filter((m) => m.request.outcomeOf === secondSlot);
    expect(asks.length).toBeGreaterThan(0);
    for (const ask of asks) {
      expect(ask.at_ms).toBeGreaterThanOrEqual(
        c.sentOf("accept").find((m) => m.request.slots[0]?.slot === firstSlot)!.at_ms + 100,
      );
      expect(ask.request.commits.map((k) => k.slot)).toContain(firstSlot);
    }
    // The outcome request succeeded the first time: the leadership was kept.
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(c.proposer.isLeader).toBe(true);
  });

  test("rounds in flight that lose the leadership share one phase 1 and finish in the slots it recovered", async () => {
    const c = proposerCluster({ options: one_context });
    await c.append();
    // The acceptors b and c refuse the next three Accepts with a higher ballot (a rival's, never
    // promised for real); a accepts them. Each round fails, its value held by a alone.
    const rival = { round: epoch_ms + 1_000_000, proposerId: "rival" };
    let refused = 0;
    c.control.route = (to, request) => {
      if (isAccept(request) && to !== "a" && refused < 6) {
        refused++;
        return { kind: "answer", reply: { type: "reject", promised: rival } };
      }
      return { kind: "deliver" };
    };
    const boxes: Array<ReturnType<typeof c.start>> = [];
    for (let i = 0; i < 3; i++) {
      boxes.push(c.start());
      await c.runFor(1);
    }
    const firstSlot = c
      .sentOf("accept")
      .filter((m) => m.to === "a")
      .at(-3)!.request.slots[0]!.slot;
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    const slots = boxes.map((b) => {
      expect(b.answer?.ok, String((b.answer as { error?: unknown }).error)).toBe(true);
      const outcome = (b.answer as { outcome: BatchOutcome }).outcome;
      expect(outcome.kind === "applied" && outcome.receipts.every((r) => r.status === "created")).toBe(true);
      return slotOf(outcome);
    });
    // Each finished in the slot it was first proposed in: no value proposed a second time.
    expect(slots).toEqual([firstSlot, firstSlot + 1, firstSlot + 2]);
    expect(c.proposer.stats.phase1_runs).toBe(2);
    expect(c.proposer.stats.phase1_joins).toBeGreaterThan(0);
    // The round that ran the phase 1 proposes its own value with the recovered slots; the two others find theirs.
    expect(c.proposer.stats.recovered_value_matches).toBe(2);
    // The acceptors hold no slot beyond those: every entry once.
    const accepted = new Set(c.sentOf("accept").flatMap((m) => m.request.slots.map((s) => s.slot)));
    expect(Math.max(...accepted)).toBe(firstSlot + 2);
  });

  test("rounds in flight need the one context: a Worker's proposer refuses them", () => {
    const c = proposerCluster();
    expect(() => new Proposer(c.env, { roundsInFlightMax: 2 })).toThrow(InvariantViolation);
    expect(() => new Proposer({ ...c.env, quorum: quorumConfig(3) }, { ...one_context, roundsInFlightMax: 0 })).toThrow(
      InvariantViolation,
    );
  });
});
