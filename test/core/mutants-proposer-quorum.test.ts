/**
 * The proposer's attempts, reachability and quorum calls, pinned exactly: how many attempts a round
 * makes and how far apart, what its 503 says (the text ops read), which acceptors it counts
 * unreachable and for how long, how long one quorum call waits, when a thrifty Accept brings in the
 * other acceptors, and which commits an unacknowledged message owes again. Production `Proposer`
 * over real Acceptors in virtual time (`proposerCluster`). Surviving mutants of these lines and
 * their triage: docs/mutation-triage.md.
 */
import { describe, expect, test } from "vitest";
import type { Ballot } from "../../src/core/ballot.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import { Proposer, ProposerOverloadedError, QuorumUnavailableError } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { appendValue, trade } from "./fixtures.js";
import { epoch_ms, type ProposerCluster, proposerCluster } from "./proposer-cluster.js";

/** The harness's default one-way delay: a quorum round trip is twice this. */
const one_way_ms = 10;
const round_trip_ms = 2 * one_way_ms;

function withLimits(overrides: Partial<CoreLimits>): CoreLimits {
  return { ...limits, ...overrides };
}

function reject(promised: Ballot): AcceptorReply {
  return { type: "reject", promised };
}

/** The error of a failed answer, as a QuorumUnavailableError (fails the test otherwise). */
function quorumError(answer: { ok: boolean; error?: unknown } | undefined): QuorumUnavailableError {
  expect(answer?.ok).toBe(false);
  const error = (answer as { error: unknown }).error;
  expect(error).toBeInstanceOf(QuorumUnavailableError);
  return error as QuorumUnavailableError;
}

/** World time (ms since the cluster's start) of each message of `type` sent, optionally to one acceptor. */
function sendTimes(c: ProposerCluster, type: AcceptorRequest["type"], to?: string): number[] {
  return c.sentOf(type, to).map((m) => m.at_ms);
}

describe("a round's attempts: how many, how far apart, and the 503 after the last", () => {
  // Proposer.withAttempts: the attempt bound, the backoff, the closing message and its
  // reachability note (reachability.ts).
  test("every prepare rejected: append_attempts_max attempts with full-jitter backoff, then a 503 naming the failed acceptors", async () => {
    const ids = ["a", "b", "c", "d", "e"];
    const c = proposerCluster({ ids, limits: withLimits({ append_attempts_max: 3 }) });
    c.down.add("d");
    c.down.add("e");
    c.control.route = (_to, request) =>
      request.type === "prepare"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const r = await c.append();
    const error = quorumError(r);
    expect(error.message).toBe("no quorum after 3 attempts (d failed: d is down; e failed: e is down)");
    expect(error.outcomeUnknown).toBe(true);
    // Attempt n waits random() x min(backoff_cap_ms, max(backoff_base_ms, 3 x quorum RTT) x 2^n)
    // after the rejects (one round trip): nothing measured yet, so the step is backoff_base_ms.
    const step_ms = limits.backoff_base_ms;
    const expected = [0];
    for (let n = 0; n < 2; n++) expected.push(expected[n]! + round_trip_ms + 0.5 * step_ms * 2 ** n);
    expect(sendTimes(c, "prepare", "a")).toEqual(expected);
    expect(c.sentOf("prepare")).toHaveLength(3 * ids.length);
    expect(c.proposer.stats.phase1_runs).toBe(3);
  });

  test("attempts that fail with every acceptor answering: the 503 carries no reachability note", async () => {
    const c = proposerCluster({ limits: withLimits({ append_attempts_max: 2 }), random: () => 0 });
    c.control.route = (_to, request) =>
      request.type === "prepare"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const error = quorumError(await c.append());
    expect(error.message).toBe("no quorum after 2 attempts");
    expect(c.proposer.stats.fail_fast).toBe(0);
  });

  test("the backoff step grows with the measured quorum round trip (three round trips)", async () => {
    const c = proposerCluster({ limits: withLimits({ append_attempts_max: 2 }) });
    expect((await c.append()).ok).toBe(true); // measured: prepare and accept quorums of one round trip each
    const acceptsBefore = c.sentOf("accept", "a").length;
    // Every Accept and prepare rejected from now on: the leader's Accept fails, then one more attempt.
    c.control.route = (_to, request) =>
      request.type === "prepare" || request.type === "accept"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const error = quorumError(await c.append());
    expect(error.message).toBe("no quorum after 2 attempts");
    const accept_ms = sendTimes(c, "accept", "a")[acceptsBefore]!;
    const prepare_ms = sendTimes(c, "prepare", "a").at(-1)!;
    const step_ms = Math.max(limits.backoff_base_ms, 3 * round_trip_ms);
    expect(prepare_ms - accept_ms).toBe(round_trip_ms + 0.5 * step_ms);
  });

  test("a backoff never sleeps past the round's deadline: the next check answers at the deadline", async () => {
    // A jitter far above the deadline: the sleep is cut to what is left of it.
    const c = proposerCluster({ random: () => 0.99, limits: withLimits({ backoff_base_ms: 1000 }) });
    c.control.route = (_to, request) =>
      request.type === "prepare"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const deadline_ms = 303; // not a multiple of the request's poll, so the round's own check answers
    const r = await c.append(undefined, { deadline_ms });
    const error = quorumError(r);
    expect(error.message).toBe("no quorum within the deadline");
    expect(error.outcomeUnknown).toBe(true);
    expect(r.took_ms).toBe(deadline_ms);
    expect(c.sentOf("prepare")).toHaveLength(3); // one attempt: the backoff ran into the deadline
  });
});

