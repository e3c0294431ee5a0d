/**
 * Thrifty phase 2: once it knows the acceptors' latencies, a warm proposer sends each Accept to the
 * fastest accept quorum only, brings in the others when that quorum fails, and sends the acceptors
 * outside it the chosen values in bounded batches. Virtual time (the simulator's World), real
 * Acceptors over in-memory stores.
 */
import { describe, expect, test } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import { limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import { Proposer, type ProposerOptions } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";
import { trade } from "./fixtures.js";
import { proposerCluster } from "./proposer-cluster.js";

const epoch_ms = 1_800_000_000_000;

/** Three acceptors, one-way delays a: 1 ms, b: 2 ms, c: 30 ms; `down` ones never answer. */
function cluster(options: ProposerOptions = {}) {
  const world = new World();
  const delay_ms: Record<string, number> = { a: 1, b: 2, c: 30 };
  const acceptors = Object.fromEntries(
    Object.keys(delay_ms).map((id) => [id, new Acceptor(new MemoryAcceptorStore(), { id, acceptQuorum: 2 })]),
  );
  const down = new Set<string>();
  /** Messages to these acceptors are lost (never delivered, never answered), each entry once per message. */
  const lose: string[] = [];
  const log: Array<{ to: string; type: AcceptorRequest["type"]; values: number }> = [];
  const proposer = new Proposer(
    {
      proposerId: "p",
      acceptorIds: Object.keys(delay_ms),
      quorum: quorumConfig(3),
      send: (to, request) => {
        const values =
          request.type === "commit" || request.type === "accept"
            ? request.commits.filter((c) => c.value !== undefined).length
            : 0;
        log.push({ to, type: request.type, values });
        const lost = request.type === "commit" && lose.indexOf(to) >= 0;
        if (lost) lose.splice(lose.indexOf(to), 1);
        return new Promise<AcceptorReply>((resolve, reject) => {
          if (lost) return;
          world.schedule(delay_ms[to]!, () => {
            if (down.has(to)) return;
            const reply = acceptors[to]!.handle(request);
            world.schedule(delay_ms[to]!, () => (down.has(to) ? reject(new Error("down")) : resolve(reply)));
          });
        });
      },
      now_ms: () => epoch_ms + Math.floor(world.now_ms),
      sleep: (ms) => world.sleep(ms),
      random: () => 0.5,
    },
    options,
  );
  /** Appends these requests at once and runs until all are decided. */
  const appendAll = async (...ids: string[]) => {
    let decided = 0;
    const failures: unknown[] = [];
    for (const id of ids)
      proposer.append([trade(id)]).then(
        () => decided++,
        (e: unknown) => {
          decided++;
          failures.push(e);
        },
      );
    await world.run(world.now_ms + 10_000, 1_000_000, () => decided === ids.length);
    expect(failures).toEqual([]);
    expect(decided).toBe(ids.length);
  };
  /** A steady stream: one request every `every_ms` of virtual time, faster than a round; runs until all are decided. */
  const appendStream = async (prefix: string, n: number, every_ms = 2) => {
    let decided = 0;
    const failures: unknown[] = [];
    for (let i = 0; i < n; i++) {
      world.schedule(i * every_ms, () => {
        proposer.append([trade(`${prefix}${i}`)]).then(
          () => decided++,
          (e: unknown) => {
            decided++;
            failures.push(e);
          },
        );
      });
    }
    await world.run(world.now_ms + 60_000, 1_000_000, () => decided === n);
    expect(failures).toEqual([]);
    expect(decided).toBe(n);
  };
  const idle = () => world.run(world.now_ms + 1_000, 1_000_000);
  return { world, acceptors, down, lose, log, proposer, appendAll, appendStream, idle };
}

describe("thrifty phase 2", () => {
  test("under load, warm Accepts go to the two fastest acceptors only; the slow one gets the values in batches and converges", async () => {
    const c = cluster();
    await c.appendAll("t0"); // phase 1 and the first Accept go to everyone: latencies become known
    c.log.length = 0;
    const n = 200;
    await c.appendStream("s", n);
    const accepts = c.log.filter((m) => m.type === "accept");
    const rounds = c.proposer.stats.slots_chosen - 1;
    expect(rounds).toBeGreaterThan(3 * limits.owed_commit_slots_max);
    // Only the stream's first and last rounds (a lone request, no load) went to everyone.
    expect(accepts.filter((m) => m.to === "c").length).toBeLessThanOrEqual(2);
    expect(accepts.length).toBeLessThanOrEqual(2 * rounds + 2);
    // c heard of the other slots only through Commits carrying their values, at most owed_commit_slots_max each.
    const commitsToC = c.log.filter((m) => m.to === "c" && m.type === "commit");
    expect(commitsToC.every((m) => m.values >= 1 && m.values <= limits.owed_commit_slots_max)).toBe(true);
    expect(commitsToC.length).toBeLessThanOrEqual(Math.ceil(rounds / limits.owed_commit_slots_max) + 1);
    await c.idle();
    for (const id of ["a", "b", "c"]) expect(c.acceptors[id]!.store.head().seq, id).toBe(n + 1);
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
  });

  test("a fast acceptor that stops answering brings in the third at once; no append fails", async () => {
    const c = cluster();
    await c.appendStream("u", 20);
    c.down.add("b");
    c.log.length = 0;
    const before = c.proposer.stats.slots_chosen;
    await c.appendStream("v", 40);
    // The first Accept after the failure escalated to c; later ones go to the new fastest quorum {a, c}.
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.filter((m) => m.to === "c").length).toBe(c.proposer.stats.slots_chosen - before);
    // c was current whenever it joined the quorum (owed values travel with its first Accept), so
    // every outcome came predicted with Accepted: no fallback round trip.
    expect(c.proposer.stats.outcome_fallbacks).toBe(0);
    c.down.delete("b");
    await c.idle();
    expect(c.acceptors.c!.store.head().seq).toBe(60);
    expect(c.acceptors.a!.store.head()).toEqual(c.acceptors.c!.store.head());
  });

  test("a lost Commit to the acceptor outside the quorum is sent again: it converges with no new write", async () => {
    const c = cluster();
    await c.appendAll("l0");
    c.lose.push("c"); // the next Commit to c (a batch of values it missed) is lost
    await c.appendStream("m", 30);
    await c.idle();
    await c.idle(); // past quorum_timeout_ms: the unacknowledged commits were owed again and sent
    expect(c.lose).toEqual([]); // a Commit to c was indeed lost
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
    expect(c.acceptors.c!.store.head().seq).toBe(31);
  });

  test("a lone request's Accept goes to every acceptor: the fastest two of three replies decide it", async () => {
    const c = cluster();
    for (let i = 0; i < 4; i++) await c.appendAll(`w${i}`);
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.length).toBe(3 * 4);
  });

  test("thrifty: false sends every Accept to every acceptor, under load too (the simulator covers this path as well)", async () => {
    const c = cluster({ thrifty: false });
    await c.appendStream("v", 40);
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.length).toBe(3 * c.proposer.stats.slots_chosen);
  });
});

