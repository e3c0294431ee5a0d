/**
 * The proposer's recovery, phase 2 and commit debt, pinned message by message: the ballot a phase 1
 * runs at, the re-prepare loop over truncated Promise listings, the value recovery re-proposes, how
 * phase 2 chunks its slots, which acceptors a thrifty Accept goes to, and when the commits owed to
 * each acceptor go out (alone, on the next message, again after a loss). Written against the
 * survivors of the mutation run over the proposer before its split (now `src/core/proposer/`: proposer.ts phase1 .. fetchOutcome, commit-debt.ts, acceptor-calls.ts); every test drives
 * the production Proposer over real Acceptors in virtual time (`proposer-cluster.ts`).
 */
import { describe, expect, test } from "vitest";
import type { Ballot } from "../../src/core/ballot.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import { QuorumUnavailableError } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { noop_value, type SlotValue } from "../../src/core/slot-value.js";
import { appendValue, trade } from "./fixtures.js";
import { epoch_ms, type ProposerCluster, proposerCluster } from "./proposer-cluster.js";

/** A ballot of another proposer, `ahead_ms` past the cluster's start on the clock. */
const foreign = (ahead_ms: number, proposerId = "z"): Ballot => ({ round: epoch_ms + ahead_ms, proposerId });

/** What a value looks like once proposed: an append of one trade with this id. */
const proposedValue = (id: string): SlotValue => appendValue(epoch_ms, [trade(id)]);

/**
 * Leaves `slots` accepted (not chosen) at `acceptor` under `ballot`, as a proposer that crashed
 * after its Accept reached only that acceptor would: a prepare, then an Accept with no commits.
 */
function leaveAccepted(
  c: ProposerCluster,
  acceptor: string,
  ballot: Ballot,
  slots: ReadonlyArray<{ slot: number; value: SlotValue }>,
) {
  const a = c.acceptors[acceptor]!;
  expect(a.handle({ type: "prepare", ballot, fromSlot: 1 }).type).toBe("promise");
  expect(a.handle({ type: "accept", ballot, slots, commits: [] }).type).toBe("accepted");
}

/** Slots 1..n holding values v1..vn. */
const backlog = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ slot: i + 1, value: proposedValue(`v${i + 1}`) }));

/** The slots each Accept to `to` named, in order. */
const acceptedSlotsTo = (c: ProposerCluster, to: string) =>
  c.sentOf("accept", to).map((m) => m.request.slots.map((s) => s.slot));

/** Small limits for both sides (the acceptors keep the same ones). */
const small = (o: Partial<CoreLimits>): CoreLimits => ({ ...limits, ...o });

/** A cluster whose replies pass through `edit` on their way back to the proposer. */
function editReplies(
  c: ProposerCluster,
  edit: (to: string, request: AcceptorRequest, reply: AcceptorReply) => AcceptorReply,
) {
  const send = c.env.send.bind(c.env);
  // The env object is the one the Proposer holds: wrapping its transport is how a test sees a reply
  // the real acceptor would not give in this state (the harness routes requests, not replies).
  (c.env as { send: typeof c.env.send }).send = (to, request) =>
    send(to, request).then((reply) => edit(to, request, reply));
}

/** Starts `n` requests, one every 2 ms, and runs until all are answered; returns their answer boxes. */
async function streamOf(c: ProposerCluster, prefix: string, n: number) {
  const boxes: Array<ReturnType<ProposerCluster["start"]>> = [];
  for (let i = 0; i < n; i++) c.world.schedule(i * 2, () => boxes.push(c.start([trade(`${prefix}${i}`)])));
  await c.runUntil(() => boxes.length === n && boxes.every((b) => b.answer !== undefined));
  expect(boxes.every((b) => b.answer?.ok)).toBe(true);
  return boxes;
}

/** Another proposer's prepare, just above the clock, promised by every acceptor: the next Accept is rejected and a phase 1 follows. */
function outbid(c: ProposerCluster) {
  const ballot = { round: epoch_ms + Math.floor(c.world.now_ms) + 1, proposerId: "z" };
  for (const id of c.ids)
    expect(c.acceptors[id]!.handle({ type: "prepare", ballot, fromSlot: 1 }).type).toBe("promise");
}

