/**
 * The proposer's group-commit queue and its driver (src/core/proposer/group-commit.ts, and the errors and types beside it): what a
 * request is answered and when, what a group round groups, who drives, the driver's tenure and budget,
 * the 503 and 429 texts, the status counters and `recentCommits`. Each case puts a production
 * Proposer over real Acceptors (`proposerCluster`, virtual time) into one exact state and checks
 * what it answers and sends. Times below are virtual: with the default one-way delay of 10 ms a
 * quorum round trip is 20 ms, so a cold commit (phase 1, then phase 2) takes 40 ms and a warm one 20 ms.
 */
import { describe, expect, test } from "vitest";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { SlotOutcome } from "../../src/core/ledger-types.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import {
  ownEntriesCreated,
  Proposer,
  ProposerOverloadedError,
  QuorumUnavailableError,
} from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { appendValue, trade } from "./fixtures.js";
import { epoch_ms, type ProposerCluster, proposerCluster } from "./proposer-cluster.js";

const round_trip_ms = 20;
const cold_commit_ms = 2 * round_trip_ms;
const warm_commit_ms = round_trip_ms;
const poll_ms = limits.driver_takeover_poll_ms;

type Answer = ReturnType<ProposerCluster["start"]>;

/** Starts an append at virtual time `at_ms` (absolute); its answer lands in the returned box. */
function startAt(c: ProposerCluster, at_ms: number, entries: readonly EntryInput[], deadline_ms?: number) {
  const holder: { box?: Answer } = {};
  c.world.schedule(at_ms - c.world.now_ms, () => {
    holder.box = c.start(entries, deadline_ms === undefined ? {} : { deadline_ms });
  });
  return {
    get answer() {
      return holder.box?.answer;
    },
  };
}

/** Starts a sync now; its answer (with when it came, ms of virtual time) lands in the returned box. */
function startSync(c: ProposerCluster, deadline_ms?: number) {
  const started_ms = c.world.now_ms;
  const box: { answer?: { ok: boolean; error?: unknown; took_ms: number } } = {};
  c.proposer.sync(undefined, deadline_ms === undefined ? {} : { deadline_ms }).then(
    () => (box.answer = { ok: true, took_ms: c.world.now_ms - started_ms }),
    (error: unknown) => (box.answer = { ok: false, error, took_ms: c.world.now_ms - started_ms }),
  );
  return box;
}

/** The error of a failed answer, as a QuorumUnavailableError. */
function quorumError(answer: { ok: boolean; error?: unknown } | undefined): QuorumUnavailableError {
  expect(answer?.ok).toBe(false);
  const error = (answer as { error?: unknown }).error;
  expect(error).toBeInstanceOf(QuorumUnavailableError);
  return error as QuorumUnavailableError;
}

/** Per slot the Accepts proposed an append in: the ids of its entries, batch by batch (in slot order). */
function proposedBatches(c: ProposerCluster): string[][][] {
  const bySlot = new Map<number, string[][]>();
  for (const m of c.sentOf("accept")) {
    for (const s of m.request.slots) {
      if (s.value.kind === "append")
        bySlot.set(
          s.slot,
          s.value.batches.map((b) => b.map((e) => e.id)),
        );
    }
  }
  return [...bySlot.entries()].sort((x, y) => x[0] - y[0]).map(([, batches]) => batches);
}

/** Limits of these tests: production's with some turned down. */
function limitsWith(overrides: Partial<CoreLimits>): CoreLimits {
  return { ...limits, ...overrides };
}

// Lines 84-107: the errors' names and what a bare QuorumUnavailableError says of its outcome.
describe("the proposer's errors", () => {
  test("a QuorumUnavailableError is named so, and its outcome is unknown unless it says it was not proposed", () => {
    const bare = new QuorumUnavailableError("no quorum");
    expect(bare.name).toBe("QuorumUnavailableError");
    expect(bare.outcomeUnknown).toBe(true);
    expect(new QuorumUnavailableError("x", {}).outcomeUnknown).toBe(true);
    expect(new QuorumUnavailableError("x", { proposed: true }).outcomeUnknown).toBe(true);
    expect(new QuorumUnavailableError("x", { proposed: false }).outcomeUnknown).toBe(false);
    expect(new ProposerOverloadedError("full").name).toBe("ProposerOverloadedError");
  });

  test("a request over the queue's byte bound is refused as ProposerOverloadedError (429), named so", async () => {
    const entries = [trade("big")];
    const bytes = new TextEncoder().encode(JSON.stringify(entries)).length;
    const c = proposerCluster({ limits: limitsWith({ proposer_queue_bytes_max: bytes - 1 }), acceptorLimits: limits });
    const answer = await c.append(entries);
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.error).toBeInstanceOf(ProposerOverloadedError);
    expect((answer.error as Error).name).toBe("ProposerOverloadedError");
    expect((answer.error as Error).message).toBe(`queue holds ${bytes - 1} bytes of entries`);
    expect(c.sent).toEqual([]);
  });

  test("after its attempts ran out, the 503 has outcome unknown and says how many attempts", async () => {
    // Every Accept is refused by a higher ballot: phase 1 succeeds, phase 2 never does.
    const c = proposerCluster({ limits: limitsWith({ append_attempts_max: 2 }) });
    c.control.route = (_to, request) =>
      request.type === "accept"
        ? { kind: "answer", reply: { type: "reject", promised: { round: Number.MAX_SAFE_INTEGER, proposerId: "z" } } }
        : { kind: "deliver" };
    const answer = await c.append();
    const error = quorumError(answer);
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toBe("no quorum after 2 attempts");
  });
});

