/**
 * The read path of `src/core/read-index.ts` with hand-built replica states: the read index a
 * quorum's states give, which replica serves a read, the polls and the recovery (`sync`) of a read
 * whose index no replica has applied, and the 503 when too few replicas answer. Virtual time (the
 * simulator's World), replicas answering after a fixed delay each.
 */
import { describe, expect, test } from "vitest";
import { type QuorumConfig, quorumConfig } from "../../src/core/quorum.js";
import {
  type Consistency,
  LedgerReader,
  type ReadOptions,
  ReadUnavailableError,
  ReplicaBehindError,
  type ReplicaState,
  type ReplicaStateOf,
  ReplicaTimeoutError,
  read_index_poll_interval_ms,
  read_index_polls_limit,
  read_index_polls_max,
  read_index_wait_ms,
  read_timeout_ms,
  readIndexOf,
  readIndexSyncDue,
} from "../../src/core/read-index.js";
import { World } from "../sim/world.js";

/** A replica's state with an applied prefix (`ct`) and a highest held slot (`hs`); head seq = ct. */
function state(ct: number, hs = ct): ReplicaState {
  return { chosenThrough: ct, highestSlot: hs, head: { seq: ct, hash: `h${ct}`, committedAt_ms: 0 } };
}

function of(entries: Record<string, [number, number?]>): ReplicaStateOf[] {
  return Object.entries(entries).map(([replica, [ct, hs]]) => ({ replica, state: state(ct, hs) }));
}

describe("readIndexOf", () => {
  const three = quorumConfig(3);
  test("a prepare quorum's states: the highest slot any of them holds", () => {
    expect(readIndexOf(of({ a: [5, 7], b: [5] }), three, 3)).toBe(7);
    expect(readIndexOf(of({ a: [4], b: [6] }), three, 3)).toBe(6);
  });

  test("every replica answering lowers it: a slot held by a minority only (never acknowledged) no longer counts", () => {
    expect(readIndexOf(of({ a: [5, 7], b: [5], c: [5] }), three, 3)).toBe(5);
    // Held by two of three (an accept quorum): it may have been acknowledged, so it counts.
    expect(readIndexOf(of({ a: [5, 7], b: [5, 7], c: [5] }), three, 3)).toBe(7);
  });

  test("fewer than a prepare quorum cannot tell: infinity", () => {
    expect(readIndexOf(of({ a: [9] }), three, 3)).toBe(Number.POSITIVE_INFINITY);
    expect(readIndexOf([], three, 3)).toBe(Number.POSITIVE_INFINITY);
  });

  test("flexible quorums, prepare 4 and accept 2 of 5", () => {
    const flexible = quorumConfig(5, 4, 2);
    // Four answering: an accept quorum of two meets them in at least one replica, so the highest counts.
    expect(readIndexOf(of({ a: [3, 8], b: [3], c: [3], d: [3] }), flexible, 5)).toBe(8);
    // All five: a slot held by one only was never acknowledged (an accept quorum is two).
    expect(readIndexOf(of({ a: [3, 8], b: [3], c: [3], d: [3], e: [3] }), flexible, 5)).toBe(3);
    expect(readIndexOf(of({ a: [3, 8], b: [3], c: [3], d: [3], e: [3, 8] }), flexible, 5)).toBe(8);
    // Three answering: the two that did not may be the whole accept quorum.
    expect(readIndexOf(of({ a: [3, 8], b: [3], c: [3] }), flexible, 5)).toBe(Number.POSITIVE_INFINITY);
  });

  test("the recovery is due at the poll read_index_polls_max, then every read_index_polls_between_syncs polls", () => {
    const due = Array.from({ length: 50 }, (_, i) => i + 1).filter(readIndexSyncDue);
    expect(due).toEqual([read_index_polls_max, read_index_polls_max + 20, read_index_polls_max + 40]);
  });
});

interface Replica {
  delay_ms: number;
  state: ReplicaState;
  /** "down" rejects after its delay; "silent" never answers. */
  fault?: "down" | "silent";
}