describe("the round's quorum-call bound", () => {
  // Proposer.spendQuorumCall and its conversion to a 503 in withAttempts.
  test("a round that spends round_quorum_calls_max calls without a quorum answers 503 saying so, with no further call", async () => {
    const c = proposerCluster({ limits: withLimits({ round_quorum_calls_max: 2, round_quorum_calls_min: 1 }) });
    c.control.route = (_to, request) =>
      request.type === "prepare"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const error = quorumError(await c.append());
    expect(error.message).toBe("the round made every quorum call it was allowed (at most 2) without a quorum");
    expect(error.outcomeUnknown).toBe(true);
    expect(c.sentOf("prepare")).toHaveLength(2 * 3);
    // The next round gets its own calls.
    c.control.route = () => ({ kind: "deliver" });
    expect((await c.append()).ok).toBe(true);
  });
});

describe("deadlines and silent acceptors", () => {
  // withAttempts' deadline check, AcceptorCalls.quorumCall's cut-short wait and callQuorum's timeout,
  // GroupCommit.failQueuedIfUnreachable's early return.
  test("a quorum wait cut short by the deadline counts no one unreachable, and the requests behind it still commit", async () => {
    const c = proposerCluster();
    for (const id of c.ids) c.silent.add(id);
    const deadline_ms = 152;
    const head = c.start(undefined, { deadline_ms });
    await c.runFor(1);
    const behind = c.start();
    c.world.schedule(100, () => c.silent.clear()); // healed before the head's deadline; its messages stay lost
    await c.runUntil(() => head.answer !== undefined && behind.answer !== undefined);
    const error = quorumError(head.answer);
    expect(error.message).toBe("no quorum within the deadline");
    expect(error.outcomeUnknown).toBe(true);
    expect(head.answer!.took_ms).toBe(deadline_ms);
    expect(c.sentOf("prepare")).toHaveLength(3 + 3); // the head's one attempt, then the next round's
    expect(behind.answer?.ok).toBe(true);
    expect(c.proposer.stats.fail_fast).toBe(0);
  });

  test("a cold proposer waits the whole quorum_timeout_ms on silent acceptors, then fails fast naming them", async () => {
    const c = proposerCluster();
    for (const id of c.ids) c.silent.add(id);
    const r = await c.append();
    const error = quorumError(r);
    const wait_ms = limits.quorum_timeout_ms;
    expect(error.message).toBe(
      `0 of 3 acceptors reachable, 2 needed (a did not answer within ${wait_ms} ms; b did not answer within ${wait_ms} ms; ` +
        `c did not answer within ${wait_ms} ms)`,
    );
    expect(error.outcomeUnknown).toBe(true);
    expect(r.took_ms).toBe(wait_ms);
    expect(c.proposer.stats.fail_fast).toBe(1);
  });

  test("a warm proposer waits quorum_timeout_rtt_multiple round trips, at least quorum_timeout_floor_ms", async () => {
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true); // measured: 20 ms quorums
    c.silent.add("b");
    c.silent.add("c");
    const r = await c.append();
    const wait_ms = Math.max(limits.quorum_timeout_floor_ms, limits.quorum_timeout_rtt_multiple * round_trip_ms);
    expect(quorumError(r).message).toBe(
      `1 of 3 acceptors reachable, 2 needed (b did not answer within ${wait_ms} ms; c did not answer within ${wait_ms} ms)`,
    );
    expect(r.took_ms).toBe(wait_ms);
  });

  test("the quorum round trip is a moving average (first sample as is, then 0.8 old + 0.2 new), and whole waits count", async () => {
    // Slow quorums first (200 ms): the wait is 4 x 200 = 800 ms.
    const c = proposerCluster({ one_way_ms: { a: 100, b: 100, c: 100 } });
    expect((await c.append()).ok).toBe(true); // a prepare and an accept quorum, 200 ms each
    await c.runFor(2 * limits.quorum_timeout_ms); // the waits' timers end: a quorum reached is no whole wait
    for (const id of c.ids) c.one_way_ms[id] = one_way_ms;
    expect((await c.append()).ok).toBe(true); // an accept quorum of 20 ms: 0.8 x 200 + 0.2 x 20 = 164
    await c.runFor(2 * limits.quorum_timeout_ms);
    const rtt_ms = 0.8 * 200 + 0.2 * round_trip_ms;
    const wait_ms = Math.round(limits.quorum_timeout_rtt_multiple * rtt_ms);
    c.silent.add("b");
    c.silent.add("c");
    const r = await c.append();
    expect(quorumError(r).message).toBe(
      `1 of 3 acceptors reachable, 2 needed (b did not answer within ${wait_ms} ms; c did not answer within ${wait_ms} ms)`,
    );
    // That whole wait counts as a round trip of its length: the next wait is longer.
    c.silent.clear();
    await c.runFor(limits.acceptor_failure_memory_ms);
    c.silent.add("b");
    c.silent.add("c");
    const next_wait_ms = Math.round(
      Math.min(
        limits.quorum_timeout_ms,
        limits.quorum_timeout_rtt_multiple * (0.8 * rtt_ms + 0.2 * limits.quorum_timeout_rtt_multiple * rtt_ms),
      ),
    );
    const again = await c.append();
    expect(quorumError(again).message).toMatch(`did not answer within ${next_wait_ms} ms`);
  });
});