// Lines 189-194: an acceptor call's error, quoted in a 503, is cut at 120 characters.
describe("the acceptors' errors quoted in a 503", () => {
  test("an error of up to 120 characters is quoted whole; a longer one is cut to 120 and marked", async () => {
    const exactly_120 = "x".repeat(120);
    const longer = `${"y".repeat(120)}TAIL`;
    const c = proposerCluster();
    c.control.route = (to) =>
      to === "a"
        ? { kind: "fail", why: exactly_120 }
        : to === "b"
          ? { kind: "fail", why: longer }
          : { kind: "deliver" };
    const error = quorumError(await c.append());
    expect(error.message).toBe(
      `1 of 3 acceptors reachable, 2 needed (a failed: ${exactly_120}; b failed: ${"y".repeat(120)}...)`,
    );
  });
});

// Lines 313-320: the constructor refuses an environment or limits it cannot work with.
describe("what the constructor refuses", () => {
  const env = proposerCluster().env;
  test("acceptor ids that do not match the quorum config", () => {
    expect(() => new Proposer({ ...env, acceptorIds: ["a", "b"] })).toThrow(
      "one acceptor id per acceptor of the quorum config",
    );
    expect(() => new Proposer({ ...env, quorum: quorumConfig(5) })).toThrow(
      "one acceptor id per acceptor of the quorum config",
    );
  });

  test("an empty proposer id (ballots are ordered by it); one character is enough", () => {
    expect(() => new Proposer({ ...env, proposerId: "" })).toThrow("proposer id is non-empty");
    expect(new Proposer({ ...env, proposerId: "q" }).isLeader).toBe(false);
  });

  test("an Accept without room for one slot beside the commits owed to its acceptor", () => {
    const owed = limits.owed_commit_slots_max;
    const tooSmall = limitsWith({ message_slots_max: owed + 1 });
    expect(() => new Proposer(env, { limits: tooSmall })).toThrow(
      "an Accept has room for one slot beside the commits owed to its acceptor",
    );
    expect(() => new Proposer(env, { limits: limitsWith({ message_slots_max: owed + 2 }) })).not.toThrow();
  });
});

// Lines 344-360: what append and sync refuse at once (asserts of the caller's contract).
describe("what a request may be", () => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => trade(`e${i}`));

  test("an append of 1 to request_entries_max entries is taken; none, or more, is refused", async () => {
    const c = proposerCluster({ limits: limitsWith({ request_entries_max: 3 }), acceptorLimits: limits });
    expect(() => c.proposer.append([])).toThrow("request size within limits");
    expect(() => c.proposer.append(entries(4))).toThrow("request size within limits");
    expect((await c.append(entries(3))).ok).toBe(true);
    expect((await c.append([trade("one")])).ok).toBe(true);
  });

  test("an append of exactly slot_value_bytes_max bytes is taken; one byte more is refused", async () => {
    const three = entries(3);
    const bytes = new TextEncoder().encode(JSON.stringify(three)).length;
    const c = proposerCluster({ limits: limitsWith({ slot_value_bytes_max: bytes }), acceptorLimits: limits });
    expect((await c.append(three)).ok).toBe(true);
    const tooBig = proposerCluster({ limits: limitsWith({ slot_value_bytes_max: bytes - 1 }), acceptorLimits: limits });
    expect(() => tooBig.proposer.append(three)).toThrow("a request fits in one slot");
  });

  test("a negative deadline is refused; a zero deadline is answered at once, 503 unsent, nothing applied", async () => {
    const c = proposerCluster();
    expect(() => c.proposer.append([trade("neg")], undefined, { deadline_ms: -1 })).toThrow(
      "a deadline is not negative",
    );
    expect(() => c.proposer.sync(undefined, { deadline_ms: -1 })).toThrow("a deadline is not negative");
    const answer = await c.append([trade("zero")], { deadline_ms: 0 });
    const error = quorumError(answer);
    expect(answer.took_ms).toBe(0);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 0 ms (waited 0 ms)",
    );
    expect(c.sent).toEqual([]);
  });
});