describe("phase 1: the ballot and what counts as a promise (Proposer.phase1)", () => {
  test("the first prepare runs at the clock's round; it counts one phase 1", async () => {
    const c = proposerCluster();
    await c.runFor(123);
    const answer = await c.append();
    expect(answer.ok).toBe(true);
    const prepares = c.sentOf("prepare");
    expect(prepares.map((m) => m.to)).toEqual(["a", "b", "c"]);
    for (const m of prepares)
      expect(m.request).toEqual({ type: "prepare", ballot: { round: epoch_ms + 123, proposerId: "p" }, fromSlot: 1 });
    expect(c.proposer.stats.phase1_runs).toBe(1);
  });

  test("a ballot above the clock, learnt from the Rejects, is outbid by exactly one round", async () => {
    const c = proposerCluster();
    const promised = foreign(1_000_000);
    for (const id of c.ids)
      expect(c.acceptors[id]!.handle({ type: "prepare", ballot: promised, fromSlot: 1 }).type).toBe("promise");
    const answer = await c.append();
    expect(answer.ok).toBe(true);
    const rounds = c.sentOf("prepare").map((m) => m.request.ballot.round);
    expect(rounds.slice(0, 3)).toEqual([epoch_ms, epoch_ms, epoch_ms]);
    expect(rounds.slice(3)).toEqual([promised.round + 1, promised.round + 1, promised.round + 1]);
    expect(c.proposer.stats.phase1_runs).toBe(2);
    expect(c.sentOf("accept").every((m) => m.request.ballot.round === promised.round + 1)).toBe(true);
  });

  test("a Promise for another ballot (a stale reply) does not count toward the prepare quorum", async () => {
    const c = proposerCluster();
    // b and c answer the first prepare with a Promise naming some other ballot: only a promised.
    editReplies(c, (to, request, reply) =>
      request.type === "prepare" && to !== "a" && c.sentOf("prepare").length <= 3 && reply.type === "promise"
        ? { ...reply, ballot: foreign(-5, "y") }
        : reply,
    );
    const answer = await c.append();
    expect(answer.ok).toBe(true);
    expect(c.proposer.stats.phase1_runs).toBe(2);
  });
});

describe("phase 1: recovery picks the highest ballot's value, no-ops in the gaps (Proposer.phase1)", () => {
  test("a slot accepted at two ballots is re-proposed with the higher ballot's value, whichever promise came first", async () => {
    // b answers first (5 ms) holding the higher ballot's value; a (10 ms) the lower one; c is slow.
    const c = proposerCluster({ one_way_ms: { a: 10, b: 5, c: 40 } });
    leaveAccepted(c, "a", foreign(-20, "x"), [{ slot: 1, value: proposedValue("low") }]);
    leaveAccepted(c, "b", foreign(-10, "y"), [{ slot: 1, value: proposedValue("high") }]);
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    const accept = c.sentOf("accept", "a")[0]!.request;
    expect(accept.slots).toEqual([
      { slot: 1, value: proposedValue("high") },
      { slot: 2, value: expect.objectContaining({ kind: "append" }) },
    ]);
  });

  test("a slot below the highest one listed that no promise holds is filled with a no-op", async () => {
    const c = proposerCluster({ one_way_ms: { c: 40 } });
    leaveAccepted(c, "a", foreign(-10), [{ slot: 3, value: proposedValue("three") }]);
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("accept", "b")[0]!.request.slots.map((s) => [s.slot, s.value.kind])).toEqual([
      [1, "noop"],
      [2, "noop"],
      [3, "append"],
      [4, "append"],
    ]);
    expect(c.sentOf("accept", "b")[0]!.request.slots[0]!.value).toEqual(noop_value);
  });
});