describe("failing the queue fast once a quorum is unreachable", () => {
  // GroupCommit.failQueuedIfUnreachable: counts, answers and the queue's byte account.
  test("requests queued behind a round that found no quorum are answered at once, unproposed, and free their bytes", async () => {
    const request_bytes = new TextEncoder().encode(JSON.stringify([trade("q0")])).length;
    const c = proposerCluster({ limits: withLimits({ proposer_queue_bytes_max: 2 * request_bytes }) });
    c.down.add("b");
    c.down.add("c");
    const head = c.start([trade("q0")]);
    const syncDone: { error?: unknown } = {};
    c.proposer.sync().catch((e: unknown) => (syncDone.error = e));
    const queued = c.start([trade("q1")]);
    await c.runUntil(() => head.answer !== undefined && queued.answer !== undefined && syncDone.error !== undefined);
    const headError = quorumError(head.answer);
    const why = "1 of 3 acceptors reachable, 2 needed (b failed: b is down; c failed: c is down)";
    expect(headError.message).toBe(why);
    expect(headError.outcomeUnknown).toBe(true);
    for (const error of [quorumError(queued.answer), syncDone.error as QuorumUnavailableError]) {
      expect(error).toBeInstanceOf(QuorumUnavailableError);
      expect(error.message).toBe(`not proposed: ${why}`);
      expect(error.outcomeUnknown).toBe(false);
    }
    // Answered by the head's round, seen at the queued request's next poll.
    expect(queued.answer!.took_ms).toBeLessThanOrEqual(head.answer!.took_ms + limits.driver_takeover_poll_ms);
    expect(c.proposer.stats.fail_fast).toBe(1 + 2); // the head's retry, the sync and the queued append
    // The queue holds nothing now: two requests' bytes fit again (the first is taken at once), a third does not.
    c.down.clear();
    const next = [c.start([trade("r0")]), c.start([trade("r1")]), c.start([trade("r2")]), c.start([trade("r3")])];
    await c.runUntil(() => next.every((b) => b.answer !== undefined));
    expect(next.map((b) => b.answer?.ok)).toEqual([true, true, true, false]);
    expect((next[3]!.answer as { error: unknown }).error).toBeInstanceOf(ProposerOverloadedError);
  });
});