// Lines 321-339 and 516-523: the status page's view of recent commits, the counters, leadership.
describe("recent commits, counters and leadership", () => {
  /** Commits one single-entry-or-more request at a time, each with the given quorum round trip. */
  async function commitWithRoundTrips(
    c: ProposerCluster,
    round_trips_ms: readonly number[],
    entriesEach: (i: number) => number,
  ) {
    for (const [i, rtt_ms] of round_trips_ms.entries()) {
      for (const id of c.ids) c.one_way_ms[id] = rtt_ms / 2;
      const batch = Array.from({ length: entriesEach(i) }, (_, k) => trade(`r${i}-${k}`));
      expect((await c.append(batch)).ok).toBe(true);
    }
  }

  test("before any commit: no commits, no entries, no latency; not leader", () => {
    const c = proposerCluster();
    expect(c.proposer.recentCommits(60_000)).toEqual({ window_ms: 60_000, commits: 0, entries: 0, latency_ms: null });
    expect(c.proposer.isLeader).toBe(false);
  });

  test("latency percentiles are taken from the sorted latencies of the window's commits, numerically", async () => {
    const c = proposerCluster();
    // The first commit is cold (phase 1 and phase 2: two round trips); the rest are warm (one).
    // Latencies chosen so that string order and insertion order both differ from numeric order.
    const rtts_ms = [20, 100, 20, 8, 300, 60, 14, 200, 40, 120];
    await commitWithRoundTrips(c, rtts_ms, (i) => i + 1);
    expect(c.proposer.isLeader).toBe(true);
    const latencies_ms = [40, 100, 20, 8, 300, 60, 14, 200, 40, 120];
    const sorted = [...latencies_ms].sort((a, b) => a - b); // 8 14 20 40 40 60 100 120 200 300
    expect(c.proposer.recentCommits(600_000)).toEqual({
      window_ms: 600_000,
      commits: 10,
      entries: 55,
      latency_ms: { p50: sorted[5], p90: sorted[9], p99: sorted[9], max: 300 },
    });
    expect(c.proposer.stats.requests_committed).toBe(10);
    expect(c.proposer.stats.entries_committed).toBe(55);
  });

  test("the window counts a commit exactly window_ms old and none older", async () => {
    const c = proposerCluster();
    expect((await c.append([trade("w1"), trade("w2")])).ok).toBe(true);
    const committed_ms = c.world.now_ms;
    await c.runFor(1000);
    const age_ms = c.world.now_ms - committed_ms;
    expect(c.proposer.recentCommits(age_ms)).toEqual({
      window_ms: age_ms,
      commits: 1,
      entries: 2,
      latency_ms: { p50: cold_commit_ms, p90: cold_commit_ms, p99: cold_commit_ms, max: cold_commit_ms },
    });
    expect(c.proposer.recentCommits(age_ms - 1)).toEqual({
      window_ms: age_ms - 1,
      commits: 0,
      entries: 0,
      latency_ms: null,
    });
  });

  test("the history keeps the last commit_history_max commits, oldest dropped", async () => {
    const c = proposerCluster({ limits: limitsWith({ commit_history_max: 2 }) });
    await commitWithRoundTrips(c, [20, 20, 20], (i) => i + 1);
    expect(c.proposer.recentCommits(600_000)).toMatchObject({ commits: 2, entries: 2 + 3 });
    await commitWithRoundTrips(c, [20], () => 4);
    expect(c.proposer.recentCommits(600_000)).toMatchObject({ commits: 2, entries: 3 + 4 });
  });

  test("leadership is cached after a phase 1 and given up when an Accept is refused", async () => {
    const c = proposerCluster({ limits: limitsWith({ append_attempts_max: 1 }) });
    expect((await c.append()).ok).toBe(true);
    expect(c.proposer.isLeader).toBe(true);
    c.control.route = (_to, request) =>
      request.type === "accept"
        ? { kind: "answer", reply: { type: "reject", promised: { round: Number.MAX_SAFE_INTEGER, proposerId: "z" } } }
        : { kind: "deliver" };
    expect((await c.append()).ok).toBe(false);
    expect(c.proposer.isLeader).toBe(false);
  });
});

/** When (virtual ms) each Accept that proposed a new append value was sent, by the first id it carries. */
function acceptSentAt(c: ProposerCluster): Map<string, number> {
  const at = new Map<string, number>();
  for (const m of c.sentOf("accept")) {
    for (const s of m.request.slots) {
      const first = s.value.kind === "append" ? s.value.batches[0]?.[0]?.id : undefined;
      if (first !== undefined && !at.has(first)) at.set(first, m.at_ms);
    }
  }
  return at;
}

// Lines 376-412 and 436-460: who drives, for how long, and when a request learns its outcome.
describe("the driver: tenure, rounds, takeover and wake-up", () => {
  test("the driving request is answered the moment its round ends; a taker-over is woken by the rounds it drives", async () => {
    // Round trips of 22 ms: a round never ends on a poll boundary (polls every 5 ms), so an answer at
    // the round's end, not at the next poll, is visible. The tenure ends exactly when the first round does.
    const cold_ms = 44;
    const warm_ms = 22;
    const c = proposerCluster({
      one_way_ms: { a: 11, b: 11, c: 11 },
      limits: limitsWith({ driver_tenure_ms: cold_ms, slot_entries_max: 1 }),
      acceptorLimits: limits,
    });
    const x = startAt(c, 0, [trade("x")]); // drives: its round is 0..44, then its tenure is over
    const y = startAt(c, 3, [trade("y")]); // polls at 8, 13, ..., 43, 48
    const z = startAt(c, 6, [trade("z")]); // polls at 11, ..., 46: first to find no driver, so it drives y's round, then its own
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined && z.answer !== undefined);
    const sentAt = acceptSentAt(c);
    expect(sentAt.get("x")).toBe(round_trip_ms + 2); // after the prepare round trip of 22 ms
    expect(sentAt.get("y")).toBe(46);
    expect(sentAt.get("z")).toBe(46 + warm_ms);
    expect(x.answer).toMatchObject({ ok: true, took_ms: cold_ms });
    expect(y.answer).toMatchObject({ ok: true, took_ms: 68 - 3 }); // a poll of its own after y's round ended at 68
    expect(z.answer).toMatchObject({ ok: true, took_ms: 46 + 2 * warm_ms - 6 }); // the end of its own round, 90
  });

  test("a driver runs at most driver_rounds_max rounds; then a waiting request takes over at its next poll", async () => {
    const c = proposerCluster({ limits: limitsWith({ driver_rounds_max: 1 }) });
    const x = startAt(c, 0, [trade("x")]); // round 0..40
    const y = startAt(c, 2, [trade("y")]); // polls at 7, ..., 37, 42
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined);
    expect(acceptSentAt(c).get("y")).toBe(42);
    expect(y.answer).toMatchObject({ ok: true, took_ms: 42 + warm_commit_ms - 2 });
  });

  test("without a round budget, one driver runs every round of its tenure back to back", async () => {
    const c = proposerCluster();
    const x = startAt(c, 0, [trade("x")]);
    const y = startAt(c, 2, [trade("y")]);
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined);
    expect(acceptSentAt(c).get("y")).toBe(cold_commit_ms);
  });
});

