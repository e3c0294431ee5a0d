/**
 * The proposer's recovery, scripted: hand-built acceptor states in, the exact messages and the chosen
 * values out (etcd's data-driven interaction tests are the model). Each scenario writes what the
 * acceptors hold (as earlier leaders left it), lets the production Proposer over real Acceptors in
 * virtual time serve one request, and compares the whole message transcript, every acceptor's log
 * and the request's receipt with the expected ones. Until now these paths were reached only by the
 * simulator's random seeds. The notation is explained in `recovery-script.ts`.
 *
 * Unless a scenario says otherwise: acceptors a, b, c; a and b are near (5 and 10 ms one way) and
 * form the prepare quorum; c is far (100 ms), so its replies come after theirs (they matter only in
 * scenario 4, where c's refusal is the one that fails an attempt).
 * The proposer under test starts cold at the clock origin: its first ballot is t0.p.
 */
import { describe, expect, test } from "vitest";
import type { Receipt } from "../../src/core/ledger-types.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import { allEntries, trade } from "./fixtures.js";
import { type ProposerCluster, proposerCluster } from "./proposer-cluster.js";
import { type AcceptorState, acceptorLogs, ahead, earlier, holdStates, recordTranscript } from "./recovery-script.js";

/** One scenario of a cold proposer's first request over hand-built acceptor states. */
interface RecoveryScript {
  readonly name: string;
  /** Limits of the proposer and the acceptors alike (production's, with these changed). */
  readonly limits?: Partial<CoreLimits>;
  /** What the acceptors hold when the proposer starts. */
  readonly holds: Readonly<Record<string, AcceptorState>>;
  /** Every message of the request, and of its commits after it, in order. */
  readonly transcript: readonly string[];
  /** The log every acceptor ends with (they all agree): the chosen slots, and chosenThrough. */
  readonly log: string;
  /** The request's receipt (one trade, id `mine`). */
  readonly receipt: Pick<Receipt, "status" | "seq" | "slot">;
}

const near_and_far = { a: 5, b: 10, c: 100 };
/** Long enough for every commit and every reply of a scripted request to arrive. */
const settle_ms = 1_000;

/** Runs one script: holds its states, appends one trade `mine`, and compares everything it expects. */
async function play(script: RecoveryScript): Promise<ProposerCluster> {
  const c = proposerCluster({
    one_way_ms: near_and_far,
    ...(script.limits === undefined ? {} : { limits: { ...limits, ...script.limits } }),
  });
  holdStates(c, script.holds);
  const transcript = recordTranscript(c);
  const answer = await c.append([trade("mine")]);
  await c.runFor(settle_ms);
  expect(transcript.lines()).toEqual(script.transcript);
  expect(acceptorLogs(c)).toEqual({ a: script.log, b: script.log, c: script.log });
  expect(answer.ok ? answer.outcome : answer.error).toMatchObject({
    kind: "applied",
    receipts: [{ id: "mine", ...script.receipt }],
  });
  return c;
}