describe("which acceptors count as unreachable, and for how long", () => {
  // Reachability (unreachableNow, markAnswered), Proposer.quorumUnreachable, AcceptorCalls.noteCallFailed.
  test("a failed call is remembered for exactly acceptor_failure_memory_ms", async () => {
    const c = proposerCluster();
    c.down.add("a");
    c.down.add("b");
    const first = await c.append();
    expect(quorumError(first).message).toBe(
      "1 of 3 acceptors reachable, 2 needed (a failed: a is down; b failed: b is down)",
    );
    c.down.clear();
    // a and b failed at world time 1: forgotten from 1 + memory on. A request whose deadline ends
    // exactly then, its quorum wait cut short by it (a and b silent now), finds them forgotten.
    const forgotten_at_ms = 1 + limits.acceptor_failure_memory_ms;
    const deadline_ms = 152;
    await c.runFor(forgotten_at_ms - deadline_ms - c.world.now_ms);
    c.silent.add("a");
    c.silent.add("b");
    const r = await c.append(undefined, { deadline_ms });
    expect(c.world.now_ms).toBe(forgotten_at_ms);
    expect(quorumError(r).message).toBe("no quorum within the deadline");
  });

  test("an acceptor that answers is reachable again at once, within the failure memory", async () => {
    const c = proposerCluster();
    c.down.add("c");
    expect((await c.append()).ok).toBe(true); // a and b: c's failure is remembered
    c.down.clear();
    expect((await c.append()).ok).toBe(true); // c answers the Accept
    c.silent.add("a");
    c.silent.add("b");
    const r = await c.append(undefined, { deadline_ms: 152 });
    expect(quorumError(r).message).toBe("no quorum within the deadline"); // no "(c failed: ...)"
  });

  test("without a leader, an attempt needs the larger of the prepare and accept quorums", async () => {
    // Flexible quorums: prepare 4 of 5, accept 2 of 5. Three reachable make an accept quorum, no prepare quorum.
    const ids = ["a", "b", "c", "d", "e"];
    const c = proposerCluster({ ids, quorum: quorumConfig(5, 4, 2) });
    c.down.add("d");
    c.down.add("e");
    const r = await c.append();
    expect(quorumError(r).message).toBe(
      "3 of 5 acceptors reachable, 4 needed (d failed: d is down; e failed: e is down)",
    );
    expect(c.sentOf("prepare")).toHaveLength(5); // one attempt, no retry
  });

  test("a call the request refused itself (QuorumUnavailableError from the transport) leaves the acceptor reachable", async () => {
    const c = proposerCluster();
    const refused = new Set(["b", "c"]);
    // A second proposer on the cluster's env, whose transport refuses calls to b and c unsent (a
    // request's subrequest budget); the harness's send has no fate that rejects with this error.
    const proposer = new Proposer(
      {
        ...c.env,
        send: (to, request) =>
          refused.has(to)
            ? Promise.reject(new QuorumUnavailableError("subrequest budget spent"))
            : c.env.send(to, request),
      },
      { limits: withLimits({ append_attempts_max: 2 }) },
    );
    let answer: unknown;
    proposer.append([trade("r1")]).then(
      () => (answer = "ok"),
      (e: unknown) => (answer = e),
    );
    await c.runUntil(() => answer !== undefined);
    expect(answer).toBeInstanceOf(QuorumUnavailableError);
    expect((answer as Error).message).toBe("no quorum after 2 attempts");
  });
});