describe("phase 1: the re-prepare loop over truncated Promise listings (Proposer.phase1's prepareRound loop)", () => {
  const listing3 = small({ promise_slots_max: 3 });

  test("a truncated listing is prepared again from past its last slot until one is complete; all of it is re-proposed", async () => {
    const c = proposerCluster({ limits: listing3, one_way_ms: { c: 40 } });
    leaveAccepted(c, "a", foreign(-10), backlog(7));
    leaveAccepted(c, "b", foreign(-10), backlog(7));
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("prepare", "a").map((m) => m.request.fromSlot)).toEqual([1, 4, 7]);
    expect(new Set(c.sentOf("prepare", "a").map((m) => m.request.ballot.round)).size).toBe(1);
    expect(c.proposer.stats.reprepares).toBe(2);
    expect(c.proposer.stats.phase1_runs).toBe(1);
    const accept = c.sentOf("accept", "a")[0]!.request;
    expect(accept.slots.map((s) => s.slot)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(accept.slots.slice(0, 7)).toEqual(backlog(7));
  });

  test("a listing truncated exactly at the page size still pages on; a complete one ends the loop", async () => {
    const c = proposerCluster({ limits: listing3, one_way_ms: { c: 40 } });
    leaveAccepted(c, "a", foreign(-10), backlog(6));
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("prepare", "a").map((m) => m.request.fromSlot)).toEqual([1, 4]);
    expect(acceptedSlotsTo(c, "b")[0]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("a complete listing is not prepared again", async () => {
    const c = proposerCluster({ limits: listing3, one_way_ms: { c: 40 } });
    leaveAccepted(c, "a", foreign(-10), backlog(2));
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("prepare", "a").map((m) => m.request.fromSlot)).toEqual([1]);
    expect(c.proposer.stats.reprepares).toBe(0);
  });

  test("the slot a truncated listing ended at is re-proposed even when the next prepare's quorum lacks its acceptor", async () => {
    const c = proposerCluster({ limits: listing3, one_way_ms: { a: 5, b: 10, c: 15 } });
    leaveAccepted(c, "a", foreign(-10), backlog(4));
    // a's second prepare is lost: b and c (holding nothing) complete the loop.
    c.control.route = (to, request) =>
      to === "a" && request.type === "prepare" && request.fromSlot > 1 ? { kind: "lose" } : { kind: "deliver" };
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("prepare", "b").map((m) => m.request.fromSlot)).toEqual([1, 4]);
    expect(acceptedSlotsTo(c, "b")[0]).toEqual([1, 2, 3, 4]);
    expect(c.sentOf("accept", "b")[0]!.request.slots.slice(0, 3)).toEqual(backlog(3));
  });

  test("a slot listed above another acceptor's truncation is left for the listing that reaches it", async () => {
    const c = proposerCluster({ limits: listing3, one_way_ms: { a: 5, b: 10, c: 15 } });
    leaveAccepted(c, "a", foreign(-10), backlog(4));
    leaveAccepted(c, "b", foreign(-10), [{ slot: 6, value: proposedValue("six") }]);
    // b's second prepare is lost: a and c complete the loop, and nobody lists slot 6 again.
    c.control.route = (to, request) =>
      to === "b" && request.type === "prepare" && request.fromSlot > 1 ? { kind: "lose" } : { kind: "deliver" };
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(c.sentOf("prepare", "a").map((m) => m.request.fromSlot)).toEqual([1, 4]);
    expect(acceptedSlotsTo(c, "a")[0]).toEqual([1, 2, 3, 4, 5]);
  });

  test("a backlog that needs more than recovery_rounds_max prepares fails every attempt, and nothing is accepted", async () => {
    const c = proposerCluster({
      limits: small({ promise_slots_max: 3, recovery_rounds_max: 2 }),
      one_way_ms: { c: 40 },
    });
    leaveAccepted(c, "a", foreign(-10), backlog(7));
    leaveAccepted(c, "b", foreign(-10), backlog(7));
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(false);
    expect(answer.ok ? undefined : answer.error).toBeInstanceOf(QuorumUnavailableError);
    expect(c.sentOf("accept")).toEqual([]);
    const fromSlots = c.sentOf("prepare", "a").map((m) => m.request.fromSlot);
    expect(fromSlots.length).toBeGreaterThan(2);
    expect(fromSlots.length % 2).toBe(0);
    for (let i = 0; i < fromSlots.length; i += 2) expect(fromSlots.slice(i, i + 2)).toEqual([1, 4]);
  });
});

