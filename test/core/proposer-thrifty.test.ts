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
import { Proposer, type ProposerOptions } from "../../src/core/proposer.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";
import { trade } from "./fixtures.js";

const epoch_ms = 1_800_000_000_000;

/** Three acceptors, one-way delays a: 1 ms, b: 2 ms, c: 30 ms; `down` ones never answer. */
function cluster(options: ProposerOptions = {}) {
  const world = new World();
  const delay_ms: Record<string, number> = { a: 1, b: 2, c: 30 };
  const acceptors = Object.fromEntries(
    Object.keys(delay_ms).map((id) => [id, new Acceptor(new MemoryAcceptorStore(), { id, acceptQuorum: 2 })]),
  );
  const down = new Set<string>();
  const log: Array<{ to: string; type: AcceptorRequest["type"]; values: number }> = [];
  const proposer = new Proposer(
    {
      proposerId: "p",
      acceptorIds: Object.keys(delay_ms),
      quorum: quorumConfig(3),
      send: (to, request) => {
        const values =
          request.type === "commit" || request.type === "accept" ? request.commits.filter((c) => c.value !== undefined).length : 0;
        log.push({ to, type: request.type, values });
        return new Promise<AcceptorReply>((resolve, reject) => {
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
  const append = async (id: string) => {
    let result: unknown;
    let failure: unknown;
    proposer.append([trade(id)]).then((r) => (result = r), (e: unknown) => (failure = e));
    await world.run(world.now_ms + 10_000, 1_000_000, () => result !== undefined || failure !== undefined);
    if (failure !== undefined) throw failure;
    return result;
  };
  const idle = () => world.run(world.now_ms + 1_000, 1_000_000);
  return { world, acceptors, down, log, proposer, append, idle };
}

describe("thrifty phase 2", () => {
  test("warm Accepts go to the two fastest acceptors only; the slow one gets the values in batches and converges", async () => {
    const c = cluster();
    await c.append("t0"); // phase 1 and the first Accept go to everyone: latencies become known
    c.log.length = 0;
    const n = 3 * limits.owed_commit_slots_max;
    for (let i = 1; i <= n; i++) await c.append(`t${i}`);
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.length).toBe(2 * n);
    expect(new Set(accepts.map((m) => m.to))).toEqual(new Set(["a", "b"]));
    // c heard of the slots only through Commits carrying their values, at most owed_commit_slots_max each.
    const toC = c.log.filter((m) => m.to === "c");
    expect(toC.every((m) => m.type === "commit" && m.values >= 1 && m.values <= limits.owed_commit_slots_max)).toBe(true);
    expect(toC.length).toBeLessThanOrEqual(Math.ceil(n / limits.owed_commit_slots_max) + 1);
    await c.idle();
    for (const id of ["a", "b", "c"]) expect(c.acceptors[id]!.store.head().seq, id).toBe(n + 1);
    expect(c.acceptors.c!.store.head()).toEqual(c.acceptors.a!.store.head());
  });

  test("a fast acceptor that stops answering brings in the third at once; no append fails", async () => {
    const c = cluster();
    for (let i = 0; i < 5; i++) await c.append(`u${i}`);
    c.down.add("b");
    c.log.length = 0;
    for (let i = 5; i < 10; i++) await c.append(`u${i}`);
    // The first Accept after the failure escalated to c; later ones go to the new fastest quorum {a, c}.
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.filter((m) => m.to === "c").length).toBeGreaterThanOrEqual(5);
    // c's first Accept carried the values it was owed, so it could apply and predict at once.
    expect(c.log.find((m) => m.to === "c" && m.type === "accept")!.values).toBeGreaterThanOrEqual(1);
    c.down.delete("b");
    await c.idle();
    expect(c.acceptors.c!.store.head().seq).toBe(10);
    expect(c.acceptors.a!.store.head()).toEqual(c.acceptors.c!.store.head());
  });

  test("thrifty: false sends every Accept to every acceptor (the send-to-all path the simulator also covers)", async () => {
    const c = cluster({ thrifty: false });
    for (let i = 0; i < 4; i++) await c.append(`v${i}`);
    const accepts = c.log.filter((m) => m.type === "accept");
    expect(accepts.length).toBe(3 * 4);
  });
});