/** Replicas answering after their delay; the reader's env over virtual time. */
function harness(
  replicas: Record<string, Replica>,
  options: {
    quorum?: QuorumConfig;
    sync?: () => Promise<void>;
    reader?: ReadOptions;
    nearestFirst?: readonly string[];
  } = {},
) {
  const world = new World();
  const ids = Object.keys(replicas);
  const calls: string[] = [];
  let syncs = 0;
  const answer = <T>(id: string, what: string, value: () => T): Promise<T> => {
    calls.push(`${what} ${id}`);
    const r = replicas[id]!;
    return new Promise<T>((resolve, reject) => {
      if (r.fault === "silent") return;
      world.schedule(r.delay_ms, () => (r.fault === "down" ? reject(new Error(`${id} is down`)) : resolve(value())));
    });
  };
  const reader = new LedgerReader(
    {
      replicas: ids,
      quorum: options.quorum ?? quorumConfig(ids.length),
      readState: (id) => answer(id, "state", () => replicas[id]!.state),
      now_ms: () => world.now_ms,
      sleep: (ms) => world.sleep(ms),
      withTimeout: <T>(work: Promise<T>, ms: number, what: string) =>
        new Promise<T>((resolve, reject) => {
          work.then(resolve, reject);
          world.schedule(ms, () => reject(new ReplicaTimeoutError(`${what} timed out after ${ms} ms`)));
        }),
      // Nearest first: as given (a platform's latency estimates), else by delay.
      nearestFirst: () =>
        options.nearestFirst ?? [...ids].sort((a, b) => replicas[a]!.delay_ms - replicas[b]!.delay_ms),
      sync: () => {
        syncs++;
        return options.sync?.() ?? Promise.resolve();
      },
    },
    options.reader,
  );
  /** Runs one read to its end in virtual time; returns what it returned (or threw) and when. */
  const read = async (consistency: Consistency = { mode: "linearizable" }) => {
    let outcome: { served?: { replica: string; seq: number }; error?: unknown } | undefined;
    reader
      .read(consistency, (id) => answer(id, "read", () => ({ state: replicas[id]!.state })))
      .then(
        ({ value, replica }) => (outcome = { served: { replica, seq: value.state.head.seq } }),
        (error: unknown) => (outcome = { error }),
      );
    await world.run(read_index_wait_ms + 10 * read_timeout_ms, 100_000, () => outcome !== undefined);
    expect(outcome, "the read settled").toBeDefined();
    return { ...outcome!, at_ms: world.now_ms, syncs, calls };
  };
  return { world, read, replicas };
}

