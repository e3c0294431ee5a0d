/**
 * The contract every AcceptorStore implementation must pass: the in-memory store now, the SQLite
 * store of the Durable Object later. It uses only the AcceptorStore interface (and the pure core on
 * top of it), never an implementation's internals. Register it with
 * `acceptorStoreSuite("name", () => new SomeStore())`; `makeStore` must return a fresh, empty store
 * (a test may make up to three, all used within its one synchronous body).
 */
import { describe, expect, it as vitestIt } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import type { AcceptorStore, SlotRecord } from "../../src/core/acceptor-store.js";
import { applySlot } from "../../src/core/apply.js";
import { InvariantViolation } from "../../src/core/assert.js";
import { type Ballot, ballot_zero } from "../../src/core/ballot.js";
import { genesis_hash } from "../../src/core/hash.js";
import type { Entry, Position, SlotOutcome } from "../../src/core/ledger-types.js";
import { limits } from "../../src/core/limits.js";
import type { AcceptorReply, CommitItem } from "../../src/core/messages.js";
import { noop_value, type SlotValue } from "../../src/core/slot-value.js";
import { appendValue, trade } from "./fixtures.js";

const b1: Ballot = { round: 1, proposerId: "p1" };
const b1q: Ballot = { round: 1, proposerId: "q1" }; // same round, higher id
const b2: Ballot = { round: 2, proposerId: "p1" };
const b3: Ballot = { round: 3, proposerId: "a" };

const everything = 1_000_000;