describe("an error that is no failed attempt", () => {
  // withAttempts rethrows what is not an AttemptFailed; failQueuedIfUnreachable then counts
  // the leader's accept quorum (Proposer.quorumUnreachable).
  test("a transport that throws fails only its own round, unretried; a leader's queue is still proposed with an accept quorum", async () => {
    const ids = ["a", "b", "c", "d", "e"];
    const c = proposerCluster({ ids, quorum: quorumConfig(5, 4, 2) });
    expect((await c.append()).ok).toBe(true); // leader
    c.down.add("d");
    c.down.add("e");
    expect((await c.append()).ok).toBe(true); // an accept quorum of a, b, c; d and e remembered as failed
    let throws = 1;
    c.control.route = (to, request) => {
      if (request.type === "accept" && to === "a" && throws-- > 0) throw new Error("transport bug");
      return { kind: "deliver" };
    };
    const head = c.start([trade("head")]);
    const behind = c.start([trade("behind")]);
    await c.runUntil(() => head.answer !== undefined && behind.answer !== undefined);
    expect(head.answer?.ok).toBe(false);
    expect((head.answer as { error: unknown }).error).toEqual(new Error("transport bug"));
    // Still a leader, with three of five reachable: an accept quorum, so the request behind is
    // proposed (not answered "not proposed" at once). Its slot lies above the head's, which no
    // acceptor accepted, so its outcome waits for a recovery (which needs a prepare quorum).
    const proposedBehind = c
      .sentOf("accept")
      .filter((m) =>
        m.request.slots.some(
          (s) => s.value.kind === "append" && s.value.batches.some((b) => b.some((e) => e.id === "behind")),
        ),
      );
    expect(proposedBehind.map((m) => m.to)).toEqual(ids);
    if (!behind.answer!.ok) expect(quorumError(behind.answer).outcomeUnknown).toBe(true);
  });
});

describe("what a reject teaches the proposer", () => {
  // Proposer.rejected and AcceptorCalls.noteAnswered on every reply.
  test("a prepare rejected at a higher round: the next attempt's ballot goes above that round", async () => {
    const c = proposerCluster();
    const promised_round = epoch_ms + 1_000_000; // a proposer whose clock runs far ahead
    let rejects = 3;
    c.control.route = (_to, request) =>
      request.type === "prepare" && rejects-- > 0
        ? { kind: "answer", reply: reject({ round: promised_round, proposerId: "z" }) }
        : { kind: "deliver" };
    expect((await c.append()).ok).toBe(true);
    expect(c.sentOf("prepare", "a").map((m) => m.request.ballot.round)).toEqual([epoch_ms, promised_round + 1]);
  });

  test("an Accept rejected at a higher ballot ends the leadership, even when a quorum accepted it", async () => {
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true);
    c.control.route = (to, request) =>
      request.type === "accept" && to === "c"
        ? { kind: "answer", reply: reject({ round: request.ballot.round + 1, proposerId: "z" }) }
        : { kind: "deliver" };
    expect((await c.append()).ok).toBe(true);
    expect(c.proposer.isLeader).toBe(false);
    const phase1_before = c.proposer.stats.phase1_runs;
    c.control.route = () => ({ kind: "deliver" });
    expect((await c.append()).ok).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(phase1_before + 1);
  });

  test("a late reject of an earlier ballot's Accept, at the very ballot the proposer now leads with, leaves the leadership alone", async () => {
    const c = proposerCluster();
    // c's reply to the first Accept is held back, then answered after the proposer has moved to a
    // new ballot (a message delayed on the way: c promised the new ballot before it arrived).
    let release: ((reply: AcceptorReply) => void) | undefined;
    const proposer = new Proposer({
      ...c.env,
      send: (to, request) =>
        release === undefined && request.type === "accept" && to === "c"
          ? new Promise<AcceptorReply>((resolve) => (release = resolve))
          : c.env.send(to, request),
    });
    const appendOn = async (id: string) => {
      let answer: unknown;
      proposer.append([trade(id)]).then(
        () => (answer = "ok"),
        (e: unknown) => (answer = e),
      );
      await c.runUntil(() => answer !== undefined);
      return answer;
    };
    expect(await appendOn("first")).toBe("ok");
    let rejects = 3; // the next Accept, to every acceptor: a new phase 1 follows
    c.control.route = (_to, request) =>
      request.type === "accept" && rejects-- > 0
        ? { kind: "answer", reply: reject({ round: request.ballot.round + 1, proposerId: "z" }) }
        : { kind: "deliver" };
    expect(await appendOn("second")).toBe("ok");
    const leading = c.sentOf("prepare").at(-1)!.request.ballot;
    expect(proposer.isLeader).toBe(true);
    release!(reject(leading));
    await c.runFor(1);
    expect(proposer.isLeader).toBe(true);
  });

  test("a stale reject (below the leader's ballot) leaves the leadership alone", async () => {
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true);
    c.control.route = (to, request) =>
      request.type === "accept" && to === "c"
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    expect((await c.append()).ok).toBe(true);
    expect(c.proposer.isLeader).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(1);
  });
});