// Lines 466-478: the subrequest budget decides whether a driver may start a round.
describe("the driver's subrequest budget decides each round", () => {
  const n = 3;
  const background = limits.round_background_messages_per_acceptor * n;
  const fullRound = limits.round_quorum_calls_max * n + background;

  test("a budget that covers a whole round: one driver runs every round, no handover", async () => {
    const c = proposerCluster({ subrequestsLeft: () => fullRound });
    const x = startAt(c, 0, [trade("x")]);
    const y = startAt(c, 1, [trade("y")]);
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined);
    expect(c.proposer.stats.budget_handovers).toBe(0);
    expect(acceptSentAt(c).get("y")).toBe(cold_commit_ms);
  });

  test("one call short of a whole round: the first round of a tenure runs, the next is handed over", async () => {
    const c = proposerCluster({ subrequestsLeft: () => fullRound - 1 });
    const x = startAt(c, 0, [trade("x")]);
    const y = startAt(c, 1, [trade("y")]); // polls at 6, ..., 41: takes over then
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined);
    expect(c.proposer.stats.budget_handovers).toBe(1);
    expect(acceptSentAt(c).get("y")).toBe(41);
    expect(y.answer?.ok).toBe(true);
  });

  test("a lone request on a short budget: its round runs, and an empty queue hands nothing over", async () => {
    const c = proposerCluster({ subrequestsLeft: () => fullRound - 1 });
    expect((await c.append()).ok).toBe(true);
    await c.runFor(1000);
    expect(c.proposer.stats.budget_handovers).toBe(0);
  });

  test("a first round runs on round_quorum_calls_min calls; below that nothing is sent and the request expires unproposed", async () => {
    const enough = proposerCluster({ subrequestsLeft: () => limits.round_quorum_calls_min * n + background });
    expect((await enough.append()).ok).toBe(true);
    const short = proposerCluster({ subrequestsLeft: () => limits.round_quorum_calls_min * n + background - 1 });
    const answer = await short.append(undefined, { deadline_ms: 100 });
    const error = quorumError(answer);
    expect(error.outcomeUnknown).toBe(false);
    expect(short.sent).toEqual([]);
    expect(short.proposer.stats.budget_handovers).toBe(100 / poll_ms + 1);
  });
});