describe("1. the value accepted at the highest ballot wins", () => {
  // Two earlier leaders, 1.x and then 2.y, each got slot 1 accepted somewhere before they crashed.
  // Only 2.y's value may have been chosen (a value chosen at 1.x would have been found by 2.y's own
  // phase 1 and proposed again), so recovery must re-propose [high], however many acceptors hold
  // [low] and in whichever order the promises arrive. Broken by the sabotage "recovery_takes_lowest_ballot".
  const scripts: RecoveryScript[] = [
    {
      name: "the higher ballot's promise arrives last, and most acceptors hold the lower ballot's value",
      holds: {
        a: { accepted: [{ ballot: earlier(1, "x"), slots: { 1: ["low"] } }] },
        b: { accepted: [{ ballot: earlier(2, "y"), slots: { 1: ["high"] } }] },
        c: { accepted: [{ ballot: earlier(1, "x"), slots: { 1: ["low"] } }] },
      },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        "a -> p: promise t0.p through 0 {1@1.x:[low]}",
        "b -> p: promise t0.p through 0 {1@2.y:[high]}",
        "p -> a,b,c: accept t0.p {1:[high] 2:[mine]}",
        "a,b -> p: accepted t0.p {1,2} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p}",
        "a,b -> p: committed through 2",
        "c -> p: promise t0.p through 0 {1@1.x:[low]}",
        "c -> p: accepted t0.p {1,2} through 0",
        "c -> p: committed through 2",
      ],
      log: "1=[high]@t0.p 2=[mine]@t0.p | through 2",
      receipt: { status: "created", seq: 2, slot: 2 },
    },
    {
      name: "the higher ballot's promise arrives first",
      holds: {
        a: { accepted: [{ ballot: earlier(2, "y"), slots: { 1: ["high"] } }] },
        b: { accepted: [{ ballot: earlier(1, "x"), slots: { 1: ["low"] } }] },
      },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        "a -> p: promise t0.p through 0 {1@2.y:[high]}",
        "b -> p: promise t0.p through 0 {1@1.x:[low]}",
        "p -> a,b,c: accept t0.p {1:[high] 2:[mine]}",
        "a,b -> p: accepted t0.p {1,2} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p}",
        "a,b -> p: committed through 2",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: accepted t0.p {1,2} through 0",
        "c -> p: committed through 2",
      ],
      log: "1=[high]@t0.p 2=[mine]@t0.p | through 2",
      receipt: { status: "created", seq: 2, slot: 2 },
    },
  ];
  test.each(scripts)("$name", async (script) => {
    await play(script);
  });
});

describe("2. holes become no-ops", () => {
  // A slot below the highest one listed that no promise of the quorum holds cannot have been chosen
  // (a chosen value sits on an accept quorum, which meets every prepare quorum). Recovery fills it
  // with a no-op, so that the slots after it can be applied; the new value goes after the last one.
  const scripts: RecoveryScript[] = [
    {
      name: "slots 2 and 4 accepted, slots 1 and 3 nowhere: 1 and 3 are chosen as no-ops",
      holds: {
        a: { accepted: [{ ballot: earlier(1, "x"), slots: { 2: ["two"] } }] },
        b: { accepted: [{ ballot: earlier(2, "y"), slots: { 4: ["four"] } }] },
      },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        "a -> p: promise t0.p through 0 {2@1.x:[two]}",
        "b -> p: promise t0.p through 0 {4@2.y:[four]}",
        "p -> a,b,c: accept t0.p {1:noop 2:[two] 3:noop 4:[four] 5:[mine]}",
        "a,b -> p: accepted t0.p {1,2,3,4,5} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p 3@t0.p 4@t0.p 5@t0.p}",
        "a,b -> p: committed through 5",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: accepted t0.p {1,2,3,4,5} through 0",
        "c -> p: committed through 5",
      ],
      log: "1=noop@t0.p 2=[two]@t0.p 3=noop@t0.p 4=[four]@t0.p 5=[mine]@t0.p | through 5",
      // The no-ops hold no entries: [two] is seq 1, [four] seq 2.
      receipt: { status: "created", seq: 3, slot: 5 },
    },
    {
      name: "slot 1 held only outside the prepare quorum is a hole too: c's value there is replaced by a no-op",
      holds: {
        a: { accepted: [{ ballot: earlier(1, "x"), slots: { 2: ["two"] } }] },
        c: { accepted: [{ ballot: earlier(1, "x"), slots: { 1: ["lost"] } }] },
      },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        "a -> p: promise t0.p through 0 {2@1.x:[two]}",
        "b -> p: promise t0.p through 0 {}",
        "p -> a,b,c: accept t0.p {1:noop 2:[two] 3:[mine]}",
        "a,b -> p: accepted t0.p {1,2,3} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p 3@t0.p}",
        "a,b -> p: committed through 3",
        "c -> p: promise t0.p through 0 {1@1.x:[lost]}",
        "c -> p: accepted t0.p {1,2,3} through 0",
        "c -> p: committed through 3",
      ],
      log: "1=noop@t0.p 2=[two]@t0.p 3=[mine]@t0.p | through 3",
      receipt: { status: "created", seq: 2, slot: 3 },
    },
  ];
  test.each(scripts)("$name", async (script) => {
    await play(script);
  });
});

