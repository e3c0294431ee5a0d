/**
 * The driver's subrequest budget: the platform caps the subrequests (acceptor calls) of one request,
 * and the driving request runs its rounds in its own context. With `ProposerEnv.subrequestsLeft`,
 * the driver hands over before a round could need more than its request has left, so a waiting
 * request (with its own budget) drives on. The fake platform here counts per request with
 * AsyncLocalStorage, as the Worker's transport does, and fails a call over the budget as the
 * platform would.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, test } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import { limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptorReply } from "../../src/core/messages.js";
import { Proposer } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";
import { trade } from "./fixtures.js";

const epoch_ms = 1_800_000_000_000;
const one_way_ms = 20;
/** Workers Free: 50 subrequests per request. */
const budget = 50;

interface RequestContext {
  readonly name: string;
  left: number;
}

describe("the driver's subrequest budget", () => {
  test(`requests that each take a whole slot: no request exceeds ${budget} subrequests, every request commits`, async () => {
    const world = new World();
    const ids = ["a", "b", "c"];
    const acceptors = Object.fromEntries(
      ids.map((id) => [id, new Acceptor(new MemoryAcceptorStore(), { id, acceptQuorum: 2 })]),
    );
    const als = new AsyncLocalStorage<RequestContext>();
    const overruns: string[] = [];
    const spentBy = new Map<string, number>();
    const proposer = new Proposer({
      proposerId: "p",
      acceptorIds: ids,
      quorum: quorumConfig(3),
      send: (to, request) => {
        const context = als.getStore();
        if (context === undefined) return Promise.reject(new Error("a call outside any request"));
        if (context.left <= 0) {
          overruns.push(`${context.name} -> ${to} (${request.type})`);
          return Promise.reject(new Error("Too many subrequests"));
        }
        context.left--;
        spentBy.set(context.name, (spentBy.get(context.name) ?? 0) + 1);
        return new Promise<AcceptorReply>((resolve) => {
          world.schedule(one_way_ms, () => {
            const reply = acceptors[to]!.handle(request);
            world.schedule(one_way_ms, () => resolve(reply));
          });
        });
      },
      now_ms: () => epoch_ms + Math.floor(world.now_ms),
      sleep: (ms) => world.sleep(ms),
      random: () => 0.5,
      subrequestsLeft: () => als.getStore()?.left ?? Number.POSITIVE_INFINITY,
    });
    // Each request holds more than half a slot's entries: one request per round, 12 rounds, far
    // more subrequests than one request may make.
    const entries_per_request = Math.floor(limits.slot_entries_max / 2) + 1;
    const requests = 12;
    let decided = 0;
    const failures: unknown[] = [];
    for (let r = 0; r < requests; r++) {
      const batch = Array.from({ length: entries_per_request }, (_, i) => trade(`r${r}-${i}`));
      als.run({ name: `request ${r}`, left: budget }, () => {
        proposer.append(batch).then(
          () => decided++,
          (error: unknown) => {
            decided++;
            failures.push(error);
          },
        );
      });
    }
    await world.run(world.now_ms + 60_000, 2_000_000, () => decided === requests);
    expect(decided).toBe(requests);
    expect(failures).toEqual([]);
    expect(overruns).toEqual([]);
    expect(Math.max(...spentBy.values())).toBeLessThanOrEqual(budget);
    expect(proposer.stats.budget_handovers).toBeGreaterThan(0);
    expect(spentBy.size).toBeGreaterThan(1); // several requests drove in turn
    await world.run(world.now_ms + 1_000, 1_000_000);
    for (const id of ids) expect(acceptors[id]!.store.head().seq).toBe(requests * entries_per_request);
    expect(overruns).toEqual([]); // the background commits after the last round stayed within budget too
  });

  test("without the hook nothing changes: one driver serves every round of its tenure", async () => {
    const world = new World();
    const ids = ["a", "b", "c"];
    const acceptors = Object.fromEntries(
      ids.map((id) => [id, new Acceptor(new MemoryAcceptorStore(), { id, acceptQuorum: 2 })]),
    );
    const proposer = new Proposer({
      proposerId: "p",
      acceptorIds: ids,
      quorum: quorumConfig(3),
      send: (to, request) =>
        new Promise<AcceptorReply>((resolve) => {
          world.schedule(one_way_ms, () => {
            const reply = acceptors[to]!.handle(request);
            world.schedule(one_way_ms, () => resolve(reply));
          });
        }),
      now_ms: () => epoch_ms + Math.floor(world.now_ms),
      sleep: (ms) => world.sleep(ms),
      random: () => 0.5,
    });
    let decided = 0;
    for (let r = 0; r < 10; r++) {
      const batch = Array.from({ length: Math.floor(limits.slot_entries_max / 2) + 1 }, (_, i) => trade(`n${r}-${i}`));
      void proposer.append(batch).then(() => decided++);
    }
    await world.run(world.now_ms + 60_000, 2_000_000, () => decided === 10);
    expect(decided).toBe(10);
    expect(proposer.stats.budget_handovers).toBe(0);
  });
});