describe("values owed to an acceptor whose Accept was not taken", () => {
  // Phase 2 owes a bare commit (slot and ballot) to an acceptor it sent the Accept to, and the value
  // to one it did not. An Accept that failed, or was rejected, left no value there: a bare commit
  // would leave a gap that only anti-entropy (seconds, and absent here) could fill.
  test("an Accept call that fails: its acceptor gets the value with the commit and applies the slot", async () => {
    const c = proposerCluster();
    c.control.route = (to, request) =>
      to === "c" && request.type === "accept" ? { kind: "fail", why: "c unreachable" } : { kind: "deliver" };
    expect((await c.append([trade("x1")])).ok).toBe(true);
    c.control.route = () => ({ kind: "deliver" });
    await c.runFor(5 * limits.commit_linger_ms + 1_000);
    const commitsToC = c.sentOf("commit", "c").flatMap((m) => m.request.commits);
    expect(commitsToC.map((item) => [item.slot, item.value !== undefined])).toEqual([[1, true]]);
    expect(c.acceptors.c!.store.chosenThrough()).toBe(1);
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
  });

  test("an Accept rejected for a higher promise: its acceptor gets the value with the commit", async () => {
    const c = proposerCluster();
    expect((await c.append([trade("x1")])).ok).toBe(true); // leader at some ballot
    // c promises a higher ballot to another proposer, then rejects the leader's next Accept.
    const leaderBallot = c.sentOf("accept").at(-1)!.request.ballot;
    c.acceptors.c!.handle({ type: "prepare", ballot: { round: leaderBallot.round + 1, proposerId: "z" }, fromSlot: 1 });
    expect((await c.append([trade("x2")])).ok).toBe(true);
    await c.runFor(5 * limits.commit_linger_ms + 1_000);
    const slot2ToC = c.sent
      .filter((m) => m.to === "c" && (m.request.type === "commit" || m.request.type === "accept"))
      .flatMap((m) => ("commits" in m.request ? m.request.commits : []))
      .filter((item) => item.slot === 2);
    expect(slot2ToC.some((item) => item.value !== undefined)).toBe(true);
    expect(c.acceptors.c!.store.chosenThrough()).toBe(2);
  });

  test("an Accept that fails after the quorum answered: the bare commit still owed gets the value, sent at once when it fills the byte bound", async () => {
    const c = proposerCluster({ one_way_ms: { a: 10, b: 10, c: 30 }, limits: { ...limits, owed_commit_bytes_max: 1 } });
    expect((await c.append([trade("w0")])).ok).toBe(true); // a leader: the next round is one Accept
    await c.runFor(1_000);
    const fail_after_ms = 25; // after a and b answered (20 ms), before the commit's linger ends (30 ms)
    c.control.route = (to, request) =>
      to === "c" && request.type === "accept" ? { kind: "fail", after_ms: fail_after_ms } : { kind: "deliver" };
    const t0_ms = c.world.now_ms;
    expect((await c.append([trade("x1")])).ok).toBe(true);
    await c.runFor(1_000);
    const withValue = c
      .sentOf("commit", "c")
      .filter((m) => m.request.commits.some((item) => item.slot === 2 && item.value !== undefined));
    expect(withValue.map((m) => m.at_ms - t0_ms)).toEqual([fail_after_ms]);
    expect(c.acceptors.c!.store.chosenThrough()).toBe(2);
  });

  test("a value still owed is not replaced by a bare commit of the same slot from a later Accept that was lost", async () => {
    // A phase 1 before every commit and commits that linger, so the second round recovers slot 2 and
    // accepts it again. c's first Accept fails (c is owed slot 2's value); the Commit carrying that
    // value fails too, while the second round's Accept to c is out, so the value is owed again; that
    // Accept is then lost, so phase 2 also owes c a bare commit of slot 2. The value must win.
    const c = proposerCluster({
      limits: { ...limits, commit_linger_ms: 100 },
      options: { prepareEveryCommitForBaseline: true },
    });
    expect((await c.append([trade("w0")])).ok).toBe(true);
    await c.runFor(1_000);
    let acceptsToC = 0;
    let commitsToC = 0;
    c.control.route = (to, request) => {
      if (to !== "c") return { kind: "deliver" };
      if (request.type === "accept") return acceptsToC++ === 0 ? { kind: "fail", after_ms: 1 } : { kind: "lose" };
      if (request.type === "commit") return commitsToC++ === 0 ? { kind: "fail", after_ms: 15 } : { kind: "deliver" };
      return { kind: "deliver" };
    };
    const first = c.start([trade("x1")]);
    await c.runFor(75); // the second round's Accept goes out after the valued Commit, before it fails
    const second = c.start([trade("x2")]);
    await c.runUntil(() => first.answer !== undefined && second.answer !== undefined);
    await c.runFor(2_000);
    expect(acceptsToC).toBe(2);
    const slot2ToC = c.sent
      .filter((m) => m.to === "c" && m.request.type === "commit")
      .flatMap((m) => ("commits" in m.request ? m.request.commits : []).filter((item) => item.slot === 2));
    expect(slot2ToC.length).toBeGreaterThanOrEqual(2);
    expect(slot2ToC.every((item) => item.value !== undefined)).toBe(true);
    expect(c.acceptors.c!.store.chosenThrough()).toBeGreaterThanOrEqual(2);
  });
});