// Lines 397-432, 482-486 and 545-548: a request's deadline, in the queue and in a round.
describe("deadlines: the 503 a request gets, when, and what it says", () => {
  test("queued behind a round that hangs: answered at its deadline to the millisecond, unproposed, and its bytes leave the queue", async () => {
    const entries = (id: string) => [trade(id)];
    const bytes = new TextEncoder().encode(JSON.stringify(entries("q1"))).length;
    const c = proposerCluster({ limits: limitsWith({ proposer_queue_bytes_max: bytes }) });
    expect((await c.append(entries("w0"))).ok).toBe(true);
    c.silent.add("a");
    c.silent.add("b");
    const head = c.start(entries("h0")); // its round waits on silent acceptors
    await c.runFor(1);
    const queued = await c.append(entries("q1"), { deadline_ms: 50 });
    expect(queued.took_ms).toBe(50);
    const error = quorumError(queued);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 50 ms (waited 50 ms)",
    );
    // The expired request's bytes were taken out of the queue's count: another as large still fits.
    const next = await c.append(entries("q2"), { deadline_ms: 50 });
    expect(quorumError(next).outcomeUnknown).toBe(false);
    c.silent.clear();
    await c.runUntil(() => head.answer !== undefined);
    expect(proposedBatches(c).flat(2)).not.toContain("q1");
    expect(proposedBatches(c).flat(2)).not.toContain("q2");
  });

  test("a queued sync that expires leaves the byte count exact: an append too large for the queue is still refused", async () => {
    const small = [trade("s")];
    const bytes = new TextEncoder().encode(JSON.stringify(small)).length;
    const c = proposerCluster({ limits: limitsWith({ proposer_queue_bytes_max: bytes }) });
    expect((await c.append(small)).ok).toBe(true);
    c.silent.add("a");
    c.silent.add("b");
    c.start([trade("h")]);
    await c.runFor(1);
    const sync = startSync(c, 30);
    await c.runUntil(() => sync.answer !== undefined);
    expect(quorumError(sync.answer).outcomeUnknown).toBe(false);
    const tooBig = await c.append([trade("b1"), trade("b2")]);
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) expect(tooBig.error).toBeInstanceOf(ProposerOverloadedError);
  });

  test("proposed, then no quorum by its deadline: 503 at the deadline, outcome unknown, with the time waited", async () => {
    const c = proposerCluster();
    c.silent.add("a");
    c.silent.add("b");
    const answer = await c.append([trade("p")], { deadline_ms: 100 });
    expect(answer.took_ms).toBe(100);
    const error = quorumError(answer);
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toBe("no quorum within its deadline of 100 ms (waited 100 ms)");
  });

  test("a sync in its round when its deadline passes: 503 'no quorum', outcome unknown", async () => {
    const c = proposerCluster();
    c.silent.add("a");
    c.silent.add("b");
    const sync = startSync(c, 100);
    await c.runUntil(() => sync.answer !== undefined);
    expect(sync.answer?.took_ms).toBe(100);
    const error = quorumError(sync.answer);
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toBe("no quorum within its deadline of 100 ms (waited 100 ms)");
  });

  test("at the head of the queue when a round starts on its deadline: answered unproposed by that round", async () => {
    const c = proposerCluster();
    const x = startAt(c, 0, [trade("x")]); // round 0..40
    const y = startAt(c, 1, [trade("y")], 39); // deadline at 40, exactly when the next round starts; polls at 36, 41
    await c.runUntil(() => x.answer !== undefined && y.answer !== undefined);
    // Expired by the round at 40; the request itself returns at its next poll, 41.
    expect(y.answer?.took_ms).toBe(40);
    const error = quorumError(y.answer);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 39 ms (waited 39 ms)",
    );
    expect(proposedBatches(c)).toEqual([[["x"]]]);
  });

  test("a sync at the head of the queue when a round starts on its deadline: answered unproposed, no phase 1 run for it", async () => {
    const c = proposerCluster();
    const x = startAt(c, 0, [trade("x")]); // round 0..40
    let sync: ReturnType<typeof startSync> | undefined;
    c.world.schedule(1, () => (sync = startSync(c, 39))); // deadline at 40, exactly when the next round starts
    await c.runUntil(() => x.answer !== undefined && sync?.answer !== undefined);
    const error = quorumError(sync?.answer);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 39 ms (waited 39 ms)",
    );
    expect(c.proposer.stats.phase1_runs).toBe(1); // x's only
  });

  test("behind a live head when a round starts on its deadline: left out of the group, answered unproposed", async () => {
    const c = proposerCluster();
    const w = startAt(c, 0, [trade("w")]); // round 0..40
    const x = startAt(c, 1, [trade("x")]);
    const y = startAt(c, 1, [trade("y")], 39); // deadline at 40, when x's round takes its group
    const z = startAt(c, 1, [trade("z")]);
    await c.runUntil(() => [w, x, y, z].every((r) => r.answer !== undefined));
    expect(y.answer?.took_ms).toBe(40); // expired at 40 by the round, returned at its poll at 41
    const error = quorumError(y.answer);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 39 ms (waited 39 ms)",
    );
    expect(proposedBatches(c)).toEqual([[["w"]], [["x"], ["z"]]]);
    expect(z.answer?.ok).toBe(true);
  });

  test("a request whose deadline is over before it is queued: its own drive loop answers it and ends cleanly", async () => {
    const c = proposerCluster();
    const loops: Array<Promise<unknown>> = [];
    const outcome = c.proposer.append([trade("late")], (work) => loops.push(work), { deadline_ms: 0 });
    await expect(outcome).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(loops).toHaveLength(1);
    await expect(loops[0]).resolves.toBeUndefined();
    expect(c.sent).toEqual([]);
  });
});

// Lines 487-501: a sync request's round (a fresh phase 1 that finishes what it recovers).
describe("sync", () => {
  test("on a healthy cluster: one prepare to each acceptor, answered when the promises are in", async () => {
    const c = proposerCluster();
    const sync = startSync(c);
    await c.runUntil(() => sync.answer !== undefined);
    expect(sync.answer).toEqual({ ok: true, took_ms: round_trip_ms });
    expect(c.sentOf("prepare").map((m) => m.to)).toEqual(["a", "b", "c"]);
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(c.proposer.isLeader).toBe(true);
  });

  test("finishes a slot another proposer left accepted but undecided", async () => {
    const c = proposerCluster();
    const q = proposerCluster({ sharing: c, proposerId: "q" });
    // q's Accept reaches a only (its replies and the other Accepts are lost): slot 1 accepted, undecided.
    q.control.route = (to, request) =>
      request.type !== "accept" ? { kind: "deliver" } : to === "a" ? { kind: "lose_reply" } : { kind: "lose" };
    q.start([trade("left")]);
    await c.runFor(100);
    expect(c.acceptors.b!.store.entryById("left")).toBeUndefined();
    const sync = startSync(c);
    await c.runUntil(() => sync.answer !== undefined);
    expect(sync.answer?.ok).toBe(true);
    // A fresh proposer's first round is not under load: the recovered slot's Accept goes to every acceptor.
    expect(c.sentOf("accept").map((m) => m.to)).toEqual(["a", "b", "c"]);
    // Well before q's own quorum timeout (1000 ms) could make it try again: the sync chose the slot.
    await c.runFor(100);
    expect(c.world.now_ms).toBeLessThan(limits.quorum_timeout_ms);
    for (const id of c.ids) expect(c.acceptors[id]!.store.entryById("left"), id).toBeDefined();
  });

  test("a sync splits the queue: appends ahead of it share a slot, those behind it wait for its phase 1", async () => {
    const c = proposerCluster();
    const head = c.start([trade("h")]); // round 0..40; the rest queue behind it
    const a1 = c.start([trade("a1")]);
    const a2 = c.start([trade("a2")]);
    const sync = startSync(c);
    const b1 = c.start([trade("b1")]);
    await c.runUntil(() => [head, a1, a2, b1].every((r) => r.answer !== undefined) && sync.answer !== undefined);
    expect(sync.answer?.ok).toBe(true);
    expect(proposedBatches(c)).toEqual([[["h"]], [["a1"], ["a2"]], [["b1"]]]);
    expect(c.proposer.stats.phase1_runs).toBe(2); // h's and the sync's
    const syncPrepare_ms = c.sentOf("prepare").at(-1)!.at_ms;
    expect(c.sentOf("accept").at(-1)!.at_ms).toBeGreaterThan(syncPrepare_ms);
  });

  test("with a quorum down: 503 at once with why, and the append queued behind it answered unproposed at once", async () => {
    const c = proposerCluster();
    c.down.add("a");
    c.down.add("b");
    const sync = startSync(c);
    const behind = c.start([trade("behind")]);
    await c.runUntil(() => sync.answer !== undefined && behind.answer !== undefined);
    const reachable = "1 of 3 acceptors reachable, 2 needed (a failed: a is down; b failed: b is down)";
    expect(sync.answer?.took_ms).toBe(1);
    const error = quorumError(sync.answer);
    expect(error.message).toBe(reachable);
    expect(error.outcomeUnknown).toBe(true);
    const queued = quorumError(behind.answer);
    expect(behind.answer?.took_ms).toBeLessThanOrEqual(poll_ms);
    expect(queued.outcomeUnknown).toBe(false);
    expect(queued.message).toBe(`not proposed: ${reachable}`);
    expect(c.sentOf("accept")).toEqual([]);
  });
});