describe("3. more accepted slots than one Promise lists: several prepare rounds at one ballot", () => {
  // A Promise lists at most `promise_slots_max` accepted slots (3 here) and says when it stopped
  // short. The proposer prepares again at the same ballot from past the last slot listed until every
  // listing is complete, and re-proposes the whole backlog. Taking the first listing as complete
  // would propose the new value over slot 4, which may be chosen already. Broken by the sabotage
  // "truncated_promise_treated_complete".
  const v = (n: number) => `${n}@1.x:[v${n}]`;
  const backlog = (n: number) => ({
    accepted: [
      {
        ballot: earlier(1, "x"),
        slots: Object.fromEntries(Array.from({ length: n }, (_, i) => [i + 1, [`v${i + 1}`]])),
      },
    ],
  });
  const scripts: Array<RecoveryScript & { readonly prepares_from: readonly number[] }> = [
    {
      name: "7 slots, 3 per listing: prepares from slots 1, 4 and 7",
      limits: { promise_slots_max: 3 },
      holds: { a: backlog(7), b: backlog(7) },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        `a,b -> p: promise t0.p through 0 {${v(1)} ${v(2)} ${v(3)}} truncated`,
        "p -> a,b,c: prepare t0.p from 4",
        `a,b -> p: promise t0.p through 0 {${v(4)} ${v(5)} ${v(6)}} truncated`,
        "p -> a,b,c: prepare t0.p from 7",
        `a,b -> p: promise t0.p through 0 {${v(7)}}`,
        "p -> a,b,c: accept t0.p {1:[v1] 2:[v2] 3:[v3] 4:[v4] 5:[v5] 6:[v6] 7:[v7] 8:[mine]}",
        "a,b -> p: accepted t0.p {1,2,3,4,5,6,7,8} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p 3@t0.p 4@t0.p 5@t0.p 6@t0.p 7@t0.p 8@t0.p}",
        "a,b -> p: committed through 8",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: accepted t0.p {1,2,3,4,5,6,7,8} through 0",
        "c -> p: committed through 8",
      ],
      log: "1=[v1]@t0.p 2=[v2]@t0.p 3=[v3]@t0.p 4=[v4]@t0.p 5=[v5]@t0.p 6=[v6]@t0.p 7=[v7]@t0.p 8=[mine]@t0.p | through 8",
      receipt: { status: "created", seq: 8, slot: 8 },
      prepares_from: [1, 4, 7],
    },
    {
      name: "6 slots, 3 per listing: the second listing holds exactly 3 and is complete, so two prepares",
      limits: { promise_slots_max: 3 },
      holds: { a: backlog(6), b: backlog(6) },
      transcript: [
        "p -> a,b,c: prepare t0.p from 1",
        `a,b -> p: promise t0.p through 0 {${v(1)} ${v(2)} ${v(3)}} truncated`,
        "p -> a,b,c: prepare t0.p from 4",
        `a,b -> p: promise t0.p through 0 {${v(4)} ${v(5)} ${v(6)}}`,
        "p -> a,b,c: accept t0.p {1:[v1] 2:[v2] 3:[v3] 4:[v4] 5:[v5] 6:[v6] 7:[mine]}",
        "a,b -> p: accepted t0.p {1,2,3,4,5,6,7} through 0",
        "p -> a,b,c: commit {1@t0.p 2@t0.p 3@t0.p 4@t0.p 5@t0.p 6@t0.p 7@t0.p}",
        "a,b -> p: committed through 7",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: promise t0.p through 0 {}",
        "c -> p: accepted t0.p {1,2,3,4,5,6,7} through 0",
        "c -> p: committed through 7",
      ],
      log: "1=[v1]@t0.p 2=[v2]@t0.p 3=[v3]@t0.p 4=[v4]@t0.p 5=[v5]@t0.p 6=[v6]@t0.p 7=[mine]@t0.p | through 7",
      receipt: { status: "created", seq: 7, slot: 7 },
      prepares_from: [1, 4],
    },
  ];
  test.each(scripts)("$name", async (script) => {
    const c = await play(script);
    // One phase 1, at one ballot, in as many prepare rounds as the listings needed.
    for (const id of c.ids) {
      const prepared_from = c.sentOf("prepare", id).map((m) => m.request.fromSlot);
      expect(prepared_from, id).toEqual(script.prepares_from);
    }
    expect(new Set(c.sentOf("prepare").map((m) => m.request.ballot.round)).size).toBe(1);
    expect(c.proposer.stats.phase1_runs).toBe(1);
    expect(c.proposer.stats.reprepares).toBe(script.prepares_from.length - 1);
  });
});