describe("LedgerReader: linearizable reads", () => {
  test("served by the nearest replica that has applied the read index, after a prepare quorum's states", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(5) },
      b: { delay_ms: 2, state: state(7) },
      c: { delay_ms: 30, state: state(7) },
    });
    const r = await h.read();
    // a and b answer first (a prepare quorum of two): index 7, applied by b only; c's state came too late to matter.
    expect(r.served).toEqual({ replica: "b", seq: 7 });
    expect(r.syncs).toBe(0);
    expect(r.calls.filter((c) => c.startsWith("read "))).toEqual(["read b"]);
  });

  test("a replica behind (the nearest) is skipped: the read goes to one that has applied the index", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(5) },
      b: { delay_ms: 30, state: state(7) },
      c: { delay_ms: 40, state: state(7) },
    });
    const r = await h.read();
    expect(r.served).toEqual({ replica: "b", seq: 7 });
  });

  test("a replica that falls behind between its state and the read is not used: ReplicaBehind, then the next", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(7) },
      b: { delay_ms: 2, state: state(7) },
      c: { delay_ms: 30, state: state(7) },
    });
    // a answers its state at 1 ms with 7 applied, then is rolled back (say, a restored copy): the read must not take it.
    h.world.schedule(1.5, () => (h.replicas.a!.state = state(4)));
    const r = await h.read();
    expect(r.served).toEqual({ replica: "b", seq: 7 });
    expect(r.calls.filter((c) => c.startsWith("read "))).toEqual(["read a", "read b"]);
  });

  test("when the replicas seen to have applied the index fail, the others are tried, nearest first", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(5) },
      b: { delay_ms: 2, state: state(7) },
      c: { delay_ms: 30, state: state(7) },
    });
    // b answers its state (index 7, only b seen to have applied it), then goes down before the read.
    h.world.schedule(2.5, () => (h.replicas.b!.fault = "down"));
    const r = await h.read();
    expect(r.served).toEqual({ replica: "c", seq: 7 });
    expect(r.calls.filter((c) => c.startsWith("read "))).toEqual(["read b", "read a", "read c"]);
  });

  test("among the replicas that applied the index, the nearest by the platform's estimate serves, not the first to answer", async () => {
    const h = harness(
      { a: { delay_ms: 1, state: state(7) }, b: { delay_ms: 2, state: state(7) }, c: { delay_ms: 3, state: state(7) } },
      { quorum: quorumConfig(3, 3, 1), nearestFirst: ["c", "b", "a"] },
    );
    const r = await h.read();
    expect(r.served).toEqual({ replica: "c", seq: 7 });
  });

  test("a poll does not wait for a silent replica once one that answered has applied the index", async () => {
    const replicas: Record<string, Replica> = {
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7, 8) },
      c: { delay_ms: 3, state: state(7), fault: "silent" },
    };
    const h = harness(replicas);
    h.world.schedule(20, () => (replicas.b!.state = state(8)));
    const r = await h.read();
    expect(r.served).toEqual({ replica: "b", seq: 8 });
    expect(r.at_ms, "settled by a and b, not by c's timeout").toBeLessThan(2 * read_index_poll_interval_ms + 10);
  });

  test("the index never rises while a read waits: writes after it began are not waited for", async () => {
    const replicas: Record<string, Replica> = {
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7) },
      c: { delay_ms: 30, state: state(7) },
    };
    const h = harness(replicas);
    // Slot 8 reaches b; meanwhile slot 9, proposed after the read began, is accepted by a and c.
    h.world.schedule(10, () => {
      replicas.a!.state = state(7, 9);
      replicas.b!.state = state(8);
      replicas.c!.state = state(7, 9);
    });
    const r = await h.read();
    expect(r.served).toEqual({ replica: "b", seq: 8 });
    expect(r.syncs).toBe(0);
  });

  test("every replica answering lowers the index: a minority's accepted slot does not hold the read up", async () => {
    // a holds slot 8 accepted (a leader died mid-round); b's state alone with a's gives 8, which nobody applied.
    const h = harness({
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7) },
      c: { delay_ms: 30, state: state(7) },
    });
    const r = await h.read();
    expect(r.served).toEqual({ replica: "a", seq: 7 });
    expect(r.syncs, "no recovery needed: one poll of every replica settles it").toBe(0);
    expect(r.at_ms).toBeGreaterThanOrEqual(read_index_poll_interval_ms);
    expect(r.at_ms).toBeLessThan(2 * read_index_poll_interval_ms + 30 * 2);
  });

  test("an index no replica applies: sync after read_index_polls_max polls, then the decision's application is awaited", async () => {
    // Slot 8 accepted by an accept quorum (a, b) and never committed: it may have been acknowledged.
    const replicas: Record<string, Replica> = {
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7, 8) },
      c: { delay_ms: 3, state: state(7) },
    };
    let syncAt_ms: number | undefined;
    const h = harness(replicas, {
      sync: () => {
        syncAt_ms = h.world.now_ms;
        // The recovery decides slot 8; its commit reaches b 20 ms later.
        h.world.schedule(20, () => (replicas.b!.state = state(8)));
        return h.world.sleep(5);
      },
    });
    const r = await h.read();
    expect(r.served).toEqual({ replica: "b", seq: 8 });
    expect(r.syncs).toBe(1);
    // Three polls of 50 ms (each with a round of states) came before the sync of the fourth.
    expect(syncAt_ms).toBeGreaterThanOrEqual((read_index_polls_max - 1) * read_index_poll_interval_ms);
    expect(syncAt_ms).toBeLessThan(read_index_polls_max * read_index_poll_interval_ms);
  });

  test("a sync that fails (no phase-1 quorum) answers 503 at once", async () => {
    const h = harness(
      {
        a: { delay_ms: 1, state: state(7, 8) },
        b: { delay_ms: 2, state: state(7, 8) },
        c: { delay_ms: 3, state: state(7) },
      },
      { sync: () => Promise.reject(new Error("no quorum")) },
    );
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toMatch(/could not be decided: no quorum/);
    expect(r.syncs).toBe(1);
  });

  test("an index never applied: 503 once read_index_wait_ms has passed, after read_index_syncs_max recoveries", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7, 8) },
      c: { delay_ms: 3, state: state(7) },
    });
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toMatch(/through slot 8\) within 6000 ms/);
    expect(r.syncs).toBe(3);
    expect(r.at_ms).toBeGreaterThanOrEqual(read_index_wait_ms);
    // It ends at the first poll past the wait, not later.
    expect(r.at_ms).toBeLessThan(read_index_wait_ms + 2 * read_index_poll_interval_ms);
  });

  test("503 when fewer than a prepare quorum answer (down or silent)", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(7) },
      b: { delay_ms: 2, state: state(7), fault: "down" },
      c: { delay_ms: 3, state: state(7), fault: "silent" },
    });
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toMatch(
      /^only 1 of 3 replicas answered \(a linearizable read needs 2\): b is down; read of c timed out after 2000 ms$/,
    );
    expect(r.at_ms).toBe(read_timeout_ms);
  });

  test("flexible quorums (prepare 4, accept 2 of 5): four states are needed, and three are not enough", async () => {
    // The down replicas are the farthest: their failures come after the others' states.
    const five = (downs: number) =>
      harness(
        Object.fromEntries(
          ["a", "b", "c", "d", "e"].map((id, i) => [
            id,
            { delay_ms: i + 1, state: state(i === 3 ? 6 : 5), fault: i >= 5 - downs ? ("down" as const) : undefined },
          ]),
        ),
        { quorum: quorumConfig(5, 4, 2) },
      );
    const one = await five(1).read();
    // a, b, c, d answered: d holds 6, so the index is 6 and d (the only one that applied it) serves the read.
    expect(one.served).toEqual({ replica: "d", seq: 6 });
    const two = await five(2).read();
    expect(two.error).toBeInstanceOf(ReadUnavailableError);
    expect((two.error as Error).message).toMatch(/only 3 of 5 replicas answered \(a linearizable read needs 4\)/);
  });
});