// Lines 507-513 and 535-537: which rounds count as under load (their Accepts thrifty: to the fastest
// accept quorum only, once latencies are known) and which go to every acceptor.
describe("under load or not: who a round's Accept goes to", () => {
  /** Fast a and b, slow c: a thrifty Accept goes to a and b only. */
  const one_way_ms = { a: 1, b: 2, c: 30 };

  /** Per slot proposed (in order), how many acceptors its first Accept went to. */
  function acceptFanout(c: ProposerCluster): number[] {
    const bySlot = new Map<number, Set<string>>();
    for (const m of c.sentOf("accept")) {
      for (const s of m.request.slots) {
        const to = bySlot.get(s.slot) ?? new Set<string>();
        to.add(m.to);
        bySlot.set(s.slot, to);
      }
    }
    return [...bySlot.entries()].sort((x, y) => x[0] - y[0]).map(([, to]) => to.size);
  }

  /** Starts these appends together now and runs until all are answered; returns when the last round ended (its Accept plus b's round trip). */
  async function together(c: ProposerCluster, ids: readonly string[]): Promise<number> {
    const boxes = ids.map((id) => c.start([trade(id)]));
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    for (const b of boxes) expect(b.answer?.ok).toBe(true);
    return c.sentOf("accept").at(-1)!.at_ms + 2 * one_way_ms.b;
  }

  test("a round is under load when more requests wait behind it, or when it groups several; else its Accept goes to all", async () => {
    const c = proposerCluster({ one_way_ms, limits: limitsWith({ slot_entries_max: 1 }), acceptorLimits: limits });
    expect((await c.append([trade("warm")])).ok).toBe(true); // phase 1: every latency is known from here on
    await c.runFor(200);
    // One entry per slot: x alone (nothing queued yet when its round starts), x2 with x3 behind it, x3 alone.
    await together(c, ["x", "x2", "x3"]);
    expect(acceptFanout(c)).toEqual([3, 3, 2, 3]);
    const grouped = proposerCluster({ one_way_ms });
    expect((await grouped.append([trade("warm")])).ok).toBe(true);
    await grouped.runFor(200);
    // y alone; then y2 and y3 share one slot, with nothing behind them and a lone round before.
    await together(grouped, ["y", "y2", "y3"]);
    expect(proposedBatches(grouped).slice(1)).toEqual([[["y"]], [["y2"], ["y3"]]]);
    expect(acceptFanout(grouped)).toEqual([3, 3, 2]);
  });

  test(`a lone request less than thrifty_load_window_ms (${limits.thrifty_load_window_ms} ms) after a grouped round is under load; one that long after is not`, async () => {
    const c = proposerCluster({ one_way_ms });
    expect((await c.append([trade("warm")])).ok).toBe(true);
    await c.runFor(200);
    const ended_ms = await together(c, ["x", "x2", "x3"]); // x2 and x3 grouped
    const soon = startAt(c, ended_ms + limits.thrifty_load_window_ms - 1, [trade("soon")]);
    await c.runUntil(() => soon.answer !== undefined);
    await c.runFor(200);
    const ended2_ms = await together(c, ["y", "y2", "y3"]);
    const later = startAt(c, ended2_ms + limits.thrifty_load_window_ms, [trade("later")]);
    await c.runUntil(() => later.answer !== undefined);
    // warm, x, x2+x3, soon, y, y2+y3, later
    expect(acceptFanout(c)).toEqual([3, 3, 2, 2, 3, 2, 3]);
  });
});

