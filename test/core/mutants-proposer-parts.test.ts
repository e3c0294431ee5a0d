/**
 * The seams the proposer's split made (src/core/proposer/): what a quorum call, one acceptor's commit
 * debt and the proposer's latency table do at their edges, pinned through their own APIs (and one
 * through a production `Proposer` in `proposerCluster`). Each test names the mutants of the Stryker
 * run after the split that it kills; the other survivors and their triage: docs/mutation-triage.md.
 */
import { describe, expect, test } from "vitest";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import type { AcceptorReply, CommitItem } from "../../src/core/messages.js";
import { CommitDebt, CommitDebts, type OwedCommits } from "../../src/core/proposer/commit-debt.js";
import {
  callQuorum,
  type QuorumCall,
  type QuorumCallEnv,
  type QuorumResult,
  type Unacknowledged,
} from "../../src/core/proposer/quorum-call.js";
import { Timers } from "../../src/core/proposer/timers.js";
import { World } from "../sim/world.js";
import { proposerCluster } from "./proposer-cluster.js";

const ballot = { round: 3, proposerId: "p" };
const accepted: AcceptorReply = { type: "accepted", ballot, slots: [], chosenThrough: 0, outcomes: [] };
const isAccepted = (r: AcceptorReply): r is AcceptorReply => r.type === "accepted";

/** How each acceptor answers a scripted quorum call: after `after_ms`, ok or failed; `never`: silent. */
type Script = Readonly<Record<string, { readonly after_ms: number; readonly ok: boolean } | "never">>;

/** One `callQuorum` in virtual time, over scripted acceptors, with everything its env is told recorded. */
function scriptedCall(script: Script, call: Partial<QuorumCall<AcceptorReply>>) {
  const world = new World();
  const keptAlive: Array<Promise<unknown>> = [];
  const timers = new Timers({ sleep: (ms) => world.sleep(ms), keepAlive: (w) => keptAlive.push(w) });
  const sends: Array<[number, string]> = [];
  const unacknowledged: Array<[number, string, Unacknowledged]> = [];
  let escalations = 0;
  const env: QuorumCallEnv = {
    timers,
    now_ms: () => world.now_ms,
    send: (id) => {
      sends.push([world.now_ms, id]);
      const fate = script[id] ?? "never";
      return new Promise((resolve, reject) => {
        if (fate === "never") return;
        world.schedule(fate.after_ms, () => (fate.ok ? resolve(accepted) : reject(new Error(`${id} failed`))));
      });
    },
    sent: () => {},
    answered: () => {},
    callFailed: () => {},
    unacknowledged: (id, what) => unacknowledged.push([world.now_ms, id, what]),
    silentThroughTimeout: () => {},
    escalated: () => escalations++,
    quorumRoundTrip: () => {},
  };
  const box: { result?: QuorumResult<AcceptorReply>; at_ms?: number } = {};
  void callQuorum<AcceptorReply>(
    {
      acceptorIds: ["a", "b", "c"],
      targets: ["a", "b"],
      escalate_after_ms: 50,
      need: 2,
      isOk: isAccepted,
      requestFor: () => ({ type: "commit", commits: [] }),
      timeout_ms: 100,
      full_timeout_ms: 100,
      ...call,
    },
    env,
  ).then((result) => {
    box.result = result;
    box.at_ms = world.now_ms;
  });
  return { world, box, sends, unacknowledged, keptAlive, escalations: () => escalations };
}

describe("callQuorum at its edges (quorum-call.ts)", () => {
  test("a thrifty call that carries no commits hands no timer to waitUntil", async () => {
    // Kills 68:76 (the thrifty_escalation timer kept alive).
    const s = scriptedCall({ a: { after_ms: 10, ok: true }, b: { after_ms: 10, ok: true } }, {});
    await s.world.run(1000, 100);
    expect(s.box.result?.ok).toBe(true);
    expect(s.keptAlive).toEqual([]);
  });

  test("targets escalate once: a second failure after the escalation sends nothing more", async () => {
    // Kills 77:19 (`escalated = true` to false: the second failure escalated again, sending to c twice).
    const s = scriptedCall({ a: { after_ms: 5, ok: false }, b: { after_ms: 8, ok: false }, c: "never" }, {});
    await s.world.run(1000, 100);
    expect(s.sends).toEqual([
      [0, "a"],
      [0, "b"],
      [5, "c"],
    ]);
    expect(s.escalations()).toBe(1);
    expect(s.box).toEqual({ result: { ok: false, replies: [] }, at_ms: 8 });
  });

  test("a call its wait ended before the escalation: a target failing later brings in no one", async () => {
    // Kills 76:11 (`escalated || settled` to false and to `&&`: the settled call escalated after the fact).
    const s = scriptedCall(
      { a: { after_ms: 80, ok: false }, b: "never", c: "never" },
      {
        escalate_after_ms: 200,
        timeout_ms: 60,
      },
    );
    await s.world.run(1000, 100);
    expect(s.box).toEqual({ result: { ok: false, replies: [] }, at_ms: 60 });
    expect(s.sends).toEqual([
      [0, "a"],
      [0, "b"],
    ]);
    expect(s.escalations()).toBe(0);
  });

  test("commits carried to an acceptor silent when the wait ends: reported, the request not refused", async () => {
    // Kills 134:84 (`requestNotTaken: false` to true at the wait's end).
    const item: CommitItem = { slot: 1, ballot };
    const carried: OwedCommits = { items: [item], itemBytes: [0], returned: [false] };
    const s = scriptedCall(
      { a: { after_ms: 10, ok: true }, b: { after_ms: 10, ok: true }, c: "never" },
      { targets: undefined, takeCarried: (id) => (id === "c" ? carried : undefined) },
    );
    await s.world.run(1000, 100);
    expect(s.box.result?.ok).toBe(true);
    expect(s.unacknowledged).toEqual([[100, "c", { commits: carried, requestNotTaken: false }]]);
    expect(s.keptAlive).toHaveLength(1); // the wait, which still had commits to report
  });
});