describe("LedgerReader: local reads", () => {
  test("local: the nearest replica that answers, however far behind", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(2), fault: "down" },
      b: { delay_ms: 2, state: state(3) },
      c: { delay_ms: 3, state: state(9) },
    });
    const r = await h.read({ mode: "local" });
    expect(r.served).toEqual({ replica: "b", seq: 3 });
  });

  test("local with minSeq: the nearest whose head reached it; when none has, a linearizable read", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(2) },
      b: { delay_ms: 2, state: state(9) },
      c: { delay_ms: 3, state: state(9) },
    });
    const reached = await h.read({ mode: "local", minSeq: 9 });
    expect(reached.served).toEqual({ replica: "b", seq: 9 });
    expect(reached.calls, "a local read asks no replica for its state").toEqual(["read a", "read b"]);
    const beyond = await h.read({ mode: "local", minSeq: 10 });
    // Nobody has seq 10 (a minSeq from the future, or another ledger): the linearizable fallback answers.
    expect(beyond.served).toEqual({ replica: "b", seq: 9 });
    expect(beyond.calls.slice(2, 5)).toEqual(["read a", "read b", "read c"]);
    expect(beyond.calls.slice(5, 8)).toEqual(["state a", "state b", "state c"]);
  });

  test("local with every replica down: 503", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(2), fault: "down" },
      b: { delay_ms: 2, state: state(3), fault: "down" },
    });
    const r = await h.read({ mode: "local" });
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toBe("no replica answered: a is down; b is down");
  });
});