describe("thrifty Accepts: when the other acceptors are brought in", () => {
  // callQuorum's escalation (quorum-call.ts) and the latencies it reads (latency-tracker.ts, AcceptorCalls.noteCallFailed).
  /**
   * a: 10 ms one way, b: 30 ms for its prepare then 10 ms, c: 100 ms. Three requests at once: the
   * first runs alone (cold: a prepare and an Accept to all), the other two form a round under load
   * whose Accept is thrifty. Latencies then: a 20; b 0.8 x 60 + 0.2 x 20 = 52; c not yet known.
   */
  async function thriftyRound(bFault: "silent" | "down") {
    const c = proposerCluster({ one_way_ms: { a: 10, b: 30, c: 100 } });
    c.world.schedule(1, () => (c.one_way_ms.b = 10));
    const boxes = [c.start([trade("x")]), c.start([trade("y")]), c.start([trade("z")])];
    // The first round's Accept quorum answers at 80: then b fails or falls silent.
    c.world.schedule(79, () => (bFault === "down" ? c.down.add("b") : c.silent.add("b")));
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    expect(boxes.map((b) => b.answer?.ok)).toEqual([true, true, true]);
    const thrifty = c.sentOf("accept").filter((m) => m.at_ms >= 80);
    return { c, thrifty };
  }

  test("a silent target: the others get the Accept after twice the slowest target's average latency", async () => {
    const { thrifty } = await thriftyRound("silent");
    const b_latency_ms = 0.8 * 60 + 0.2 * 20;
    expect(thrifty.map((m) => [m.to, m.at_ms])).toEqual([
      ["a", 80],
      ["b", 80],
      ["c", 80 + 2 * b_latency_ms],
    ]);
  });

  test("a target whose call fails: the others get the Accept at once, and only once", async () => {
    const { c, thrifty } = await thriftyRound("down");
    expect(thrifty.map((m) => [m.to, m.at_ms])).toEqual([
      ["a", 80],
      ["b", 80],
      ["c", 81],
    ]);
    // A failed call counts as slow as a whole quorum wait: the next thrifty Accept leaves b out.
    const boxes = [c.start([trade("v")]), c.start([trade("w")])];
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    const next = c.sentOf("accept").filter((m) => m.at_ms > 81);
    const firstAfter = next.filter((m) => m.at_ms === next[0]!.at_ms);
    expect(firstAfter.map((m) => m.to)).toEqual(["a", "c"]); // (the one after it runs alone: to all)
  });
});

describe("the accept quorum thrifty Accepts keep", () => {
  // callQuorum's `escalated` start: a call to every acceptor has nothing to escalate to, so it
  // must not drop the kept accept quorum either (thriftyTargets: kept until a phase 1 or an escalation).
  test("a lone request's slow Accept to every acceptor leaves the kept accept quorum in place, latencies reordered or not", async () => {
    const c = proposerCluster({ one_way_ms: { a: 10, b: 20, c: 30 } });
    const inParallel = async (...ids: string[]) => {
      const boxes = ids.map((id) => c.start([trade(id)]));
      await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
      expect(boxes.map((b) => b.answer?.ok)).toEqual(ids.map(() => true));
    };
    /** The recipients of the last Accept sent at one instant. */
    const lastAcceptTo = () => {
      const accepts = c.sentOf("accept");
      return accepts.filter((m) => m.at_ms === accepts.at(-1)!.at_ms).map((m) => m.to);
    };
    await inParallel("x1", "x2", "x3"); // the second round is under load: thrifty, to the fastest two
    expect(lastAcceptTo()).toEqual(["a", "b"]);
    await c.runFor(2 * limits.thrifty_load_window_ms);
    // c becomes the fastest, a and b slow: a lone request's Accept (to all) waits 200 ms for its
    // quorum, longer than twice any latency measured so far.
    Object.assign(c.one_way_ms, { a: 100, b: 100, c: 5 });
    expect((await c.append([trade("lone")])).ok).toBe(true);
    expect(lastAcceptTo()).toEqual(["a", "b", "c"]);
    await c.runFor(2 * limits.thrifty_load_window_ms);
    await inParallel("y1", "y2", "y3");
    expect(lastAcceptTo()).toEqual(["a", "b"]); // kept: no phase 1 and no escalation since it was picked
  });
});