describe("the group round's quorum calls: phase 1, each Accept chunk and an outcome query each spend one (spendQuorumCall)", () => {
  test("a round allowed one quorum call prepares, then answers 503 without an Accept", async () => {
    const c = proposerCluster({ limits: small({ round_quorum_calls_max: 1 }) });
    const answer = await c.append();
    expect(answer.ok).toBe(false);
    expect(answer.ok ? "" : (answer.error as Error).message).toBe(
      "the round made every quorum call it was allowed (at most 1) without a quorum",
    );
    expect(c.sentOf("prepare").length).toBe(3);
    expect(c.sentOf("accept")).toEqual([]);
  });

  test("a round allowed two quorum calls cannot afford an outcome query after its phase 1 and Accept", async () => {
    const c = proposerCluster({ limits: small({ round_quorum_calls_max: 2 }) });
    editReplies(c, (_to, _request, reply) => (reply.type === "accepted" ? { ...reply, outcomes: [] } : reply));
    const answer = await c.append();
    expect(answer.ok).toBe(false);
    expect(answer.ok ? "" : (answer.error as Error).message).toBe(
      "the round made every quorum call it was allowed (at most 2) without a quorum",
    );
    expect(c.sentOf("commit").filter((m) => m.request.outcomeOf !== undefined)).toEqual([]);
  });
});

describe("phase 2: chunks that leave room for the owed commits (Proposer.phase2)", () => {
  test("slots go out in chunks of message_slots_max - owed_commit_slots_max - 1, each counted", async () => {
    // Chunks of 6 - 2 - 1 = 3 slots: five recovered slots and the new one make exactly two chunks.
    const c = proposerCluster({
      limits: small({ message_slots_max: 6, owed_commit_slots_max: 2 }),
      one_way_ms: { c: 40 },
    });
    leaveAccepted(c, "a", foreign(-10), backlog(5));
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    for (const id of c.ids) {
      expect(acceptedSlotsTo(c, id), id).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
    }
    expect(c.sentOf("accept", "b")[1]!.request.slots.slice(0, 2)).toEqual(backlog(5).slice(3));
    expect(c.proposer.stats.phase2_runs).toBe(2);
    expect(c.proposer.stats.phase2_extra_chunks).toBe(1);
    expect(c.proposer.stats.slots_chosen).toBe(6);
  });

  test("an Accepted for another ballot (a stale reply) does not count toward the accept quorum", async () => {
    const c = proposerCluster();
    editReplies(c, (to, _request, reply) =>
      reply.type === "accepted" && to !== "a" && c.sentOf("accept").length <= 3
        ? { ...reply, ballot: foreign(-5, "y") }
        : reply,
    );
    const answer = await c.append();
    expect(answer.ok).toBe(true);
    // Only a's Accepted counted: the attempt failed, and the next one ran a phase 1 of its own.
    expect(c.proposer.stats.phase1_runs).toBe(2);
    expect(c.sentOf("accept").length).toBe(6);
  });
});