// Lines 540-560: what one round's slot groups: consecutive appends within the slot's entry and byte bounds.
describe("group commit: what shares a slot", () => {
  test("requests share a slot up to exactly slot_entries_max entries, not one more", async () => {
    const c = proposerCluster({ limits: limitsWith({ slot_entries_max: 3 }), acceptorLimits: limits });
    const head = c.start([trade("h")]); // its round starts alone; the rest queue behind it
    const boxes = [
      c.start([trade("a1")]),
      c.start([trade("a2"), trade("a3")]), // 1 + 2 = 3: fits
      c.start([trade("b1"), trade("b2")]),
      c.start([trade("c1"), trade("c2")]), // 2 + 2 = 4: its own slot
    ];
    await c.runUntil(() => head.answer !== undefined && boxes.every((b) => b.answer !== undefined));
    expect(proposedBatches(c)).toEqual([[["h"]], [["a1"], ["a2", "a3"]], [["b1", "b2"]], [["c1", "c2"]]]);
  });

  test("requests share a slot up to exactly slot_value_bytes_max bytes, not one more", async () => {
    const bytesOf = (entries: readonly EntryInput[]) => new TextEncoder().encode(JSON.stringify(entries)).length;
    const [a, b] = [[trade("aa")], [trade("bb")]];
    const both_bytes = bytesOf(a) + bytesOf(b);
    const fits = proposerCluster({ limits: limitsWith({ slot_value_bytes_max: both_bytes }), acceptorLimits: limits });
    const fitsHead = fits.start([trade("h")]);
    const fitsBoxes = [fits.start(a), fits.start(b)];
    await fits.runUntil(() => fitsHead.answer !== undefined && fitsBoxes.every((x) => x.answer !== undefined));
    expect(proposedBatches(fits)).toEqual([[["h"]], [["aa"], ["bb"]]]);
    const over = proposerCluster({
      limits: limitsWith({ slot_value_bytes_max: both_bytes - 1 }),
      acceptorLimits: limits,
    });
    const overHead = over.start([trade("h")]);
    const overBoxes = [over.start(a), over.start(b)];
    await over.runUntil(() => overHead.answer !== undefined && overBoxes.every((x) => x.answer !== undefined));
    expect(proposedBatches(over)).toEqual([[["h"]], [["aa"]], [["bb"]]]);
  });

  test("a group's attempts run until the latest deadline among its requests, not the earliest", async () => {
    // Every Accept of the two-request slot is answered with a Reject (as if preempted): each attempt
    // fails, and the round backs off and tries again until its deadline.
    const c = proposerCluster({ limits: limitsWith({ append_attempts_max: 1000 }) });
    const head = c.start([trade("h")]);
    const early = c.start([trade("early")], { deadline_ms: 100 });
    const late = c.start([trade("late")], { deadline_ms: 1000 });
    c.control.route = (_to, request) =>
      request.type === "accept" && request.slots.some((s) => s.value.kind === "append" && s.value.batches.length === 2)
        ? { kind: "answer", reply: { type: "reject", promised: { round: 1, proposerId: "p" } } }
        : { kind: "deliver" };
    await c.runUntil(() => [head, early, late].every((b) => b.answer !== undefined));
    expect(head.answer?.ok).toBe(true);
    expect(early.answer?.took_ms).toBe(100);
    expect(quorumError(early.answer).outcomeUnknown).toBe(true);
    expect(late.answer?.took_ms).toBe(1000);
    // The round's last attempt stops at the group's (latest) deadline.
    expect(quorumError(late.answer).message).toBe("no quorum within the deadline");
  });
});

// Lines 196-236: which receipts of a slot's outcome are this round's own (`created`).
describe("ownEntriesCreated", () => {
  const proposedAt_ms = epoch_ms;
  const committedAt = new Date(epoch_ms + 5).toISOString();
  const receipt = (id: string, slot: number, status: "created" | "exists", seq = slot) => ({
    id,
    seq,
    slot,
    committedAt,
    hash: "0".repeat(64),
    status,
  });

  test("a no-op slot's outcome is returned as it is", () => {
    const outcome: SlotOutcome = { slot: 3, batches: [] };
    expect(ownEntriesCreated(outcome, { kind: "noop" }, new Set([3]))).toBe(outcome);
  });

  test("an outcome with fewer batches than the value: the batches it lacks created nothing", () => {
    const value = appendValue(proposedAt_ms, [trade("a")], [trade("b")]);
    const outcome = {
      slot: 4,
      batches: [{ kind: "applied" as const, receipts: [receipt("a", 2, "exists")] }],
    } as unknown as SlotOutcome;
    const own = ownEntriesCreated(outcome, value, new Set([2, 4]));
    expect(own.batches).toEqual([{ kind: "applied", receipts: [receipt("a", 2, "created")] }]);
  });
});