describe("an Accept unanswered at the wait's end (acceptor-calls.ts, proposer.ts)", () => {
  test("its acceptor is owed the commits it carried again, not the values of the slot it may hold", async () => {
    // Kills acceptor-calls.ts 120:13 (`what.requestNotTaken` to true) and quorum-call.ts 134:84: with
    // either, phase 2 took the silent acceptor for one that refused and owed it slot 2's value.
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true);
    c.control.route = (to, request) =>
      request.type === "accept" && to === "c" ? { kind: "lose" } : { kind: "deliver" };
    const accept_ms = c.world.now_ms;
    expect((await c.append()).ok).toBe(true);
    c.control.route = () => ({ kind: "deliver" });
    await c.runFor(3 * limits.quorum_timeout_ms);
    const commitsToC = c
      .sentOf("commit", "c")
      .filter((m) => m.at_ms > accept_ms)
      .map((m) => m.request.commits.map((k) => [k.slot, k.value === undefined ? "bare" : "value"]));
    expect(commitsToC).toEqual([[[2, "bare"]], [[1, "bare"]]]);
  });
});

describe("CommitDebt at its edges (commit-debt.ts)", () => {
  const small: CoreLimits = { ...limits, owed_commit_slots_max: 3, owed_commit_linger_ms: 50 };

  test("a lone Commit whose wait ended and whose call then failed is owed again once, not twice", async () => {
    // Kills 105:11 (`if (settled) return` dropped) and 106:17 (`settled = true` to false in `lost`).
    const world = new World();
    const timers = new Timers({ sleep: (ms) => world.sleep(ms), keepAlive: () => {} });
    const sent: number[] = [];
    const debt = new CommitDebt(
      "a",
      small,
      timers.timer("owed_commit_linger", { keptAlive: true }),
      () => sent.push(world.now_ms),
      undefined,
    );
    debt.owe({ slot: 1, ballot }, 0);
    const late_failure_ms = small.quorum_timeout_ms + 2 * small.owed_commit_linger_ms;
    const reply = new Promise((_, reject) => world.schedule(late_failure_ms, () => reject(new Error("late"))));
    debt.watchDelivery(debt.take()!, reply, timers.timer("commit_delivery", { keptAlive: true }));
    await world.run(10 * small.quorum_timeout_ms, 100);
    expect(sent).toEqual([small.quorum_timeout_ms + small.owed_commit_linger_ms]);
  });

  test("the debts are those of the acceptors named; any other id is refused", () => {
    // Kills 152:12 and 152:32 (the `a debt per acceptor` assert and its message).
    const timers = new Timers({ sleep: () => new Promise(() => {}), keepAlive: () => {} });
    const debts = new CommitDebts(["a", "b"], small, timers, () => {}, undefined);
    expect(debts.of("b").acceptorId).toBe("b");
    expect(() => debts.of("z")).toThrow("a debt per acceptor");
  });
});

describe("the proposer's latency table (proposer.ts)", () => {
  test("is the one its calls measure into, shared with the read path", async () => {
    // Kills 114:33 (the `latency` getter's body; no coverage before).
    const c = proposerCluster({ one_way_ms: { a: 10, b: 20, c: 30 } });
    expect((await c.append()).ok).toBe(true);
    expect(c.proposer.latency.latency_ms("a")).toBe(20);
    expect(c.proposer.latency.nearestFirst(["c", "b", "a"])).toEqual(["a", "b", "c"]);
  });
});