describe("commits carried by a message that was not acknowledged", () => {
  // callQuorum's unacknowledged map and CommitDebt.returnUnacknowledged.
  /** Slot 1 chosen; slot 2's Accept (carrying slot 1's commit) meets `fate` at c. */
  async function secondAccept(fate: "lose" | "fail") {
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true);
    c.control.route = (to, request) => (request.type === "accept" && to === "c" ? { kind: fate } : { kind: "deliver" });
    const accept_ms = c.world.now_ms;
    expect((await c.append()).ok).toBe(true);
    const carried = c.sentOf("accept").filter((m) => m.at_ms === accept_ms);
    expect(carried.map((m) => [m.to, m.request.commits.map((k) => k.slot)])).toEqual([
      ["a", [1]],
      ["b", [1]],
      ["c", [1]],
    ]);
    c.control.route = () => ({ kind: "deliver" });
    await c.runFor(3 * limits.quorum_timeout_ms);
    /** After the Accept: every message naming slot 1's commit, per acceptor. */
    const slot1Again = c.sent
      .filter((m) => m.at_ms > accept_ms && "commits" in m.request && m.request.commits.some((k) => k.slot === 1))
      .map((m) => [m.to, m.request.type, m.at_ms]);
    return { accept_ms, slot1Again };
  }

  test("an Accept lost on the way: its commits are owed again after the quorum wait, to that acceptor only", async () => {
    const { accept_ms, slot1Again } = await secondAccept("lose");
    const wait_ms = limits.quorum_timeout_floor_ms; // 4 x 20 ms is below the floor
    expect(slot1Again).toEqual([["c", "commit", accept_ms + wait_ms + limits.owed_commit_linger_ms]]);
  });

  test("an Accept whose call failed: its commits are owed again at once, and once", async () => {
    const { accept_ms, slot1Again } = await secondAccept("fail");
    // Owed again at the failure (1 ms); the chosen slot 2's commit goes out after commit_linger_ms
    // to the acceptors the Accept went to, with slot 1 beside it.
    expect(slot1Again).toEqual([["c", "commit", accept_ms + round_trip_ms + limits.commit_linger_ms]]);
  });
});

describe("a failed call's reason outlives a whole quorum wait", () => {
  // callQuorum's failure branch: a call that failed is no longer waited for.
  test("an acceptor whose call failed is named by its failure, not as silent, after the wait", async () => {
    const c = proposerCluster();
    c.silent.add("a");
    c.silent.add("b");
    c.down.add("c");
    const error = quorumError(await c.append());
    const wait_ms = limits.quorum_timeout_ms;
    expect(error.message).toBe(
      `0 of 3 acceptors reachable, 2 needed (a did not answer within ${wait_ms} ms; b did not answer within ${wait_ms} ms; c failed: c is down)`,
    );
    expect(c.proposer.stats.messages_sent).toBe(c.sent.length);
  });
});