describe("an idle append's commit: alone, after commit_linger_ms, ballot-only, once (CommitDebts.oweChosen, CommitDebt, AcceptorCalls.sendCommitAlone)", () => {
  test("the Accept carries no commits; each acceptor then gets one Commit naming the slot and ballot, and nothing more", async () => {
    const c = proposerCluster();
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    const accepts = c.sentOf("accept");
    expect(accepts.length).toBe(3);
    for (const m of accepts) expect(m.request.commits).toEqual([]);
    const ballot = accepts[0]!.request.ballot;
    // The quorum answered at 40 ms (prepare and Accept round trips of 20 ms); the Commit follows the linger.
    await c.runFor(5_000);
    const commits = c.sentOf("commit");
    expect(commits.map((m) => m.to)).toEqual(["a", "b", "c"]);
    for (const m of commits) {
      expect(m.at_ms).toBe(40 + limits.commit_linger_ms);
      expect(m.request).toEqual({ type: "commit", commits: [{ slot: 1, ballot }] });
    }
    for (const id of c.ids) expect(c.acceptors[id]!.store.chosenThrough(), id).toBe(1);
    expect(c.proposer.stats.messages_sent).toBe(c.sent.length);
    expect(c.sent.length).toBe(9);
    expect(c.proposer.stats.phase2_runs).toBe(1);
    expect(c.proposer.stats.phase2_extra_chunks).toBe(0);
  });

  test("a Commit whose call fails is sent once more, and only once", async () => {
    const c = proposerCluster();
    c.control.route = (to, request) =>
      to === "c" && request.type === "commit" ? { kind: "fail", after_ms: 1 } : { kind: "deliver" };
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    await c.runFor(5_000);
    const toC = c.sentOf("commit", "c");
    expect(toC.map((m) => m.at_ms)).toEqual([50, 50 + 1 + limits.owed_commit_linger_ms]);
    expect(toC[1]!.request).toEqual(toC[0]!.request);
  });

  test("a lost Commit is owed again after quorum_timeout_ms and sent once more; an answered one is not", async () => {
    const c = proposerCluster();
    let lost = 0;
    c.control.route = (to, request) =>
      to === "c" && request.type === "commit" && lost++ === 0 ? { kind: "lose" } : { kind: "deliver" };
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    await c.runFor(10_000);
    expect(c.sentOf("commit", "c").map((m) => m.at_ms)).toEqual([
      50,
      50 + limits.quorum_timeout_ms + limits.owed_commit_linger_ms,
    ]);
    expect(c.sentOf("commit", "a").length).toBe(1);
    expect(c.acceptors.c!.store.chosenThrough()).toBe(1);
  });

  test("every background task of an append is handed to its request's waitUntil", async () => {
    const c = proposerCluster();
    const kept: Array<Promise<unknown>> = [];
    let answered = false;
    void c.proposer.append([trade("t0")], (work) => kept.push(work)).then(() => (answered = true));
    await c.runUntil(() => answered);
    await c.runFor(5_000);
    // The drive loop, the commit linger, a flush timer per acceptor owed the slot, and for each of
    // the three Commits its reply and its delivery watch.
    expect(kept.length).toBe(1 + 1 + 3 + 3 + 3);
    expect(c.sentOf("commit").length).toBe(3);
  });

  test("an acceptor whose Commit failed counts as reachable again once a later Commit is answered", async () => {
    const c = proposerCluster();
    let commitsToC = 0;
    c.control.route = (to, request) =>
      to === "c" && request.type === "commit" && commitsToC++ === 0
        ? { kind: "fail", after_ms: 1, why: "c refused the commit" }
        : { kind: "deliver" };
    await c.append([trade("w0")]);
    await c.runFor(200); // the Commit to c failed at 51 ms; sent again, it was answered
    expect(c.sentOf("commit", "c").map((m) => m.at_ms)).toEqual([50, 101]);
    c.down.add("a");
    c.down.add("b");
    const answer = await c.append([trade("w1")]);
    expect(answer.ok).toBe(false);
    expect(answer.ok ? "" : (answer.error as Error).message).toBe(
      "1 of 3 acceptors reachable, 2 needed (a failed: a is down; b failed: b is down)",
    );
  });
});

/**
 * A warm cluster (a: 1 ms, b: 2 ms, c: 30 ms one way) under a stream of `n` requests, one every
 * 2 ms: its thrifty Accepts go to a and b, and c, outside the quorum, is owed every chosen value.
 */
async function thriftyStream(c: ProposerCluster, n: number) {
  await c.append([trade("w0")]);
  c.sent.length = 0;
  const t0_ms = c.world.now_ms;
  const boxes: Array<ReturnType<ProposerCluster["start"]>> = [];
  for (let i = 0; i < n; i++)
    c.world.schedule(i * 2, () => boxes.push(c.start([trade(`u${String(i).padStart(2, "0")}`)])));
  await c.runUntil(() => boxes.length === n && boxes.every((b) => b.answer !== undefined));
  expect(boxes.every((b) => b.answer?.ok)).toBe(true);
  await c.runFor(3_000);
  /** When each slot was chosen: its Accept to b (the slower of the quorum) answered. */
  const chosenAt_ms = new Map(c.sentOf("accept", "b").map((m) => [m.request.slots[0]!.slot, m.at_ms + 2 * 2 - t0_ms]));
  const toC = c
    .sentOf("commit", "c")
    .map((m) => ({ at_ms: m.at_ms - t0_ms, slots: m.request.commits.map((x) => x.slot), request: m.request }));
  return { chosenAt_ms, toC, lastSlot: Math.max(...chosenAt_ms.keys()) };
}

