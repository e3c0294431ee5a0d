/**
 * Cases for mutants of src/core/acceptor.ts that survived `npm run mutate` (docs/mutation-triage.md),
 * against the acceptor's public API (`handle`, `learnFromPeer`, `needsCatchUp`) over a memory store.
 * Some cases wrap the store to count its calls (a durable write or a ledger read is a cost the
 * acceptor promises to avoid) or to forget applied slots (a store that compacts its log).
 */
import { describe, expect, it } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import type { AcceptorStore } from "../../src/core/acceptor-store.js";
import { InvariantViolation } from "../../src/core/assert.js";
import { type Ballot, ballot_zero } from "../../src/core/ballot.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptedSlot, AcceptorReply, CatchUpReply } from "../../src/core/messages.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import type { SlotValue } from "../../src/core/slot-value.js";
import { appendValue, trade } from "./fixtures.js";

const b1: Ballot = { round: 1, proposerId: "p" };
const b2: Ballot = { round: 2, proposerId: "p" };
const b3: Ballot = { round: 3, proposerId: "p" };

/** A distinct valid slot value per name. */
function value(name: string): SlotValue {
  return appendValue(1_000, [trade(name)]);
}

/** The store methods that read the ledger: applying a slot calls them, reusing a prediction does not. */
const ledger_reads = new Set(["head", "entryById", "entriesByIds", "supersededBy", "position", "entriesOf"]);

interface CountingStore {
  store: AcceptorStore;
  readonly calls: Map<string, number>;
  /** Slots at or below this are forgotten by `slot()`, as a compacted log would. */
  compactedThrough: number;
}