/**
 * A warm proposer: it has committed `w0` in slot 1 at t0.p and holds leadership, so its next request
 * goes straight to phase 2. Then the test writes in the states of another proposer z, which has
 * prepared meanwhile at a ballot far ahead of the clock, and starts recording.
 */
async function warmThenOutbid(z_at: readonly string[]) {
  const c = proposerCluster({ one_way_ms: near_and_far });
  expect((await c.append([trade("w0")])).ok).toBe(true);
  await c.runFor(settle_ms);
  expect(c.proposer.isLeader).toBe(true);
  const z = ahead(1_000_000, "z");
  holdStates(c, Object.fromEntries(z_at.map((id) => [id, { promised: z }])));
  return { c, transcript: recordTranscript(c) };
}

describe("4. a value recovered from an earlier attempt is not proposed twice", () => {
  // The request's first attempt reaches a, which accepts [x1] in slot 2; b and c have promised z and
  // refuse. The attempt fails and the proposer gives up leadership. Its second attempt's phase 1
  // finds [x1] in slot 2 (a is in the prepare quorum) and finishes that slot instead of proposing the
  // value again in slot 3: the ledger gets x1 once, at one seq, and the request sees it `created`.
  test("the request's own value, found by the next phase 1 in slot 2, is chosen there and only there", async () => {
    const { c, transcript } = await warmThenOutbid(["b", "c"]);
    const answer = await c.append([trade("x1")]);
    await c.runFor(settle_ms);
    expect(transcript.lines()).toEqual([
      "p -> a,b,c: accept t0.p {2:[x1]}",
      "a -> p: accepted t0.p {2} through 1",
      // One acceptance and one refusal leave a quorum possible: the attempt fails on c's refusal.
      "b,c -> p: reject promised t1000000.z",
      // Outbid by one round: the ballot is above every round a Reject named.
      "p -> a,b,c: prepare t1000001.p from 1",
      "a -> p: promise t1000001.p through 1 {2@t0.p:[x1]}",
      "b -> p: promise t1000001.p through 1 {}",
      // Slot 2 only: the value is not proposed again in slot 3.
      "p -> a,b,c: accept t1000001.p {2:[x1]}",
      "a,b -> p: accepted t1000001.p {2} through 1",
      "p -> a,b,c: commit {2@t1000001.p}",
      "a,b -> p: committed through 2",
      "c -> p: promise t1000001.p through 1 {}",
      "c -> p: accepted t1000001.p {2} through 1",
      "c -> p: committed through 2",
    ]);
    const log = "1=[w0]@t0.p 2=[x1]@t1000001.p | through 2";
    expect(acceptorLogs(c)).toEqual({ a: log, b: log, c: log });
    expect(answer.ok ? answer.outcome : answer.error).toEqual({
      kind: "applied",
      receipts: [expect.objectContaining({ id: "x1", status: "created", seq: 2, slot: 2 })],
    });
    // One entry x1, at one seq, on every acceptor.
    for (const id of c.ids) {
      const entries = allEntries(c.acceptors[id]!.store).map((e) => `${e.id}#${e.seq}`);
      expect(entries, id).toEqual(["w0#1", "x1#2"]);
    }
    // A later resend of the same id is a new request: it finds x1 in the ledger, `exists`, same seq.
    const resend = await c.append([trade("x1")]);
    expect(resend.ok ? resend.outcome : resend.error).toEqual({
      kind: "applied",
      receipts: [expect.objectContaining({ id: "x1", status: "exists", seq: 2, slot: 2 })],
    });
  });
});