describe("LedgerReader: the planted bug", () => {
  test("read_index_from_one_replica: the nearest replica's own state is the index, so a replica behind serves a stale read", async () => {
    // Slot 8 was acknowledged by the accept quorum b, c; a (nearest) missed its Accept.
    const replicas = {
      a: { delay_ms: 1, state: state(7) },
      b: { delay_ms: 30, state: state(8) },
      c: { delay_ms: 40, state: state(8) },
    };
    const correct = await harness(replicas).read();
    expect(correct.served).toEqual({ replica: "b", seq: 8 });
    const sabotaged = await harness(replicas, { reader: { sabotage: "read_index_from_one_replica" } }).read();
    expect(sabotaged.served).toEqual({ replica: "a", seq: 7 });
  });
});

/**
 * Cases added for the survivors of `npm run mutate -- --mutate src/core/read-index.ts` (issue #10
 * item 5): an env outside virtual time (a clock that does not move, a sleep that returns at once),
 * the exact edge of the time bound, and the messages of the 503s.
 */
describe("LedgerReader: bounds and messages (mutation survivors)", () => {
  /** An env whose clock never moves and whose calls settle at once: only the poll bound ends a read. */
  function frozenEnv(
    states: Record<string, ReplicaState>,
    counters: { states: number; syncs: number; sleeps: number[] },
  ) {
    const ids = Object.keys(states);
    return {
      replicas: ids,
      quorum: quorumConfig(ids.length),
      readState: (id: string) => {
        counters.states++;
        return Promise.resolve(states[id]!);
      },
      now_ms: () => 0,
      sleep: (ms: number) => {
        counters.sleeps.push(ms);
        return Promise.resolve();
      },
      withTimeout: <T>(work: Promise<T>) => work,
      nearestFirst: () => ids,
      sync: () => {
        counters.syncs++;
        return Promise.resolve();
      },
    };
  }

  test("the errors carry their class's name (the 503 mapping and the logs tell them apart by it)", () => {
    expect(new ReplicaBehindError("x").name).toBe("ReplicaBehindError");
    expect(new ReadUnavailableError("x").name).toBe("ReadUnavailableError");
    expect(new ReplicaTimeoutError("x").name).toBe("ReplicaTimeoutError");
  });

  test("a sleep that returns at once: the read ends after read_index_polls_limit polls (124), not never", async () => {
    // 6000 ms / 50 ms = 120 polls of time, plus the read_index_polls_max polls before the first sync.
    expect(read_index_polls_limit).toBe(124);
    const counters = { states: 0, syncs: 0, sleeps: [] as number[] };
    const reader = new LedgerReader(frozenEnv({ a: state(7, 8), b: state(7, 8), c: state(7) }, counters));
    const error = await reader
      .read({ mode: "linearizable" }, () => Promise.reject(new Error("not reached")))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadUnavailableError);
    expect((error as Error).message).toBe(
      "no replica has applied every acknowledged slot (through slot 8) within 6000 ms",
    );
    // The first round of states, then one round of every replica's states per poll.
    expect(counters.states).toBe(3 * (1 + 124));
    expect(counters.syncs).toBe(3);
    // Polls 4, 24 and 44 raced their sync against the time left (6000 ms, the clock never moved); every other poll slept 50 ms.
    expect(counters.sleeps.filter((ms) => ms === read_index_wait_ms)).toHaveLength(3);
    expect(counters.sleeps.filter((ms) => ms === read_index_poll_interval_ms)).toHaveLength(124 - 3);
  });
  test("a read whose every replica fails after the index: 503 naming each failure, each read labelled with its replica", async () => {
    const counters = { states: 0, syncs: 0, sleeps: [] as number[] };
    const env = frozenEnv({ a: state(7), b: state(7), c: state(5) }, counters);
    const labels: string[] = [];
    const reader = new LedgerReader({
      ...env,
      withTimeout: <T>(work: Promise<T>, _ms: number, what: string) => {
        labels.push(what);
        return work;
      },
    });
    // a and b answer first (a prepare quorum): index 7, applied by both; then a is down, b rolled back, c behind.
    const answers: Record<string, () => Promise<{ state: ReplicaState }>> = {
      a: () => Promise.reject(new Error("a is down")),
      b: () => Promise.resolve({ state: state(5) }),
      c: () => Promise.reject(new ReplicaTimeoutError("read of c timed out")),
    };
    const error = await reader.read({ mode: "linearizable" }, (id) => answers[id]!()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadUnavailableError);
    expect((error as Error).message).toBe(
      "no replica that has applied slot 7 answered: a is down; b has applied slot 5, not 7; read of c timed out",
    );
    expect(labels.filter((what) => what.startsWith("read of "))).toEqual([
      "read of a",
      "read of b",
      "read of c",
      "read of a",
      "read of b",
      "read of c",
    ]);
    expect(counters.states).toBe(3);
  });

  test("a local read labels each replica's read with its name", async () => {
    const counters = { states: 0, syncs: 0, sleeps: [] as number[] };
    const labels: string[] = [];
    const reader = new LedgerReader({
      ...frozenEnv({ a: state(2), b: state(3) }, counters),
      withTimeout: <T>(work: Promise<T>, _ms: number, what: string) => {
        labels.push(what);
        return work;
      },
    });
    const served = await reader.read({ mode: "local", minSeq: 3 }, (id) =>
      Promise.resolve({ state: id === "a" ? state(2) : state(3) }),
    );
    expect(served.replica).toBe("b");
    expect(labels).toEqual(["read of a", "read of b"]);
  });

  test("a sync that rejects without a reason: 503 with 'sync failed'", async () => {
    const h = harness(
      {
        a: { delay_ms: 1, state: state(7, 8) },
        b: { delay_ms: 2, state: state(7, 8) },
        c: { delay_ms: 3, state: state(7) },
      },
      // The case under test: a rejection that carries no Error at all.
      { sync: () => Promise.reject(undefined) },
    );
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toBe("the slots above every applied prefix could not be decided: sync failed");
  });

  test("every replica down: 503 'no replica answered' once too few are left to make a quorum", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(7), fault: "down" },
      b: { delay_ms: 2, state: state(7), fault: "down" },
      c: { delay_ms: 3, state: state(7), fault: "down" },
    });
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toBe("no replica answered (a linearizable read needs 2): a is down; b is down");
  });

  test("a poll counts a replica that fails: with one down, an index nobody applies still ends in 503, not a hang", async () => {
    const h = harness({
      a: { delay_ms: 1, state: state(7, 8) },
      b: { delay_ms: 2, state: state(7, 8) },
      c: { delay_ms: 3, state: state(7), fault: "down" },
    });
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect((r.error as Error).message).toBe(
      "no replica has applied every acknowledged slot (through slot 8) within 6000 ms",
    );
    expect(r.at_ms).toBeLessThan(read_index_wait_ms + 2 * read_index_poll_interval_ms);
  });

  test("the time bound is inclusive: a poll that finds exactly 0 ms left ends the read at read_index_wait_ms", async () => {
    // Replicas that answer at once: the polls fall on multiples of 50 ms (syncs take no time), one exactly at 6000 ms.
    const h = harness({
      a: { delay_ms: 0, state: state(7, 8) },
      b: { delay_ms: 0, state: state(7, 8) },
      c: { delay_ms: 0, state: state(7) },
    });
    const r = await h.read();
    expect(r.error).toBeInstanceOf(ReadUnavailableError);
    expect(r.syncs).toBe(3);
    expect(r.at_ms).toBe(read_index_wait_ms);
  });
});