describe("the values owed to an acceptor outside the thrifty quorum (CommitDebt.owe)", () => {
  const delays = { a: 1, b: 2, c: 30 };

  test("owed_commit_slots_max owed slots go out at once in one Commit; a partial batch after owed_commit_linger_ms from its last slot", async () => {
    const c = proposerCluster({ one_way_ms: delays, limits: small({ owed_commit_slots_max: 3 }) });
    const { chosenAt_ms, toC, lastSlot } = await thriftyStream(c, 38);
    expect(toC.length).toBeGreaterThan(4);
    const full = toC.slice(0, -1);
    for (const m of full) {
      expect(m.slots.length).toBe(3);
      expect(m.at_ms).toBe(chosenAt_ms.get(m.slots.at(-1)!));
    }
    // The first batch holds the burst's first slot bare (c got its Accept), the rest carry values.
    expect(toC.flatMap((m) => m.slots)).toEqual(Array.from({ length: lastSlot - 1 }, (_, i) => i + 2));
    expect(
      toC
        .flatMap((m) => m.request.commits)
        .filter((x) => x.value === undefined)
        .map((x) => x.slot),
    ).toEqual([2]);
    const partial = toC.at(-1)!;
    expect(partial.slots.length).toBeLessThan(3);
    expect(partial.at_ms).toBe(chosenAt_ms.get(lastSlot)! + limits.owed_commit_linger_ms);
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
  });

  test("a value as large as owed_commit_bytes_max goes out at once; so does its copy owed again after a failed Commit", async () => {
    const oneRequest_bytes = Buffer.byteLength(JSON.stringify([trade("u00")]));
    const c = proposerCluster({ one_way_ms: delays, limits: small({ owed_commit_bytes_max: oneRequest_bytes }) });
    let commitsToC = 0;
    c.control.route = (to, request) =>
      to === "c" && request.type === "commit" && ++commitsToC === 5
        ? { kind: "fail", after_ms: 1 }
        : { kind: "deliver" };
    const { chosenAt_ms, toC, lastSlot } = await thriftyStream(c, 40);
    // The last slot holds one request: exactly the byte bound.
    const last = toC.at(-1)!;
    expect(last.slots).toEqual([lastSlot]);
    expect(last.at_ms).toBe(chosenAt_ms.get(lastSlot));
    const failed = toC[4]!;
    expect(failed.slots.length).toBe(1);
    expect(toC[5]!.at_ms).toBe(failed.at_ms + 1);
    expect(toC[5]!.request).toEqual(failed.request);
    for (const m of toC.slice(1)) expect(m.request.commits.length, `commit at ${m.at_ms}`).toBe(1);
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
  });
});

describe("a slot is owed to an acceptor once (CommitDebt.owe)", () => {
  test("a slot owed again after a failed Accept is not owed twice when a recovery chooses it again", async () => {
    // A phase 1 before every commit, and commits that linger: the next round's recovery finds slot
    // 2 accepted but not yet committed and chooses it again, while its commit, carried by the
    // Accept to c that failed, is owed to c once more.
    const c = proposerCluster({
      limits: small({ commit_linger_ms: 100 }),
      options: { prepareEveryCommitForBaseline: true },
    });
    await c.append([trade("w0")]);
    await c.runFor(1_000);
    c.sent.length = 0;
    c.control.route = (to, request) =>
      to === "c" && request.type === "accept" ? { kind: "fail", after_ms: 1 } : { kind: "deliver" };
    const first = c.start([trade("x1")]);
    await c.runFor(5);
    const second = c.start([trade("x2")]);
    await c.runUntil(() => first.answer !== undefined && second.answer !== undefined);
    await c.runFor(2_000);
    expect(acceptedSlotsTo(c, "c")).toEqual([[2], [2, 3]]);
    const toC = c.sentOf("commit", "c");
    expect(toC.length).toBe(1);
    // Each slot once, with its value: c's Accepts failed, so it holds neither.
    expect(toC[0]!.request.commits.map((x) => [x.slot, x.value !== undefined])).toEqual([
      [2, true],
      [3, true],
    ]);
    expect(c.acceptors.c!.store.chosenThrough()).toBe(3);
  });
});

describe("back-to-back group rounds: the commit rides on the next Accept (CommitDebts.acceptSent)", () => {
  test("a slot chosen while the next Accept is out is committed by that Accept; the last slot's Commit follows its own linger", async () => {
    const c = proposerCluster({ one_way_ms: { a: 1, b: 1, c: 1 }, options: { thrifty: false } });
    await c.append([trade("w0")]); // leadership: later rounds are one Accept each
    await c.runFor(1_000);
    c.sent.length = 0;
    const t0_ms = c.world.now_ms;
    const first = c.start([trade("x1")]);
    await c.runFor(1);
    const second = c.start([trade("x2")]);
    await c.runUntil(() => first.answer !== undefined && second.answer !== undefined);
    await c.runFor(1_000);
    const accepts = c.sentOf("accept", "a");
    expect(accepts.map((m) => m.at_ms - t0_ms)).toEqual([0, 2]);
    expect(accepts[1]!.request.commits.map((x) => x.slot)).toEqual([2]);
    // The second slot was chosen at 4 ms: its Commit, and no other, goes out commit_linger_ms later.
    const commits = c.sentOf("commit", "a");
    expect(commits.map((m) => [m.at_ms - t0_ms, m.request.commits.map((x) => x.slot)])).toEqual([
      [4 + limits.commit_linger_ms, [3]],
    ]);
  });
});