describe("5. a stale leader is refused", () => {
  // The proposer still believes it leads at t0.p, but another proposer z has since prepared at
  // t1000000.z (and, in the second scenario, got a value of its own accepted at one acceptor). Every
  // acceptor refuses the stale Accept and names z's ballot: nothing is accepted or committed at
  // t0.p. The proposer gives up leadership, outbids z by one round, recovers what z left, and only
  // then proposes its own value.
  const z = ahead(1_000_000, "z");
  const scripts: Array<{
    name: string;
    holds: Record<string, AcceptorState>;
    transcript: string[];
    log: string;
    slot: number;
  }> = [
    {
      name: "every acceptor has promised z: the retry at t1000001.p proposes the value in the same slot",
      holds: { a: { promised: z }, b: { promised: z }, c: { promised: z } },
      transcript: [
        "p -> a,b,c: accept t0.p {2:[x1]}",
        "a,b -> p: reject promised t1000000.z",
        "p -> a,b,c: prepare t1000001.p from 1",
        "a,b -> p: promise t1000001.p through 1 {}",
        "p -> a,b,c: accept t1000001.p {2:[x1]}",
        "a,b -> p: accepted t1000001.p {2} through 1",
        "p -> a,b,c: commit {2@t1000001.p}",
        "a,b -> p: committed through 2",
        "c -> p: reject promised t1000000.z",
        "c -> p: promise t1000001.p through 1 {}",
        "c -> p: accepted t1000001.p {2} through 1",
        "c -> p: committed through 2",
      ],
      log: "1=[w0]@t0.p 2=[x1]@t1000001.p | through 2",
      slot: 2,
    },
    {
      name: "z also got [z2] accepted in slot 2 at a: the retry finishes z's slot 2 and proposes the value in slot 3",
      holds: { a: { accepted: [{ ballot: z, slots: { 2: ["z2"] } }] }, b: { promised: z }, c: { promised: z } },
      transcript: [
        "p -> a,b,c: accept t0.p {2:[x1]}",
        "a,b -> p: reject promised t1000000.z",
        "p -> a,b,c: prepare t1000001.p from 1",
        "a -> p: promise t1000001.p through 1 {2@t1000000.z:[z2]}",
        "b -> p: promise t1000001.p through 1 {}",
        "p -> a,b,c: accept t1000001.p {2:[z2] 3:[x1]}",
        "a,b -> p: accepted t1000001.p {2,3} through 1",
        "p -> a,b,c: commit {2@t1000001.p 3@t1000001.p}",
        "a,b -> p: committed through 3",
        "c -> p: reject promised t1000000.z",
        "c -> p: promise t1000001.p through 1 {}",
        "c -> p: accepted t1000001.p {2,3} through 1",
        "c -> p: committed through 3",
      ],
      log: "1=[w0]@t0.p 2=[z2]@t1000001.p 3=[x1]@t1000001.p | through 3",
      slot: 3,
    },
  ];
  test.each(scripts)("$name", async (script) => {
    const { c, transcript } = await warmThenOutbid([]);
    holdStates(c, script.holds);
    const answer = await c.append([trade("x1")]);
    await c.runFor(settle_ms);
    const lines = transcript.lines();
    expect(lines).toEqual(script.transcript);
    // Once refused, nothing goes out at the stale ballot, and nothing is chosen at it.
    expect(lines.slice(2).filter((line) => line.includes("t0.p"))).toEqual([]);
    expect(acceptorLogs(c)).toEqual({ a: script.log, b: script.log, c: script.log });
    expect(answer.ok ? answer.outcome : answer.error).toMatchObject({
      kind: "applied",
      receipts: [{ id: "x1", status: "created", slot: script.slot }],
    });
    expect(c.proposer.stats.phase1_runs).toBe(2);
  });
});