// Lines 238-240 and 509: the bytes of what an acceptor outside a thrifty quorum is owed, which bound
// how long the proposer may hold them (`owed_commit_bytes_max`: at that many bytes they go out at once).
describe("owed values are counted in bytes", () => {
  const one_way_ms = { a: 1, b: 2, c: 30 };
  const bytesOf = (entries: readonly EntryInput[]) => new TextEncoder().encode(JSON.stringify(entries)).length;

  /** When (virtual ms) each Commit carrying a value went to c, with the slots it named. */
  const valueCommitsToC = (c: ProposerCluster) =>
    c
      .sentOf("commit", "c")
      .filter((m) => m.request.commits.some((k) => k.value !== undefined))
      .map((m) => ({ at_ms: m.at_ms, slots: m.request.commits.map((k) => k.slot) }));

  test("a grouped round's value owed to the slow acceptor: at exactly owed_commit_bytes_max it goes out when chosen", async () => {
    const group_bytes = bytesOf([trade("x2")]) + bytesOf([trade("x3")]);
    for (const [owed_commit_bytes_max, sent_ms] of [
      [group_bytes, 216], // chosen at 216 (Accept at 212, b's round trip 4 ms): sent at once
      [group_bytes + 1, 216 + limits.owed_commit_linger_ms], // below the bound: after the linger
    ] as const) {
      const c = proposerCluster({ one_way_ms, limits: limitsWith({ owed_commit_bytes_max }), acceptorLimits: limits });
      expect((await c.append([trade("w0")])).ok).toBe(true);
      await c.runFor(200);
      const boxes = ["x", "x2", "x3"].map((id) => c.start([trade(id)])); // x alone, then x2 and x3 in one thrifty slot
      await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
      await c.runFor(200);
      expect(proposedBatches(c).at(-1)).toEqual([["x2"], ["x3"]]);
      expect(c.sentOf("accept", "c").at(-1)?.at_ms).toBe(208); // x's Accept went to all; x2+x3's did not
      expect(valueCommitsToC(c)).toEqual([{ at_ms: sent_ms, slots: [2, 3] }]);
    }
  });

  test("a recovered slot's value owed to the slow acceptor counts its bytes too", async () => {
    // The recovered value alone is over this bound: it goes out the moment its slot is chosen.
    const c = proposerCluster({
      one_way_ms,
      limits: limitsWith({ owed_commit_bytes_max: 150 }),
      acceptorLimits: limits,
    });
    expect((await c.append([trade("w0")])).ok).toBe(true);
    await c.runFor(200);
    const ys = ["y", "y2", "y3"].map((id) => c.start([trade(id)])); // y2 and y3 grouped: the next lone round is under load
    await c.runUntil(() => ys.every((b) => b.answer !== undefined));
    // A second proposer takes over the ballot and leaves "left" accepted at a only.
    const q = proposerCluster({ sharing: c, proposerId: "q", one_way_ms });
    q.control.route = (to, request) =>
      request.type !== "accept" ? { kind: "deliver" } : to === "a" ? { kind: "lose_reply" } : { kind: "lose" };
    q.start([trade("left")]);
    await c.runFor(10);
    const x = c.start([trade("x")]); // refused, then phase 1 recovers slot 4 ("left") and proposes x in slot 5
    await c.runUntil(() => x.answer !== undefined);
    await c.runFor(200);
    expect(proposedBatches(c).slice(-2)).toEqual([[["left"]], [["x"]]]);
    const recoveredAccept = c.sentOf("accept", "a").at(-1)!;
    expect(recoveredAccept.request.slots.map((s) => s.slot)).toEqual([4, 5]);
    expect(c.sentOf("accept", "c").map((m) => m.request.slots.map((s) => s.slot))).not.toContainEqual([4, 5]);
    // Slot 4's value goes alone, as soon as it is chosen; x's (under the bound) after the linger.
    const chosen_ms = recoveredAccept.at_ms + 2 * one_way_ms.b;
    expect(valueCommitsToC(c).slice(-2)).toEqual([
      { at_ms: chosen_ms, slots: [4] },
      { at_ms: chosen_ms + limits.owed_commit_linger_ms, slots: [5] },
    ]);
  });
});

// Lines 417-433: a request answered 503 by a round (its deadline passed in the queue) is done: it
// starts nothing in its own request context afterwards.
describe("a request answered in the queue", () => {
  test("starts no drive loop of its own after its answer, even when no one is driving", async () => {
    // One-way 1 ms: a warm round takes 2 ms, shorter than a poll, so the ledger is idle at y's next poll.
    const c = proposerCluster({ one_way_ms: { a: 1, b: 1, c: 1 }, limits: limitsWith({ driver_rounds_max: 1 }) });
    expect((await c.append([trade("warm")])).ok).toBe(true);
    await c.runFor(100);
    const t0 = c.world.now_ms;
    startAt(c, t0, [trade("w")]); // drives one round, t0..t0+2
    const loopsOfY: Array<Promise<unknown>> = [];
    let yError: unknown;
    c.world.schedule(2, () => {
      // Queued behind w's round (enqueued before its replies at t0+2); deadline at t0+4; polls at t0+7.
      c.proposer
        .append([trade("y")], (work) => loopsOfY.push(work), { deadline_ms: 2 })
        .catch((e: unknown) => (yError = e));
    });
    const x = startAt(c, t0 + 4, [trade("x")]); // no one drives at t0+4: x does, and its round answers y (expired)
    await c.runUntil(() => yError !== undefined && x.answer !== undefined);
    await c.runFor(100);
    expect(yError).toBeInstanceOf(QuorumUnavailableError);
    // Answered by x's round at t0+4, not by its own poll (t0+7).
    expect((yError as QuorumUnavailableError).message).toBe(
      "not proposed (requests ahead of it held the ledger) within its deadline of 2 ms (waited 2 ms)",
    );
    expect(proposedBatches(c).flat(2)).not.toContain("y");
    expect(loopsOfY).toEqual([]);
  });
});
