/**
 * What the coordinator's rounds in flight share (`rounds-in-flight.ts`), piece by piece: the one
 * phase 1 and what it recovered, the phase 2s under way by their lowest slot, and the latest chosen
 * slots an outcome request names again. The proposer's use of them is in
 * `proposer-rounds-in-flight.test.ts`.
 */
import { describe, expect, test } from "vitest";
import type { Ballot } from "../../src/core/ballot.js";
import type { SlotOutcome } from "../../src/core/ledger-types.js";
import { deferred } from "../../src/core/proposer/deferred.js";
import { type Recovery, RoundsInFlight } from "../../src/core/proposer/rounds-in-flight.js";
import { appendValue, trade } from "./fixtures.js";

const ballot: Ballot = { round: 7, proposerId: "p" };
const later: Ballot = { round: 8, proposerId: "p" };
const value = (id: string) => appendValue(1, [trade(id)]);
const chosenSlot = (slot: number, id = `t${slot}`) => ({ slot, value: value(id), bytes: 10 });

function recovery(b: Ballot, slots: ReturnType<typeof chosenSlot>[]): Recovery {
  return { ballot: b, slots, chosen: deferred<Map<number, SlotOutcome>>() };
}

/** Whether `p` has settled once every pending microtask has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe("rounds in flight, shared state", () => {
  test("one phase 1 runs at a time, and what it recovered is published before it resolves", async () => {
    const r = new RoundsInFlight(64);
    expect(r.runningPhase1).toBeUndefined();
    const gate = deferred<void>();
    const first = r.runPhase1(async () => {
      await gate.promise;
      return recovery(ballot, [chosenSlot(3, "mine")]);
    });
    const running = r.runningPhase1;
    expect(running).toBeDefined();
    gate.resolve();
    await running;
    // A round that waited for it finds its value recovered in slot 3, under that ballot only.
    expect(r.recoveredSlotOf(ballot, value("mine"))?.slot).toBe(3);
    expect(r.recoveredSlotOf(later, value("mine"))).toBeUndefined();
    expect(r.recoveredSlotOf(ballot, value("other"))).toBeUndefined();
    await first;
    expect(r.runningPhase1).toBeUndefined();
  });

  test("before any phase 1 nothing is recovered", () => {
    expect(new RoundsInFlight(64).recoveredSlotOf(ballot, value("x"))).toBeUndefined();
  });

  test("a phase 1 that ends does not clear a newer one that started meanwhile", async () => {
    const r = new RoundsInFlight(64);
    const gateA = deferred<void>();
    const gateB = deferred<void>();
    const a = r.runPhase1(async () => {
      await gateA.promise;
      return recovery(ballot, []);
    });
    const b = r.runPhase1(async () => {
      await gateB.promise;
      return recovery(later, []);
    });
    const runningB = r.runningPhase1;
    gateA.resolve();
    await a;
    expect(r.runningPhase1).toBe(runningB);
    gateB.resolve();
    await b;
    expect(r.runningPhase1).toBeUndefined();
  });

  test("an outcome waits for the phase 2s holding a lower slot only", async () => {
    const r = new RoundsInFlight(64);
    const endLow = r.phase2Started([chosenSlot(6), chosenSlot(5)]); // lowest slot 5
    const endSame = r.phase2Started([chosenSlot(7)]);
    const endHigh = r.phase2Started([chosenSlot(9)]);
    const forSeven = r.earlierPhase2sEnded(7);
    expect(await settled(forSeven)).toBe(false);
    // Slot 7's own phase 2 and the later one still run: they do not hold it back.
    endLow();
    expect(await settled(forSeven)).toBe(true);
    endSame();
    endHigh();
    // Its lowest slot counts, not its highest: slot 6 waits for the phase 2 of 5 and 6.
    const endAgain = r.phase2Started([chosenSlot(5), chosenSlot(8)]);
    expect(await settled(r.earlierPhase2sEnded(6))).toBe(false);
    endAgain();
    expect(await settled(r.earlierPhase2sEnded(6))).toBe(true);
  });

  test("an outcome request names the latest chosen slots up to its own, not those carried, within room", () => {
    const r = new RoundsInFlight(4);
    r.chosen([chosenSlot(1), chosenSlot(2), chosenSlot(3)], ballot);
    r.chosen([chosenSlot(4), chosenSlot(5), chosenSlot(6)], later);
    // Only the last 4 are kept: 3, 4, 5, 6.
    expect(r.commitsUpTo(10, [], 10).map((c) => c.slot)).toEqual([3, 4, 5, 6]);
    expect(r.commitsUpTo(5, [], 10).map((c) => c.slot)).toEqual([3, 4, 5]);
    expect(r.commitsUpTo(5, [{ slot: 4, ballot: later }], 10).map((c) => c.slot)).toEqual([3, 5]);
    // The latest first when room is short; none without room.
    expect(r.commitsUpTo(6, [], 2).map((c) => c.slot)).toEqual([5, 6]);
    expect(r.commitsUpTo(6, [], 0)).toEqual([]);
    // Each names the ballot its slot was chosen at.
    expect(r.commitsUpTo(4, [], 10)).toEqual([
      { slot: 3, ballot },
      { slot: 4, ballot: later },
    ]);
  });
});