/** A memory store that counts calls per method name and can forget applied slots. */
function countingStore(storeLimits: CoreLimits = limits): CountingStore {
  const inner = new MemoryAcceptorStore(storeLimits);
  const counting: CountingStore = { store: inner, calls: new Map(), compactedThrough: 0 };
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const member: unknown = Reflect.get(target, key, receiver);
      if (typeof member !== "function" || typeof key !== "string") return member;
      return (...args: unknown[]) => {
        counting.calls.set(key, (counting.calls.get(key) ?? 0) + 1);
        if (key === "slot" && (args[0] as number) <= counting.compactedThrough) return undefined;
        return (member as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  counting.store = store;
  return counting;
}

function ledgerReads(calls: Map<string, number>): number {
  let total = 0;
  for (const [name, n] of calls) if (ledger_reads.has(name)) total += n;
  return total;
}

function acceptor(
  options: { acceptQuorum?: number; limits?: Partial<CoreLimits>; sabotage?: Sabotage; store?: AcceptorStore } = {},
): Acceptor {
  const coreLimits: CoreLimits = { ...limits, ...options.limits };
  return new Acceptor(options.store ?? new MemoryAcceptorStore(coreLimits), {
    id: "a",
    acceptQuorum: options.acceptQuorum ?? 2,
    limits: coreLimits,
    ...(options.sabotage === undefined ? {} : { sabotage: options.sabotage }),
  });
}

function accept(a: Acceptor, ballot: Ballot, slots: Array<[number, SlotValue]>): AcceptorReply {
  return a.handle({ type: "accept", ballot, slots: slots.map(([slot, v]) => ({ slot, value: v })), commits: [] });
}

function commit(a: Acceptor, commits: Array<[number, Ballot, SlotValue?]>, outcomeOf?: number): AcceptorReply {
  return a.handle({
    type: "commit",
    commits: commits.map(([slot, ballot, v]) => (v === undefined ? { slot, ballot } : { slot, ballot, value: v })),
    ...(outcomeOf === undefined ? {} : { outcomeOf }),
  });
}

function peerReply(
  chosenThrough: number,
  chosen: AcceptedSlot[],
  above: Array<AcceptedSlot & { chosen: boolean }>,
): CatchUpReply {
  return { type: "catch_up_reply", from: "peer", chosenThrough, chosen, above };
}

function chosenThroughOf(a: Acceptor): number {
  return a.store.chosenThrough();
}

describe("Acceptor construction", () => {
  it("refuses an accept quorum below one", () => {
    expect(() => acceptor({ acceptQuorum: 0 })).toThrow(
      new InvariantViolation("accept quorum is at least one acceptor"),
    );
    expect(() => acceptor({ acceptQuorum: 1 })).not.toThrow();
  });

  it("refuses a Promise listing limit below one slot (a truncated empty listing would hide the backlog)", () => {
    expect(() => acceptor({ limits: { promise_slots_max: 0 } })).toThrow(
      new InvariantViolation("a Promise lists at least one slot"),
    );
    expect(() => acceptor({ limits: { promise_slots_max: 1 } })).not.toThrow();
  });
});

describe("Acceptor.learnFromPeer", () => {
  it("remembers the highest chosen slot a peer reports, so that it asks to catch up", () => {
    const a = acceptor();
    expect(a.needsCatchUp()).toBe(false);
    a.learnFromPeer(peerReply(5, [], []));
    expect(a.needsCatchUp()).toBe(true);
    a.learnFromPeer(peerReply(3, [], []));
    expect(a.needsCatchUp()).toBe(true);
  });

  it("refuses a reply longer than the catch-up limit, in either list", () => {
    const a = acceptor({ limits: { catch_up_slots_max: 2 } });
    const three = [1, 2, 3].map((slot) => ({ slot, ballot: b1, value: value(`c${slot}`) }));
    expect(() => a.learnFromPeer(peerReply(3, three, []))).toThrow(
      new InvariantViolation("catch-up reply within its limit"),
    );
    expect(() =>
      a.learnFromPeer(
        peerReply(
          0,
          [],
          three.map((s) => ({ ...s, chosen: false })),
        ),
      ),
    ).toThrow(new InvariantViolation("catch-up reply within its limit"));
    a.learnFromPeer(peerReply(2, three.slice(0, 2), []));
    expect(chosenThroughOf(a)).toBe(2);
  });

  it("applies the chosen slots it learns before it counts votes, each step within the apply limit", () => {
    // One apply pass per step: the chosen list, then the votes. With a limit of one slot a pass,
    // two chosen slots need both passes.
    const a = acceptor({ limits: { apply_slots_per_message_max: 1 } });
    a.learnFromPeer(
      peerReply(
        2,
        [1, 2].map((slot) => ({ slot, ballot: b1, value: value(`c${slot}`) })),
        [],
      ),
    );
    expect(chosenThroughOf(a)).toBe(2);
  });

  it("counts a vote for the last slot within the catch-up window, and none beyond it", () => {
    const a = acceptor({ acceptQuorum: 2, limits: { catch_up_slots_max: 2 } });
    // This acceptor holds slots 2 and 3 at b1; the peer reports both at b1 too: two votes each.
    accept(a, b1, [
      [2, value("v2")],
      [3, value("v3")],
    ]);
    a.learnFromPeer(
      peerReply(
        0,
        [],
        [
          { slot: 2, ballot: b1, value: value("v2"), chosen: false },
          { slot: 3, ballot: b1, value: value("v3"), chosen: false },
        ],
      ),
    );
    // chosenThrough is 0 and the window is 2 slots: slot 2 is learned chosen, slot 3 is not counted.
    expect(a.store.slot(2)?.chosen).toBe(true);
    expect(a.store.slot(3)?.chosen).toBe(false);
  });

  it("does not re-learn a slot it already applied from a stale vote", () => {
    const a = acceptor({ acceptQuorum: 1 });
    // Slot 1 is chosen with c1; the same reply holds an older peer vote for slot 1 with another value,
    // counted while slot 1 was not yet applied.
    a.learnFromPeer(
      peerReply(
        1,
        [{ slot: 1, ballot: b2, value: value("c1") }],
        [{ slot: 1, ballot: b1, value: value("old"), chosen: false }],
      ),
    );
    expect(chosenThroughOf(a)).toBe(1);
    expect(a.store.slot(1)?.value).toEqual(value("c1"));
  });

  it("does not re-learn a slot it holds chosen above the applied prefix from a stale vote", () => {
    const a = acceptor({ acceptQuorum: 1 });
    commit(a, [[3, b2, value("c3")]]);
    expect(a.store.slot(3)?.chosen).toBe(true);
    a.learnFromPeer(peerReply(0, [], [{ slot: 3, ballot: b1, value: value("old"), chosen: false }]));
    expect(a.store.slot(3)?.value).toEqual(value("c3"));
  });
});

describe("Acceptor promises", () => {
  it("writes a promise once: not again for the same ballot, on Prepare or Accept", () => {
    const s = countingStore();
    const a = acceptor({ store: s.store });
    expect(a.handle({ type: "prepare", ballot: b1, fromSlot: 1 }).type).toBe("promise");
    expect(a.handle({ type: "prepare", ballot: b1, fromSlot: 1 }).type).toBe("promise");
    expect(accept(a, b1, [[1, value("v1")]]).type).toBe("accepted");
    expect(s.calls.get("setPromised")).toBe(1);
    expect(a.store.promised()).toEqual(b1);
  });

  it("under the sabotage promise_in_memory_only, keeps the promise in memory, yet honours it", () => {
    const a = acceptor({ sabotage: "promise_in_memory_only" });
    expect(a.handle({ type: "prepare", ballot: b2, fromSlot: 1 }).type).toBe("promise");
    expect(a.store.promised()).toEqual(ballot_zero);
    expect(a.handle({ type: "prepare", ballot: b1, fromSlot: 1 })).toEqual({ type: "reject", promised: b2 });
  });
});

describe("Acceptor.onAccept limits and asserts", () => {
  it("takes exactly message_slots_max slots, and refuses one more", () => {
    const a = acceptor({ limits: { message_slots_max: 2 } });
    expect(
      accept(a, b1, [
        [1, value("v1")],
        [2, value("v2")],
      ]).type,
    ).toBe("accepted");
    expect(() =>
      accept(a, b1, [
        [3, value("v3")],
        [4, value("v4")],
        [5, value("v5")],
      ]),
    ).toThrow(new InvariantViolation("accept within its slot limit"));
  });

  it("refuses a slot that is not a positive integer", () => {
    const a = acceptor();
    expect(() => accept(a, b1, [[0, value("v0")]])).toThrow(
      new InvariantViolation("slot must be a positive integer, got 0"),
    );
    expect(() => accept(a, b1, [[1.5, value("v")]])).toThrow(
      new InvariantViolation("slot must be a positive integer, got 1.5"),
    );
  });

  it("names the slot and ballots when a ballot at or above the chosen one proposes another value", () => {
    const a = acceptor();
    commit(a, [[1, b2, value("c1")]]);
    expect(() => accept(a, b3, [[1, value("other")]])).toThrow(
      new InvariantViolation("safety violation: slot 1 is chosen at ballot 2.p, yet ballot 3.p proposes another value"),
    );
  });
});

describe("Acceptor.onCommit", () => {
  it("takes exactly message_slots_max commits, and refuses one more", () => {
    const a = acceptor({ limits: { message_slots_max: 2 } });
    expect(
      commit(a, [
        [1, b1, value("c1")],
        [2, b1, value("c2")],
      ]),
    ).toStrictEqual({ type: "committed", chosenThrough: 2 });
    expect(() =>
      commit(a, [
        [3, b1, value("c3")],
        [4, b1, value("c4")],
        [5, b1, value("c5")],
      ]),
    ).toThrow(new InvariantViolation("commits within their slot limit"));
  });

  it("carries no outcome field when none was asked for", () => {
    const a = acceptor();
    const reply = commit(a, [[1, b1, value("c1")]]);
    expect(reply).toStrictEqual({ type: "committed", chosenThrough: 1 });
    expect("outcome" in reply).toBe(false);
    const withOutcome = commit(a, [], 1);
    expect(withOutcome.type === "committed" && withOutcome.outcome?.slot).toBe(1);
  });

  it("names the slot when a commit gives a chosen slot another value", () => {
    const a = acceptor();
    commit(a, [[1, b1, value("c1")]]);
    expect(() => commit(a, [[1, b2, value("other")]])).toThrow(
      new InvariantViolation("safety violation: slot 1 chosen with two different values"),
    );
  });

  it("applies at most apply_slots_per_message_max slots a message", () => {
    const a = acceptor({ limits: { apply_slots_per_message_max: 1 } });
    commit(a, [
      [1, b1, value("c1")],
      [2, b1, value("c2")],
    ]);
    expect(chosenThroughOf(a)).toBe(1);
    commit(a, []);
    expect(chosenThroughOf(a)).toBe(2);
  });
});

describe("Acceptor over a store that compacts its applied log", () => {
  it("neither rewrites nor asks for a slot applied and forgotten", () => {
    const s = countingStore();
    const a = acceptor({ store: s.store });
    commit(a, [[1, b1, value("c1")]]);
    expect(chosenThroughOf(a)).toBe(1);
    s.compactedThrough = 1;
    const putsBefore = s.calls.get("putSlot") ?? 0;
    // A late commit of the applied slot at another ballot: nothing to write.
    expect(commit(a, [[1, b2, value("c1")]], 1)).toStrictEqual({ type: "committed", chosenThrough: 1 });
    expect(s.calls.get("putSlot") ?? 0).toBe(putsBefore);
  });
});

describe("Acceptor reuses the writes it predicted on Accept", () => {
  it("commits the slot it accepted on the applied prefix without reading the ledger again", () => {
    const s = countingStore();
    const a = acceptor({ store: s.store });
    accept(a, b1, [
      [1, value("v1")],
      [2, value("v2")],
    ]);
    s.calls.clear();
    commit(a, [[1, b1]]);
    expect(chosenThroughOf(a)).toBe(1);
    expect(ledgerReads(s.calls)).toBe(0);
  });
});

describe("Acceptor predicts outcomes across chosen slots", () => {
  it("predicts through a chosen slot it was not asked about, and reports only the asked slots", () => {
    const a = acceptor();
    commit(a, [[2, b1, value("c2")]]); // chosen, not applied: slot 1 is missing
    const reply = accept(a, b2, [
      [1, value("v1")],
      [3, value("v3")],
    ]);
    expect(reply.type === "accepted" && reply.outcomes.map((o) => o.slot)).toEqual([1, 3]);
  });

  it("stops at a slot held but not chosen that it was not asked about", () => {
    const a = acceptor();
    accept(a, b1, [[2, value("v2")]]);
    const reply = accept(a, b2, [
      [1, value("v1")],
      [3, value("v3")],
    ]);
    expect(reply.type === "accepted" && reply.outcomes.map((o) => o.slot)).toEqual([1]);
  });

  it("predicts at most message_slots_max slots", () => {
    const a = acceptor({ limits: { message_slots_max: 2 } });
    commit(a, [[2, b1, value("c2")]]);
    const reply = accept(a, b2, [
      [1, value("v1")],
      [3, value("v3")],
    ]);
    expect(reply.type === "accepted" && reply.outcomes.map((o) => o.slot)).toEqual([1]);
  });
});