describe("what commit and recover propose", () => {
  // Proposer.commit and recover; AttemptCall.carriesCommits absent (no commits carried).
  test("a value its own earlier attempt left accepted is finished in that slot, not proposed again", async () => {
    const c = proposerCluster();
    let rejects = 2;
    c.control.route = (to, request) =>
      request.type === "accept" && to !== "a" && rejects-- > 0
        ? { kind: "answer", reply: reject({ round: 1, proposerId: "z" }) }
        : { kind: "deliver" };
    const r = await c.append([trade("once")]);
    expect(r.ok).toBe(true);
    expect(c.sentOf("accept", "a").map((m) => m.request.slots.map((s) => s.slot))).toEqual([[1], [1]]);
    expect(r.ok && r.outcome.kind === "applied" && r.outcome.receipts.map((x) => [x.id, x.status, x.slot])).toEqual([
      ["once", "created", 1],
    ]);
  });

  test("a slot filled to exactly slot_entries_max entries is committed", async () => {
    const c = proposerCluster({ limits: withLimits({ slot_entries_max: 3, request_entries_max: 3 }) });
    const full = await c.append([trade("f1"), trade("f2"), trade("f3")]);
    expect(full.ok && full.outcome.kind === "applied" && full.outcome.receipts.map((x) => x.status)).toEqual([
      "created",
      "created",
      "created",
    ]);
  });

  test("the baseline mode drops the leadership after every commit: a phase 1 per append", async () => {
    const c = proposerCluster({ options: { prepareEveryCommitForBaseline: true } });
    for (let i = 0; i < 3; i++) expect((await c.append()).ok).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(3);
    expect(c.proposer.isLeader).toBe(false);
  });

  test("sync runs a phase 1 and gets every slot it recovers chosen", async () => {
    const c = proposerCluster();
    // A leader that died mid-round: slot 1 accepted by a alone.
    const value = appendValue(epoch_ms, [trade("stranded")]);
    expect(
      c.acceptors.a!.handle({
        type: "accept",
        ballot: { round: 5, proposerId: "z" },
        slots: [{ slot: 1, value }],
        commits: [],
      }).type,
    ).toBe("accepted");
    let synced = false;
    void c.proposer.sync().then(() => (synced = true));
    await c.runUntil(() => synced);
    expect(synced).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(c.sentOf("accept").map((m) => [m.to, m.request.slots.map((s) => s.slot)])).toEqual([
      ["a", [1]],
      ["b", [1]],
      ["c", [1]],
    ]);
    await c.runFor(limits.owed_commit_linger_ms + round_trip_ms);
    for (const id of c.ids) expect(c.acceptors[id]!.store.entryById("stranded")?.id).toBe("stranded");
  });

  test("a sync with nothing to recover sends no Accept", async () => {
    const c = proposerCluster();
    let synced = false;
    void c.proposer.sync().then(() => (synced = true));
    await c.runUntil(() => synced);
    expect(synced).toBe(true);
    expect(c.sentOf("prepare")).toHaveLength(3);
    expect(c.sentOf("accept")).toHaveLength(0);
  });

  test("a phase 1 leaves the commits owed to the acceptors in place: the linger still sends them", async () => {
    const c = proposerCluster();
    expect((await c.append()).ok).toBe(true);
    const chosen_ms = c.world.now_ms;
    let synced = false;
    void c.proposer.sync().then(() => (synced = true)); // prepares within the commit's linger
    await c.runUntil(() => synced);
    await c.runFor(limits.commit_linger_ms);
    const commits = c
      .sentOf("commit")
      .filter((m) => m.at_ms <= chosen_ms + limits.commit_linger_ms)
      .map((m) => [m.to, m.at_ms, m.request.commits.map((k) => k.slot)]);
    expect(commits).toEqual(c.ids.map((id) => [id, chosen_ms + limits.commit_linger_ms, [1]]));
  });
});

describe("keeping a quorum call's wait alive (waitUntil)", () => {
  // callQuorum's quorum_timeout timer: only a call whose messages carry commits needs its timer after the answer.
  test("the wait of a call that carries commits is handed to the request's waitUntil; one that carries none is not", async () => {
    const c = proposerCluster();
    const settled_at_ms: number[] = [];
    const background = (work: Promise<unknown>) => void work.then(() => settled_at_ms.push(c.world.now_ms));
    const appendWith = async (id: string) => {
      let done = false;
      void c.proposer.append([trade(id)], background).then(() => (done = true));
      await c.runUntil(() => done);
    };
    await appendWith("first"); // cold: a prepare, then an Accept carrying nothing
    const second_ms = c.world.now_ms;
    await appendWith("second"); // warm, within the commit linger: its Accept carries slot 1's commits
    await c.runFor(3 * limits.quorum_timeout_ms);
    const floor_ms = limits.quorum_timeout_floor_ms;
    expect(settled_at_ms).toContain(second_ms + floor_ms);
    expect(settled_at_ms).not.toContain(limits.quorum_timeout_ms); // the cold prepare's wait
    expect(settled_at_ms).not.toContain(round_trip_ms + floor_ms); // the first Accept's wait
  });
});