describe("the outcome query when no Accepted predicted the outcome (Proposer.fetchOutcome)", () => {
  test("one Commit asks for the slot's outcome, carrying the commit owed; the append is answered from it", async () => {
    const c = proposerCluster();
    editReplies(c, (_to, _request, reply) => (reply.type === "accepted" ? { ...reply, outcomes: [] } : reply));
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    expect(answer.ok ? answer.outcome : undefined).toMatchObject({
      receipts: [{ id: "t0", seq: 1, slot: 1, status: "created" }],
    });
    expect(c.proposer.stats.outcome_fallbacks).toBe(1);
    const ballot = c.sentOf("accept")[0]!.request.ballot;
    const queries = c.sentOf("commit").filter((m) => m.request.outcomeOf !== undefined);
    expect(queries.map((m) => m.to)).toEqual(["a", "b", "c"]);
    for (const m of queries)
      expect(m.request).toEqual({ type: "commit", commits: [{ slot: 1, ballot }], outcomeOf: 1 });
  });

  test("when no acceptor answers with the outcome, the attempt fails and the next one starts with a phase 1", async () => {
    const c = proposerCluster();
    let queries = 0;
    // The first outcome query is answered without an outcome (as by acceptors lacking an earlier slot).
    editReplies(c, (_to, request, reply) => {
      if (reply.type === "accepted") return { ...reply, outcomes: [] };
      if (request.type === "commit" && request.outcomeOf !== undefined && queries++ < 3)
        return { type: "committed", chosenThrough: 0 };
      return reply;
    });
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    expect(c.proposer.stats.outcome_fallbacks).toBe(2);
    expect(c.proposer.stats.phase1_runs).toBe(2);
  });

  test("an outcome query to acceptors owed nothing carries no commits", async () => {
    // A batch of one owed slot goes out at once: by the time of the query nothing is owed.
    const c = proposerCluster({ limits: small({ owed_commit_slots_max: 1 }) });
    editReplies(c, (_to, _request, reply) => (reply.type === "accepted" ? { ...reply, outcomes: [] } : reply));
    const answer = await c.append([trade("t0")]);
    expect(answer.ok).toBe(true);
    const queries = c.sentOf("commit").filter((m) => m.request.outcomeOf !== undefined);
    expect(queries.length).toBe(3);
    for (const m of queries) expect(m.request).toEqual({ type: "commit", commits: [], outcomeOf: 1 });
  });
});

