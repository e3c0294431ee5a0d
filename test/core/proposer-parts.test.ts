/**
 * The pieces the proposer is built of, each on its own (src/core/proposer/): the latency tracker the
 * read path shares, the named timers, one acceptor's commit debt, and the takeover-poll bound. The
 * proposer's behaviour through them is pinned by the other proposer-* and mutants-proposer-* tests.
 */
import { describe, expect, test } from "vitest";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import { CommitDebt, type OwedCommits } from "../../src/core/proposer/commit-debt.js";
import { LatencyTracker, movingAverage } from "../../src/core/proposer/latency-tracker.js";
import { Timers } from "../../src/core/proposer/timers.js";
import { World } from "../sim/world.js";

describe("LatencyTracker", () => {
  test("a moving average of 0.8 x before + 0.2 x the sample; the first sample as is", () => {
    expect(movingAverage(undefined, 50)).toBe(50);
    expect(movingAverage(100, 50)).toBe(0.8 * 100 + 0.2 * 50);
    const t = new LatencyTracker();
    t.note("a", 100);
    t.note("a", 50);
    expect(t.latency_ms("a")).toBe(90);
    expect(t.latency_ms("b")).toBeUndefined();
  });

  test("nearest first; the unmeasured last; ties in the given order", () => {
    const t = new LatencyTracker();
    t.note("c", 10);
    t.note("a", 30);
    t.note("d", 10);
    expect(t.nearestFirst(["a", "b", "c", "d", "e"])).toEqual(["c", "d", "a", "b", "e"]);
  });

  test("the nearest few only once that many are measured", () => {
    const t = new LatencyTracker();
    t.note("b", 20);
    expect(t.nearest(["a", "b", "c"], 2)).toBeUndefined();
    t.note("c", 5);
    expect(t.nearest(["a", "b", "c"], 2)).toEqual(["c", "b"]);
  });
});

function timersIn(world: World) {
  const keptAlive: Array<Promise<unknown>> = [];
  const timers = new Timers({ sleep: (ms) => world.sleep(ms), keepAlive: (w) => keptAlive.push(w) });
  return { timers, keptAlive };
}

describe("Timer", () => {
  test("fires once after its delay; handed to keepAlive only when kept alive", async () => {
    const world = new World();
    const { timers, keptAlive } = timersIn(world);
    const fired: number[] = [];
    timers.timer("commit_linger", { keptAlive: true }).start(10, () => fired.push(world.now_ms));
    timers.timer("thrifty_escalation", { keptAlive: false }).start(20, () => fired.push(world.now_ms));
    await world.run(100, 100);
    expect(fired).toEqual([10, 20]);
    expect(keptAlive).toHaveLength(1);
  });

  test("a restart drops the pending run; a cancel drops it too", async () => {
    const world = new World();
    const { timers } = timersIn(world);
    const fired: string[] = [];
    const linger = timers.timer("owed_commit_linger", { keptAlive: true });
    linger.start(50, () => fired.push("first"));
    world.schedule(30, () => linger.start(50, () => fired.push(`restarted at 30, fired at ${world.now_ms}`)));
    const other = timers.timer("commit_delivery", { keptAlive: true });
    other.start(40, () => fired.push("cancelled"));
    expect(other.running).toBe(true);
    other.cancel();
    expect(other.running).toBe(false);
    await world.run(200, 100);
    expect(fired).toEqual(["restarted at 30, fired at 80"]);
    expect(linger.running).toBe(false);
  });
});

describe("CommitDebt", () => {
  const small: CoreLimits = { ...limits, owed_commit_slots_max: 3, owed_commit_linger_ms: 50 };
  const ballot = { round: 7, proposerId: "p" };

  function debtIn(world: World, sabotage?: "lost_commits_never_resent") {
    const { timers } = timersIn(world);
    const sent: Array<{ at_ms: number; owed: OwedCommits }> = [];
    const debt = new CommitDebt(
      "a",
      small,
      timers.timer("owed_commit_linger", { keptAlive: true }),
      (owed) => sent.push({ at_ms: world.now_ms, owed }),
      sabotage,
    );
    return { debt, sent, timers };
  }

  test("goes out alone when no slot was added for the linger, or at once when full", async () => {
    const world = new World();
    const { debt, sent } = debtIn(world);
    debt.owe({ slot: 1, ballot }, 0);
    world.schedule(30, () => debt.owe({ slot: 2, ballot }, 0));
    await world.run(1000, 100);
    expect(sent.map((s) => [s.at_ms, s.owed.items.map((i) => i.slot)])).toEqual([[80, [1, 2]]]);
    for (const slot of [3, 4, 5]) debt.owe({ slot, ballot }, 0);
    expect(sent.at(-1)?.owed.items.map((i) => i.slot)).toEqual([3, 4, 5]);
  });

  test("taken by the next message: nothing left, no Commit of its own", async () => {
    const world = new World();
    const { debt, sent } = debtIn(world);
    debt.owe({ slot: 1, ballot }, 0);
    expect(debt.take()?.items).toEqual([{ slot: 1, ballot }]);
    expect(debt.take()).toBeUndefined();
    await world.run(1000, 100);
    expect(sent).toEqual([]);
  });

  test("a value replaces a bare commit of the slot; a bare one never replaces a value", () => {
    const world = new World();
    const { debt } = debtIn(world);
    const value = { kind: "noop" } as const;
    debt.owe({ slot: 1, ballot }, 0);
    debt.owe({ slot: 1, ballot, value }, 10);
    debt.owe({ slot: 1, ballot }, 0);
    expect(debt.take()).toEqual({ items: [{ slot: 1, ballot, value }], itemBytes: [10], returned: [false] });
  });

  test("what a message did not get acknowledged comes back once, not twice", () => {
    const world = new World();
    const { debt } = debtIn(world);
    debt.owe({ slot: 1, ballot }, 0);
    const first = debt.take()!;
    debt.returnUnacknowledged(first);
    const again = debt.take()!;
    expect(again.items).toEqual(first.items);
    expect(again.returned).toEqual([true]);
    debt.returnUnacknowledged(again);
    expect(debt.take()).toBeUndefined();
  });

  test("a lone Commit: owed again when its call fails or it is not answered within quorum_timeout_ms", async () => {
    const world = new World();
    const { debt, timers } = debtIn(world);
    debt.owe({ slot: 1, ballot }, 0);
    debt.watchDelivery(
      debt.take()!,
      Promise.reject(new Error("down")),
      timers.timer("commit_delivery", { keptAlive: true }),
    );
    await world.run(1, 10);
    expect(debt.take()?.items.map((i) => i.slot)).toEqual([1]);
    debt.owe({ slot: 2, ballot }, 0);
    debt.watchDelivery(debt.take()!, new Promise(() => {}), timers.timer("commit_delivery", { keptAlive: true }));
    await world.run(world.now_ms + small.quorum_timeout_ms - 1, 100);
    expect(debt.take()).toBeUndefined();
    await world.run(world.now_ms + 1, 100);
    expect(debt.take()?.items.map((i) => i.slot)).toEqual([2]);
    debt.owe({ slot: 3, ballot }, 0);
    debt.watchDelivery(debt.take()!, Promise.resolve("ok"), timers.timer("commit_delivery", { keptAlive: true }));
    await world.run(world.now_ms + 2 * small.quorum_timeout_ms, 100);
    expect(debt.take()).toBeUndefined();
  });
});