function reply<T extends AcceptorReply["type"]>(r: AcceptorReply, type: T): Extract<AcceptorReply, { type: T }> {
  expect(r.type).toBe(type);
  if (r.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(r)}`);
  return r as Extract<AcceptorReply, { type: T }>;
}

const bySymbol = (ps: Position[]) => [...ps].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));

/**
 * Everything observable through the interface, deep-copied. `ids`, `seqs`, `keys` and `accounts` name
 * extra things to probe (ones that an aborted transaction may have touched).
 */
function snapshot(
  store: AcceptorStore,
  probe: {
    ids?: string[];
    seqs?: number[];
    keys?: Array<[string, string]>;
    accounts?: string[];
    slots?: number[];
  } = {},
) {
  const entries = store.entriesAfter(0, everything);
  const ids = [...entries.map((e) => e.id), ...(probe.ids ?? [])];
  const keys = [
    ...new Set([
      ...entries.map((e) => JSON.stringify([e.account, e.symbol])),
      ...(probe.keys ?? []).map((k) => JSON.stringify(k)),
    ]),
  ].map((k) => JSON.parse(k) as [string, string]);
  const accounts = [...new Set([...entries.map((e) => e.account), ...(probe.accounts ?? [])])];
  return structuredClone({
    promised: store.promised(),
    chosenThrough: store.chosenThrough(),
    slots: store.slotsAbove(0, everything),
    probedSlots: (probe.slots ?? []).map((s) => store.slot(s) ?? null),
    head: store.head(),
    entries,
    byId: ids.map((id) => store.entryById(id) ?? null),
    superseded: ids.map((id) => store.supersededBy(id) ?? null),
    bySeq: [...entries.map((e) => e.seq), ...(probe.seqs ?? [])].map((s) => store.entryBySeq(s) ?? null),
    entriesOf: keys.map(([a, s]) => [...store.entriesOf(a, s)]),
    position: keys.map(([a, s]) => store.position(a, s) ?? null),
    positionsOf: accounts.map((a) => bySymbol(store.positionsOf(a))),
  });
}

function commitsFor(slots: number[], ballot: Ballot, value?: SlotValue): CommitItem[] {
  return slots.map((slot) => (value === undefined ? { slot, ballot } : { slot, ballot, value }));
}

/** An acceptor named `id` in a cluster whose accept quorum is `acceptQuorum`. */
function acceptorOver(store: AcceptorStore, id = "self", acceptQuorum = 2): Acceptor {
  return new Acceptor(store, { id, acceptQuorum });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Runs one test body. The default calls it directly. A store that can only be used inside some context
 * (the SQLite store, inside its Durable Object) passes a runner that enters that context, calls the
 * body there, and lets `makeStore` hand out fresh stores of that context while the body runs.
 */
export type StoreTestRunner = (body: () => void) => void | Promise<void>;

export function acceptorStoreSuite(
  name: string,
  makeStore: () => AcceptorStore,
  run: StoreTestRunner = (body) => body(),
): void {
  const it = (title: string, body: () => void): void => {
    vitestIt(title, () => run(body));
  };

  describe(`${name}: durable state`, () => {
    it("starts empty: ballot_zero, chosenThrough 0, genesis head, no slots or entries", () => {
      const store = makeStore();
      expect(store.promised()).toEqual(ballot_zero);
      expect(store.chosenThrough()).toBe(0);
      expect(store.head()).toEqual({ seq: 0, hash: genesis_hash, committedAt_ms: 0 });
      expect(store.slot(1)).toBeUndefined();
      expect(store.slotsAbove(0, 10)).toEqual([]);
      expect(store.entryById("x")).toBeUndefined();
      expect(store.entryBySeq(1)).toBeUndefined();
      expect(store.entriesAfter(0, 10)).toEqual([]);
      expect(store.entriesOf("A", "S")).toEqual([]);
      expect(store.position("A", "S")).toBeUndefined();
      expect(store.positionsOf("A")).toEqual([]);
      expect(store.supersededBy("x")).toBeUndefined();
    });

    it("round-trips promised and chosenThrough", () => {
      const store = makeStore();
      store.transaction(() => {
        store.setPromised(b2);
        store.setChosenThrough(7);
      });
      expect(store.promised()).toEqual(b2);
      expect(store.chosenThrough()).toBe(7);
      store.transaction(() => store.setPromised(b3));
      expect(store.promised()).toEqual(b3);
    });

    it("returns the value of the transaction's function", () => {
      const store = makeStore();
      expect(store.transaction(() => 42)).toBe(42);
    });

    it("round-trips a slot record, outcome included, and overwrites by slot number", () => {
      const store = makeStore();
      const value = appendValue(1_000, [trade("a")]);
      const outcome: SlotOutcome = {
        slot: 3,
        batches: [{ kind: "rejected", rejection: { code: "id_conflict", index: 0, id: "a", message: "m" } }],
      };
      store.transaction(() => store.putSlot({ slot: 3, ballot: b1, value, chosen: false }));
      expect(store.slot(3)).toEqual({ slot: 3, ballot: b1, value, chosen: false });
      store.transaction(() => store.putSlot({ slot: 3, ballot: b2, value, chosen: true, outcome }));
      expect(store.slot(3)).toEqual({ slot: 3, ballot: b2, value, chosen: true, outcome });
      expect(store.slot(2)).toBeUndefined();
      expect(store.slotsAbove(0, 10)).toHaveLength(1);
    });

    it("lists slots above a slot in ascending order, at most count", () => {
      const store = makeStore();
      store.transaction(() => {
        for (const s of [9, 1, 5, 3, 12]) store.putSlot({ slot: s, ballot: b1, value: noop_value, chosen: s < 4 });
      });
      const slotsOf = (rs: SlotRecord[]) => rs.map((r) => r.slot);
      expect(slotsOf(store.slotsAbove(0, 10))).toEqual([1, 3, 5, 9, 12]);
      expect(slotsOf(store.slotsAbove(3, 10))).toEqual([5, 9, 12]);
      expect(slotsOf(store.slotsAbove(4, 10))).toEqual([5, 9, 12]);
      expect(slotsOf(store.slotsAbove(0, 2))).toEqual([1, 3]);
      expect(slotsOf(store.slotsAbove(5, 1))).toEqual([9]);
      expect(store.slotsAbove(12, 10)).toEqual([]);
      expect(store.slotsAbove(0, 0)).toEqual([]);
      expect(store.slotsAbove(0, 10)[1]).toEqual({ slot: 3, ballot: b1, value: noop_value, chosen: true });
    });

    it("looks up hundreds of ids in one call (more than one SQL statement binds)", () => {
      const store = makeStore();
      const batch = Array.from({ length: 250 }, (_, i) => trade(`bulk-${i}`, { account: `ACC-${i % 7}` }));
      const { writes } = applySlot(store, 1, appendValue(1_000, batch));
      store.transaction(() => store.applyWrites(writes));
      const ids = [...batch.map((e) => e.id), ...Array.from({ length: 60 }, (_, i) => `absent-${i}`)];
      const found = store.entriesByIds(ids).sort((x, y) => x.seq - y.seq);
      expect(found).toEqual(writes.entries);
    });

    it("persists applied writes and reads them back", () => {
      const store = makeStore();
      const value = appendValue(
        1_000,
        [trade("a"), trade("b", { symbol: "MSFT", side: "sell", quantity: "2", price: "50" })],
        [trade("c", { quantity: "5", price: "90" }), trade("d", { account: "ACC-2" })],
      );
      const { writes } = applySlot(store, 1, value);
      store.transaction(() => store.applyWrites(writes));
      const [a, b, c, d] = writes.entries;
      expect(store.head()).toEqual(writes.head);
      expect(store.head()).toMatchObject({ seq: 4, hash: d!.hash, committedAt_ms: 1_000 });
      for (const e of writes.entries) {
        expect(store.entryById(e.id)).toEqual(e);
        expect(store.entryBySeq(e.seq)).toEqual(e);
      }
      expect(store.entryBySeq(0)).toBeUndefined();
      expect(store.entryBySeq(5)).toBeUndefined();
      const bySeq = (es: readonly Entry[]) => [...es].sort((x, y) => x.seq - y.seq);
      expect(bySeq(store.entriesByIds(["d", "missing", "a", "a", "c"]))).toEqual([a, c, d]);
      expect(store.entriesByIds([])).toEqual([]);
      expect(store.entriesByIds(["missing"])).toEqual([]);
      expect(store.entriesAfter(0, 10)).toEqual([a, b, c, d]);
      expect(store.entriesAfter(1, 2)).toEqual([b, c]);
      expect(store.entriesAfter(3, 10)).toEqual([d]);
      expect(store.entriesAfter(4, 10)).toEqual([]);
      expect(store.entriesAfter(0, 0)).toEqual([]);
      expect(store.entriesOf("ACC-1", "AAPL")).toEqual([a, c]);
      expect(store.entriesOf("ACC-1", "MSFT")).toEqual([b]);
      expect(store.entriesOf("ACC-2", "AAPL")).toEqual([d]);
      expect(store.entriesOf("ACC-2", "MSFT")).toEqual([]);
      const positions = writes.positions;
      expect(bySymbol(store.positionsOf("ACC-1"))).toEqual(bySymbol(positions.filter((p) => p.account === "ACC-1")));
      expect(store.positionsOf("ACC-2")).toEqual(positions.filter((p) => p.account === "ACC-2"));
      expect(store.positionsOf("ACC-3")).toEqual([]);
      expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "15", costBasis: "1450", lastSeq: 3 });
      expect(store.position("ACC-1", "MSFT")).toMatchObject({ quantity: "-2", costBasis: "-100", lastSeq: 2 });
      expect(store.supersededBy("a")).toBeUndefined();

      // A second slot: a bust supersedes, positions are replaced rather than duplicated.
      const second = applySlot(store, 2, appendValue(2_000, [trade("x", { execType: "bust", refId: "a" })]));
      store.transaction(() => store.applyWrites(second.writes));
      expect(store.supersededBy("a")).toBe(5);
      expect(store.entryBySeq(5)?.id).toBe("x");
      expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "5", costBasis: "450", lastSeq: 5 });
      expect(store.positionsOf("ACC-1")).toHaveLength(2);
      expect(store.entriesOf("ACC-1", "AAPL").map((e) => e.id)).toEqual(["a", "c", "x"]);
      expect(store.head()).toEqual(second.writes.head);
    });

    it("a transaction that throws leaves everything exactly as before", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 1, value: appendValue(1_000, [trade("t1"), trade("t2", { symbol: "MSFT" })]) },
          { slot: 2, value: appendValue(2_000, [trade("t3", { side: "sell", quantity: "4", price: "120" })]) },
          { slot: 3, value: appendValue(3_000, [trade("t4")]) },
        ],
        commits: [],
      });
      acceptor.handle({ type: "commit", commits: commitsFor([1, 2], b1) });
      expect(store.chosenThrough()).toBe(2);

      const probe = {
        ids: ["n1", "n2", "bust-t1", "corr-t2"],
        seqs: [4, 5, 6, 7, 8],
        keys: [["NEW", "AAPL"]] as Array<[string, string]>,
        accounts: ["NEW"],
        slots: [3, 4],
      };
      const before = snapshot(store, probe);
      const pending = applySlot(
        store,
        3,
        appendValue(
          9_000,
          [trade("n1", { account: "NEW" }), trade("bust-t1", { execType: "bust", refId: "t1" })],
          [trade("corr-t2", { symbol: "MSFT", execType: "correction", refId: "t2", quantity: "1" }), trade("n2")],
        ),
      );
      expect(pending.writes.entries).toHaveLength(4);
      expect(pending.writes.superseded).toHaveLength(2);

      const boom = new Error("boom");
      expect(() =>
        store.transaction(() => {
          store.setPromised(b3);
          store.setChosenThrough(3);
          store.putSlot({ slot: 3, ballot: b3, value: noop_value, chosen: true, outcome: { slot: 3, batches: [] } });
          store.putSlot({ slot: 4, ballot: b3, value: noop_value, chosen: false });
          store.applyWrites(pending.writes);
          throw boom;
        }),
      ).toThrow(boom);
      expect(snapshot(store, probe)).toEqual(before);

      // The store is consistent after the rollback: the same writes now apply cleanly.
      store.transaction(() => store.applyWrites(pending.writes));
      expect(store.entriesAfter(0, everything).map((e) => e.id)).toEqual([
        "t1",
        "t2",
        "t3",
        "n1",
        "bust-t1",
        "corr-t2",
        "n2",
      ]);
      expect(store.entriesOf("ACC-1", "AAPL").map((e) => e.id)).toEqual(["t1", "t3", "bust-t1", "n2"]);
      expect(store.supersededBy("t1")).toBe(5);
      expect(store.supersededBy("t2")).toBe(6);
      expect(store.head()).toEqual(pending.writes.head);
    });

    it("a throw in the acceptor's own handling rolls back too (its state machine relies on it)", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [{ slot: 1, value: appendValue(1_000, [trade("t1")]) }],
        commits: [],
      });
      acceptor.handle({ type: "commit", commits: commitsFor([1], b1) });
      const before = snapshot(store, { ids: ["t2"], seqs: [2], slots: [2] });
      // A higher ballot that also commits slot 2 (a new value) and then proposes another value for chosen slot 1.
      expect(() =>
        acceptor.handle({
          type: "accept",
          ballot: b3,
          slots: [{ slot: 1, value: appendValue(1_000, [trade("other")]) }],
          commits: [{ slot: 2, ballot: b2, value: appendValue(2_000, [trade("t2")]) }],
        }),
      ).toThrow(InvariantViolation);
      expect(snapshot(store, { ids: ["t2"], seqs: [2], slots: [2] })).toEqual(before);
    });
  });

  describe(`${name}: the Acceptor state machine over it`, () => {
    const v1 = appendValue(1_000, [trade("t1")]);
    const v2 = appendValue(2_000, [trade("t2", { side: "sell", quantity: "4", price: "120" })]);
    const v3 = appendValue(3_000, [trade("t3", { symbol: "MSFT" })]);

    it("rejects a Prepare below the promised ballot with that ballot, and changes nothing", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      reply(acceptor.handle({ type: "prepare", ballot: b2, fromSlot: 1 }), "promise");
      const before = snapshot(store);
      expect(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 })).toEqual({ type: "reject", promised: b2 });
      expect(acceptor.handle({ type: "prepare", ballot: b1q, fromSlot: 1 })).toEqual({ type: "reject", promised: b2 });
      expect(snapshot(store)).toEqual(before);
    });

    it("promises an equal or higher ballot and persists it", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const p = reply(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 }), "promise");
      expect(p).toEqual({
        type: "promise",
        ballot: b1,
        chosenThrough: 0,
        head: store.head(),
        accepted: [],
        truncated: false,
      });
      expect(store.promised()).toEqual(b1);
      reply(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 }), "promise");
      expect(store.promised()).toEqual(b1);
      reply(acceptor.handle({ type: "prepare", ballot: b1q, fromSlot: 1 }), "promise");
      expect(store.promised()).toEqual(b1q);
      // A restarted acceptor over the same store keeps the promise.
      expect(acceptorOver(store).handle({ type: "prepare", ballot: b1, fromSlot: 1 })).toEqual({
        type: "reject",
        promised: b1q,
      });
    });

    it("lists the accepted slots above chosenThrough, honouring fromSlot", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 1, value: v1 },
          { slot: 2, value: v2 },
        ],
        commits: [],
      });
      acceptor.handle({
        type: "accept",
        ballot: b2,
        slots: [
          { slot: 3, value: v3 },
          { slot: 5, value: noop_value },
        ],
        commits: [],
      });
      acceptor.handle({ type: "commit", commits: commitsFor([1], b1) });
      const p = reply(acceptor.handle({ type: "prepare", ballot: b3, fromSlot: 1 }), "promise");
      expect(p.chosenThrough).toBe(1);
      expect(p.head).toEqual(store.head());
      expect(p.head.seq).toBe(1);
      expect(p.accepted).toEqual([
        { slot: 2, ballot: b1, value: v2 },
        { slot: 3, ballot: b2, value: v3 },
        { slot: 5, ballot: b2, value: noop_value },
      ]);
      expect(p.truncated).toBe(false);
      const from3 = reply(acceptor.handle({ type: "prepare", ballot: b3, fromSlot: 3 }), "promise");
      expect(from3.accepted.map((a) => a.slot)).toEqual([3, 5]);
      const from4 = reply(acceptor.handle({ type: "prepare", ballot: b3, fromSlot: 4 }), "promise");
      expect(from4.accepted.map((a) => a.slot)).toEqual([5]);
      const from9 = reply(acceptor.handle({ type: "prepare", ballot: b3, fromSlot: 9 }), "promise");
      expect(from9.accepted).toEqual([]);
    });

    it(`truncates a Promise at promise_slots_max (${limits.promise_slots_max}) accepted slots`, () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const max = limits.promise_slots_max;
      const slots = range(1, max).map((slot) => ({ slot, value: noop_value }));
      acceptor.handle({ type: "accept", ballot: b1, slots, commits: [] });
      const exact = reply(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 }), "promise");
      expect(exact.accepted).toHaveLength(max);
      expect(exact.truncated).toBe(false);

      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: max + 1, value: noop_value },
          { slot: max + 2, value: noop_value },
        ],
        commits: [],
      });
      const over = reply(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 }), "promise");
      expect(over.accepted).toHaveLength(max);
      expect(over.accepted.map((a) => a.slot)).toEqual(range(1, max));
      expect(over.truncated).toBe(true);
      const rest = reply(acceptor.handle({ type: "prepare", ballot: b1, fromSlot: max + 1 }), "promise");
      expect(rest.accepted.map((a) => a.slot)).toEqual([max + 1, max + 2]);
      expect(rest.truncated).toBe(false);
    });

    it("rejects an Accept below the promised ballot and stores nothing", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "prepare", ballot: b2, fromSlot: 1 });
      const before = snapshot(store, { slots: [1] });
      expect(acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] })).toEqual({
        type: "reject",
        promised: b2,
      });
      expect(snapshot(store, { slots: [1] })).toEqual(before);
    });

    it("stores accepted slots at the Accept's ballot and raises promised", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "prepare", ballot: b1, fromSlot: 1 });
      const r = reply(
        acceptor.handle({
          type: "accept",
          ballot: b2,
          slots: [
            { slot: 1, value: v1 },
            { slot: 2, value: v2 },
          ],
          commits: [],
        }),
        "accepted",
      );
      expect(r).toMatchObject({ ballot: b2, slots: [1, 2], chosenThrough: 0 });
      expect(store.promised()).toEqual(b2);
      expect(store.slot(1)).toEqual({ slot: 1, ballot: b2, value: v1, chosen: false });
      expect(store.slot(2)).toEqual({ slot: 2, ballot: b2, value: v2, chosen: false });
      // A later ballot may replace a value that is not chosen.
      reply(
        acceptor.handle({ type: "accept", ballot: b3, slots: [{ slot: 2, value: noop_value }], commits: [] }),
        "accepted",
      );
      expect(store.slot(2)).toEqual({ slot: 2, ballot: b3, value: noop_value, chosen: false });
      // Nothing is applied by accepting.
      expect(store.chosenThrough()).toBe(0);
      expect(store.head().seq).toBe(0);
    });

    it("predicts outcomes for the slot right after chosenThrough, and the prediction is what applying gives", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const r = reply(
        acceptor.handle({
          type: "accept",
          ballot: b1,
          slots: [
            { slot: 1, value: v1 },
            { slot: 2, value: v2 },
          ],
          commits: [],
        }),
        "accepted",
      );
      expect(r.outcomes.map((o) => o.slot)).toEqual([1, 2]);
      const receipt = r.outcomes[0]!.batches[0];
      expect(receipt).toMatchObject({
        kind: "applied",
        receipts: [{ id: "t1", status: "created", seq: 1, slot: 1, committedAt: new Date(1_000).toISOString() }],
      });
      expect(r.outcomes[1]!.batches[0]).toMatchObject({ kind: "applied", receipts: [{ id: "t2", seq: 2, slot: 2 }] });
      // Predicting persisted nothing.
      expect(store.head().seq).toBe(0);
      expect(store.entryById("t1")).toBeUndefined();

      const c = reply(acceptor.handle({ type: "commit", commits: commitsFor([1, 2], b1), outcomeOf: 2 }), "committed");
      expect(c.chosenThrough).toBe(2);
      expect(c.outcome).toEqual(r.outcomes[1]);
      expect(store.slot(1)?.outcome).toEqual(r.outcomes[0]);
    });

    it("predicts no outcome for a slot that is not next after chosenThrough", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const r = reply(
        acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 3, value: v3 }], commits: [] }),
        "accepted",
      );
      expect(r.outcomes).toEqual([]);
      expect(store.slot(3)).toMatchObject({ chosen: false });
      // Slot 1 is held but not chosen, so slot 2's outcome depends on whether slot 1 gets chosen: none.
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      const r2 = reply(
        acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 2, value: v2 }], commits: [] }),
        "accepted",
      );
      expect(r2.outcomes).toEqual([]);
    });

    it("piggybacked commits apply before the Accept, so its slot is predicted", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      const r = reply(
        acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 2, value: v2 }], commits: commitsFor([1], b1) }),
        "accepted",
      );
      expect(r.chosenThrough).toBe(1);
      expect(r.outcomes).toMatchObject([{ slot: 2, batches: [{ kind: "applied", receipts: [{ id: "t2", seq: 2 }] }] }]);
      expect(store.entryById("t1")?.seq).toBe(1);
    });

    it("learns piggybacked commits even when it rejects the Accept", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      acceptor.handle({ type: "prepare", ballot: b3, fromSlot: 1 });
      const r = acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [{ slot: 2, value: v2 }],
        commits: commitsFor([1], b1),
      });
      expect(r).toEqual({ type: "reject", promised: b3 });
      expect(store.chosenThrough()).toBe(1);
      expect(store.slot(2)).toBeUndefined();
    });

    it("a Commit by ballot marks the held value chosen and applies it", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 1, value: v1 },
          { slot: 2, value: v2 },
        ],
        commits: [],
      });
      const c = reply(acceptor.handle({ type: "commit", commits: commitsFor([1], b1) }), "committed");
      expect(c).toEqual({ type: "committed", chosenThrough: 1 });
      expect(store.slot(1)).toMatchObject({ slot: 1, ballot: b1, value: v1, chosen: true });
      expect(store.slot(1)?.outcome?.slot).toBe(1);
      expect(store.slot(2)).toMatchObject({ chosen: false });
      expect(store.entryById("t1")).toMatchObject({ seq: 1, slot: 1 });
      expect(store.head().seq).toBe(1);
      expect(store.position("ACC-1", "AAPL")).toMatchObject({ quantity: "10" });
      expect(acceptor.needsCatchUp()).toBe(false);
      // Committing again is harmless.
      expect(acceptor.handle({ type: "commit", commits: commitsFor([1], b1) })).toEqual({
        type: "committed",
        chosenThrough: 1,
      });
      expect(store.head().seq).toBe(1);
    });

    it("a Commit carrying a value applies a slot this acceptor never accepted", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const c = reply(
        acceptor.handle({ type: "commit", commits: [{ slot: 1, ballot: b2, value: v1 }], outcomeOf: 1 }),
        "committed",
      );
      expect(c.chosenThrough).toBe(1);
      expect(c.outcome).toMatchObject({ slot: 1, batches: [{ kind: "applied", receipts: [{ id: "t1", seq: 1 }] }] });
      expect(store.slot(1)).toMatchObject({ ballot: b2, value: v1, chosen: true });
      expect(store.entryById("t1")?.seq).toBe(1);
      // The acceptor's promise is untouched by a commit.
      expect(store.promised()).toEqual(ballot_zero);
    });

    it("a Commit carrying a value replaces a value held at another ballot", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v3 }], commits: [] });
      acceptor.handle({ type: "commit", commits: [{ slot: 1, ballot: b2, value: v1 }] });
      expect(store.slot(1)).toMatchObject({ ballot: b2, value: v1, chosen: true });
      expect(store.entryById("t1")).toBeDefined();
      expect(store.entryById("t3")).toBeUndefined();
    });

    it("a Commit by a ballot it does not hold, without a value, leaves a gap", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v3 }], commits: [] });
      const c = acceptor.handle({ type: "commit", commits: commitsFor([1], b2) });
      expect(c).toEqual({ type: "committed", chosenThrough: 0 });
      expect(store.slot(1)).toMatchObject({ ballot: b1, chosen: false });
      expect(acceptor.needsCatchUp()).toBe(true);
    });

    it("a commit with a gap does not advance chosenThrough, and the acceptor asks to catch up", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      expect(acceptor.needsCatchUp()).toBe(false);
      const c = acceptor.handle({ type: "commit", commits: [{ slot: 2, ballot: b1, value: v2 }], outcomeOf: 2 });
      expect(c).toEqual({ type: "committed", chosenThrough: 0 });
      expect(store.chosenThrough()).toBe(0);
      expect(store.slot(2)).toMatchObject({ value: v2, chosen: true });
      expect(store.slot(2)?.outcome).toBeUndefined();
      expect(store.head().seq).toBe(0);
      expect(acceptor.needsCatchUp()).toBe(true);
      expect(acceptor.catchUpRequest()).toEqual({ type: "catch_up", fromSlot: 1 });
    });

    it("learnFromPeer fills the gap and applies everything chosen after it", () => {
      const peerStore = makeStore();
      const peer = acceptorOver(peerStore, "peer");
      peer.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 1, value: v1 },
          { slot: 2, value: v2 },
          { slot: 3, value: v3 },
        ],
        commits: [],
      });
      peer.handle({ type: "commit", commits: commitsFor([1, 2, 3], b1) });

      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "commit", commits: [{ slot: 3, ballot: b1, value: v3 }] });
      expect(acceptor.needsCatchUp()).toBe(true);
      const catchUp = reply(peer.handle(acceptor.catchUpRequest()), "catch_up_reply");
      acceptor.learnFromPeer(catchUp);
      expect(store.chosenThrough()).toBe(3);
      expect(acceptor.needsCatchUp()).toBe(false);
      expect(store.entriesAfter(0, everything)).toEqual(peerStore.entriesAfter(0, everything));
      expect(store.head()).toEqual(peerStore.head());
      expect(bySymbol(store.positionsOf("ACC-1"))).toEqual(bySymbol(peerStore.positionsOf("ACC-1")));
      for (const s of [1, 2, 3]) expect(store.slot(s)?.outcome).toEqual(peerStore.slot(s)?.outcome);
    });

    it("throws InvariantViolation, changing nothing, on an Accept of another value for a chosen slot", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 1, value: v1 },
          { slot: 2, value: v2 },
        ],
        commits: [],
      });
      acceptor.handle({ type: "commit", commits: commitsFor([1], b1) });
      const probe = { slots: [1, 2, 3], ids: ["t2", "t3"], seqs: [2, 3] };
      const before = snapshot(store, probe);
      expect(() =>
        acceptor.handle({
          type: "accept",
          ballot: b3,
          slots: [
            { slot: 3, value: v3 },
            { slot: 1, value: v3 },
          ],
          commits: commitsFor([2], b1),
        }),
      ).toThrow(InvariantViolation);
      expect(snapshot(store, probe)).toEqual(before);
      // The same value again is no violation: the chosen slot is left as it is.
      const ok = reply(
        acceptor.handle({ type: "accept", ballot: b3, slots: [{ slot: 1, value: v1 }], commits: [] }),
        "accepted",
      );
      expect(ok.chosenThrough).toBe(1);
      expect(store.slot(1)).toMatchObject({ ballot: b1, chosen: true });
    });

    it("throws InvariantViolation on another value for a chosen slot at the very ballot that chose it", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      acceptor.handle({ type: "commit", commits: commitsFor([1], b1) });
      const before = snapshot(store, { slots: [1] });
      expect(() =>
        acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v3 }], commits: [] }),
      ).toThrow(InvariantViolation);
      expect(snapshot(store, { slots: [1] })).toEqual(before);
    });

    it("refuses, naming the choosing ballot, a stale lower ballot that proposes another value for a chosen slot", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      // Slot 1 is chosen at b2 (learned from a commit, so nothing was promised here).
      acceptor.handle({ type: "commit", commits: [{ slot: 1, ballot: b2, value: v1 }] });
      expect(store.promised()).toEqual(ballot_zero);
      const before = snapshot(store, { slots: [1, 2] });
      const r = acceptor.handle({
        type: "accept",
        ballot: b1,
        slots: [
          { slot: 2, value: v2 },
          { slot: 1, value: v3 },
        ],
        commits: [],
      });
      expect(r).toEqual({ type: "reject", promised: b2 });
      expect(snapshot(store, { slots: [1, 2] })).toEqual(before);
    });

    it("holdsUnchosen tells whether it holds a slot above chosenThrough not known to be chosen", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      expect(acceptor.holdsUnchosen()).toBe(false);
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      expect(acceptor.holdsUnchosen()).toBe(true);
      acceptor.handle({ type: "commit", commits: commitsFor([1], b1) });
      expect(acceptor.holdsUnchosen()).toBe(false);
    });

    it("throws InvariantViolation when a commit names another value for a chosen slot", () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      acceptor.handle({ type: "commit", commits: [{ slot: 1, ballot: b1, value: v1 }] });
      const before = snapshot(store, { slots: [1] });
      expect(() => acceptor.handle({ type: "commit", commits: [{ slot: 1, ballot: b2, value: v3 }] })).toThrow(
        InvariantViolation,
      );
      expect(snapshot(store, { slots: [1] })).toEqual(before);
    });

    it("learns a slot whose commit was lost from an accept quorum of reports at one ballot (own record included)", () => {
      const [selfStore, peerStore] = [makeStore(), makeStore()];
      const self = acceptorOver(selfStore, "self", 2);
      const peer = acceptorOver(peerStore, "peer", 2);
      for (const a of [self, peer])
        a.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      const r = reply(peer.handle(self.catchUpRequest()), "catch_up_reply");
      expect(r.chosen).toEqual([]);
      expect(r.above).toEqual([{ slot: 1, ballot: b1, value: v1, chosen: false }]);
      self.learnFromPeer(r);
      expect(selfStore.chosenThrough()).toBe(1);
      expect(selfStore.slot(1)).toMatchObject({ ballot: b1, value: v1, chosen: true });
      expect(selfStore.entryById("t1")?.seq).toBe(1);
      expect(self.holdsUnchosen()).toBe(false);
    });

    it("does not learn from fewer reports than the accept quorum, and counts a peer once", () => {
      const stores = [makeStore(), makeStore(), makeStore()];
      const [self, p1, p2] = stores.map((st, i) => acceptorOver(st, ["self", "p1", "p2"][i], 3)) as [
        Acceptor,
        Acceptor,
        Acceptor,
      ];
      for (const a of [self, p1, p2])
        a.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      const fromP1 = reply(p1.handle(self.catchUpRequest()), "catch_up_reply");
      self.learnFromPeer(fromP1);
      self.learnFromPeer(fromP1); // the same peer again: still two votes of three
      expect(stores[0]!.chosenThrough()).toBe(0);
      expect(stores[0]!.slot(1)).toMatchObject({ chosen: false });
      self.learnFromPeer(reply(p2.handle(self.catchUpRequest()), "catch_up_reply"));
      expect(stores[0]!.chosenThrough()).toBe(1);
    });

    it("does not add up reports at different ballots", () => {
      const [selfStore, peerStore] = [makeStore(), makeStore()];
      const self = acceptorOver(selfStore, "self", 2);
      const peer = acceptorOver(peerStore, "peer", 2);
      self.handle({ type: "accept", ballot: b1, slots: [{ slot: 1, value: v1 }], commits: [] });
      peer.handle({ type: "accept", ballot: b2, slots: [{ slot: 1, value: v3 }], commits: [] });
      self.learnFromPeer(reply(peer.handle(self.catchUpRequest()), "catch_up_reply"));
      expect(selfStore.chosenThrough()).toBe(0);
      expect(selfStore.slot(1)).toEqual({ slot: 1, ballot: b1, value: v1, chosen: false });
      expect(self.holdsUnchosen()).toBe(true);
    });

    it("learns from peers' reports a slot it never accepted itself", () => {
      const stores = [makeStore(), makeStore(), makeStore()];
      const [self, p1, p2] = stores.map((st, i) => acceptorOver(st, ["self", "p1", "p2"][i], 2)) as [
        Acceptor,
        Acceptor,
        Acceptor,
      ];
      for (const a of [p1, p2])
        a.handle({
          type: "accept",
          ballot: b2,
          slots: [
            { slot: 1, value: v1 },
            { slot: 2, value: v2 },
          ],
          commits: [],
        });
      self.learnFromPeer(reply(p1.handle(self.catchUpRequest()), "catch_up_reply"));
      expect(stores[0]!.chosenThrough()).toBe(0);
      self.learnFromPeer(reply(p2.handle(self.catchUpRequest()), "catch_up_reply"));
      expect(stores[0]!.chosenThrough()).toBe(2);
      expect(stores[0]!.entriesAfter(0, everything).map((e) => e.id)).toEqual(["t1", "t2"]);
    });

    it("takes a slot a peer reports chosen (above the peer's own gap) as chosen, without counting votes", () => {
      const [selfStore, peerStore] = [makeStore(), makeStore()];
      const self = acceptorOver(selfStore, "self", 3);
      const peer = acceptorOver(peerStore, "peer", 3);
      peer.handle({ type: "commit", commits: [{ slot: 2, ballot: b1, value: v2 }] }); // the peer lacks slot 1
      const r = reply(peer.handle(self.catchUpRequest()), "catch_up_reply");
      expect(r.chosenThrough).toBe(0);
      expect(r.above).toEqual([{ slot: 2, ballot: b1, value: v2, chosen: true }]);
      self.learnFromPeer(r);
      expect(selfStore.slot(2)).toEqual({ slot: 2, ballot: b1, value: v2, chosen: true });
      expect(selfStore.chosenThrough()).toBe(0);
      // Once slot 1 arrives, both apply.
      self.handle({ type: "commit", commits: [{ slot: 1, ballot: b1, value: v1 }] });
      expect(selfStore.chosenThrough()).toBe(2);
    });

    it(`answers catch_up with chosen slots in order, at most catch_up_slots_max (${limits.catch_up_slots_max})`, () => {
      const store = makeStore();
      const acceptor = acceptorOver(store);
      const max = limits.catch_up_slots_max;
      const n = max + 6;
      acceptor.handle({
        type: "commit",
        commits: [{ slot: 1, ballot: b1, value: v1 }, ...commitsFor(range(2, n), b1, noop_value)],
      });
      acceptor.handle({ type: "accept", ballot: b1, slots: [{ slot: n + 1, value: v2 }], commits: [] }); // accepted, not chosen
      expect(store.chosenThrough()).toBe(n);

      const first = reply(acceptor.handle({ type: "catch_up", fromSlot: 1 }), "catch_up_reply");
      expect(first.from).toBe("self");
      expect(first.chosenThrough).toBe(n);
      expect(first.above).toEqual([{ slot: n + 1, ballot: b1, value: v2, chosen: false }]);
      expect(first.chosen.map((c) => c.slot)).toEqual(range(1, max));
      expect(first.chosen[0]).toEqual({ slot: 1, ballot: b1, value: v1 });
      const rest = reply(acceptor.handle({ type: "catch_up", fromSlot: max + 1 }), "catch_up_reply");
      expect(rest.chosen.map((c) => c.slot)).toEqual(range(max + 1, n));
      expect(reply(acceptor.handle({ type: "catch_up", fromSlot: n + 1 }), "catch_up_reply").chosen).toEqual([]);
      expect(reply(acceptor.handle({ type: "catch_up", fromSlot: 0 }), "catch_up_reply").chosen[0]?.slot).toBe(1);
    });
  });
}