describe("thrifty Accepts go to the fastest accept quorum by measured latency (AcceptorCalls.thriftyTargets)", () => {
  test("under load, Accepts go to the two fastest acceptors, whatever their order in the config", async () => {
    const c = proposerCluster({ one_way_ms: { a: 30, b: 2, c: 1 } });
    await c.append([trade("w0")]);
    await c.runFor(1_000); // a's replies (60 ms round trips) have come: every latency is known
    c.sent.length = 0;
    const boxes = Array.from({ length: 12 }, (_, i) => c.start([trade(`u${i}`)]));
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    const accepts = c.sentOf("accept");
    expect(accepts.length).toBeGreaterThan(2);
    // The first round of the burst goes to everyone; the thrifty ones after it to b and c only.
    expect(accepts.slice(3).every((m) => m.to !== "a")).toBe(true);
    expect(c.sentOf("accept", "a").length).toBeLessThanOrEqual(2);
  });

  test("an acceptor that never answered is not in a thrifty quorum", async () => {
    const c = proposerCluster({ one_way_ms: { a: 1, b: 2, c: 3 } });
    c.silent.add("a");
    await c.append([trade("w0")]);
    c.sent.length = 0;
    const boxes = Array.from({ length: 8 }, (_, i) => c.start([trade(`u${i}`)]));
    await c.runUntil(() => boxes.every((b) => b.answer !== undefined));
    expect(boxes.every((b) => b.answer?.ok)).toBe(true);
    const toA = c.sentOf("accept", "a").length;
    expect(toA).toBeLessThanOrEqual(1);
  });

  test("with a prepare quorum smaller than the accept quorum, the first Accept goes to everyone until enough latencies are known", async () => {
    // Prepare 2 of 5, accept 4 of 5: phase 1 ends on a's and b's promises, before c, d and e answer.
    const c = proposerCluster({
      ids: ["a", "b", "c", "d", "e"],
      quorum: quorumConfig(5, 2, 4),
      one_way_ms: { a: 5, b: 5, c: 20, d: 20, e: 20 },
    });
    // A sync runs the phase 1; the three appends queued behind it make one round under load.
    let synced = false;
    void c.proposer.sync().then(() => (synced = true));
    const boxes = [0, 1, 2].map((i) => c.start([trade(`f${i}`)]));
    await c.runUntil(() => synced && boxes.every((b) => b.answer !== undefined));
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(boxes.every((b) => b.answer?.ok)).toBe(true);
    const first = c.sentOf("accept").filter((m) => m.at_ms === 10);
    expect(first.map((m) => m.to)).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("the thrifty quorum is kept while it answers, even when an acceptor outside it becomes the fastest", async () => {
    const c = proposerCluster({ one_way_ms: { a: 30, b: 2, c: 3 }, limits: small({ owed_commit_slots_max: 2 }) });
    await c.append([trade("w0")]);
    await streamOf(c, "s", 20);
    c.one_way_ms.a = 1; // a's Commit replies now measure it fastest
    c.sent.length = 0;
    await streamOf(c, "t", 120);
    // Only the stream's first round, a lone request, went to everyone.
    expect(c.sentOf("accept", "a").length).toBe(1);
    expect(c.sentOf("commit", "a").length).toBeGreaterThanOrEqual(15);
  });

  test("latencies measured on Commit replies count when the thrifty quorum is picked afresh after a phase 1", async () => {
    const c = proposerCluster({ one_way_ms: { a: 30, b: 2, c: 3 }, limits: small({ owed_commit_slots_max: 2 }) });
    await c.append([trade("w0")]);
    await streamOf(c, "s", 20);
    c.one_way_ms.a = 1;
    await streamOf(c, "t", 60); // a, outside the quorum, hears only Commits: they measure it at 2 ms
    await c.runFor(1_000);
    outbid(c);
    c.sent.length = 0;
    await streamOf(c, "u", 20);
    // Two rounds to everyone (the rejected Accept, then the first after phase 1), then a and b only.
    expect(c.sentOf("accept", "c").length).toBe(2);
    expect(c.sentOf("accept", "a").length).toBeGreaterThan(4);
  });

  test("a failed Commit counts its acceptor as slow as a whole wait when the thrifty quorum is picked afresh", async () => {
    const c = proposerCluster({ one_way_ms: { a: 3, b: 2, c: 1 } });
    await c.append([trade("w0")]);
    let commitsToC = 0;
    c.control.route = (to, request) =>
      to === "c" && request.type === "commit" && commitsToC++ === 0
        ? { kind: "fail", after_ms: 1 }
        : { kind: "deliver" };
    await streamOf(c, "s", 20);
    await c.runFor(1_000);
    expect(commitsToC).toBeGreaterThan(1); // the first failed, the next ones were answered
    outbid(c);
    c.sent.length = 0;
    await streamOf(c, "u", 20);
    expect(c.sentOf("accept", "c").length).toBe(2);
    expect(c.sentOf("accept", "a").length).toBeGreaterThan(4);
  });
});

describe("skipRecoveryForTests (Proposer.phase1)", () => {
  test("a proposer told to skip recovery proposes from the highest chosenThrough, ignoring accepted slots", async () => {
    const c = proposerCluster({ options: { skipRecoveryForTests: true }, one_way_ms: { c: 40 } });
    await proposerCluster({ sharing: c, proposerId: "q" }).append([trade("q0")]);
    await c.runFor(1_000);
    leaveAccepted(c, "a", foreign(500), [{ slot: 2, value: proposedValue("left") }]);
    const answer = await c.append([trade("mine")]);
    expect(answer.ok).toBe(true);
    expect(acceptedSlotsTo(c, "a")).toEqual([[2]]);
  });
});
