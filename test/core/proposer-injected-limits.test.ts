/**
 * Limits and sabotage switches are options of the proposer and the acceptor: production passes none.
 * Tiny limits must drive the paths the simulator relies on (truncated Promise listings and the
 * re-prepare loop, phase-2 chunks, a small queue's 429), and each sabotage switch must plant exactly
 * its bug. Real Acceptors over a scripted network in virtual time.
 */
import { describe, expect, test } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import type { Ballot } from "../../src/core/ballot.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import { type CoreLimits, limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { Proposer, ProposerOverloadedError } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import type { SlotValue } from "../../src/core/slot-value.js";
import { World } from "../sim/world.js";
import { appendValue, trade } from "./fixtures.js";

const epoch_ms = 1_800_000_000_000;
const one_way_ms = 20;
const ids = ["a", "b", "c"] as const;

const tiny: CoreLimits = {
  ...limits,
  promise_slots_max: 2,
  message_slots_max: 3,
  owed_commit_slots_max: 1,
  proposer_queue_requests_max: 2,
};

function cluster(options: { limits?: CoreLimits; sabotage?: Sabotage } = {}) {
  const world = new World();
  const acceptors = Object.fromEntries(
    ids.map((id) => [
      id,
      new Acceptor(new MemoryAcceptorStore(), {
        id,
        acceptQuorum: 2,
        ...(options.limits ? { limits: options.limits } : {}),
      }),
    ]),
  ) as Record<(typeof ids)[number], Acceptor>;
  const proposer = new Proposer(
    {
      proposerId: "p",
      acceptorIds: [...ids],
      quorum: quorumConfig(3),
      send: (to, request) =>
        new Promise((resolve) => {
          world.schedule(one_way_ms, () => {
            const reply = acceptors[to as (typeof ids)[number]].handle(structuredClone(request));
            world.schedule(one_way_ms, () => resolve(structuredClone(reply)));
          });
        }),
      now_ms: () => epoch_ms + Math.floor(world.now_ms),
      sleep: (ms) => world.sleep(ms),
      random: () => 0.5,
    },
    {
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.sabotage ? { sabotage: options.sabotage } : {}),
    },
  );
  const append = async (id: string): Promise<BatchOutcome> => {
    let outcome: BatchOutcome | undefined;
    let failure: unknown;
    proposer.append([trade(id)]).then(
      (o) => (outcome = o),
      (e: unknown) => (failure = e),
    );
    await world.run(world.now_ms + 30_000, 1_000_000, () => outcome !== undefined || failure !== undefined);
    expect(failure).toBeUndefined();
    return outcome!;
  };
  return { world, acceptors, proposer, append };
}

/** Slots 1..count accepted (not known chosen) at `ballot` by `holders`: what a dead leader leaves. */
function leaveBacklog(
  acceptors: Record<string, Acceptor>,
  holders: readonly string[],
  ballot: Ballot,
  count: number,
): SlotValue[] {
  const values = Array.from({ length: count }, (_, i) => appendValue(epoch_ms, [trade(`old${i + 1}`)]));
  for (const id of holders) {
    const acceptor = acceptors[id]!;
    expect(acceptor.handle({ type: "prepare", ballot, fromSlot: 1 }).type).toBe("promise");
    for (let i = 0; i < count; i++) {
      expect(
        acceptor.handle({ type: "accept", ballot, slots: [{ slot: i + 1, value: values[i]! }], commits: [] }).type,
      ).toBe("accepted");
    }
  }
  return values;
}

const oldBallot: Ballot = { round: 1, proposerId: "dead" };

describe("injected limits", () => {
  test("production limits by default: a Promise lists up to promise_slots_max slots", () => {
    const { acceptors } = cluster();
    leaveBacklog(acceptors, ["a"], oldBallot, 5);
    const reply = acceptors.a.handle({ type: "prepare", ballot: { round: 2, proposerId: "p" }, fromSlot: 1 });
    expect(reply.type === "promise" && [reply.accepted.length, reply.truncated]).toEqual([5, false]);
  });

  test("a tiny promise_slots_max truncates the listing", () => {
    const { acceptors } = cluster({ limits: tiny });
    leaveBacklog(acceptors, ["a"], oldBallot, 5);
    const reply = acceptors.a.handle({ type: "prepare", ballot: { round: 2, proposerId: "p" }, fromSlot: 1 });
    expect(reply.type === "promise" && [reply.accepted.map((s) => s.slot), reply.truncated]).toEqual([[1, 2], true]);
  });

  test("the re-prepare loop and phase-2 chunks recover a backlog longer than one listing and one message", async () => {
    const { acceptors, proposer, append } = cluster({ limits: tiny });
    const values = leaveBacklog(acceptors, ["a", "b"], oldBallot, 5);
    const outcome = await append("new");
    expect(outcome.kind === "applied" && outcome.receipts[0]!.slot).toBe(6);
    expect(proposer.stats.reprepares).toBeGreaterThan(0);
    expect(proposer.stats.phase2_extra_chunks).toBeGreaterThan(0);
    for (let s = 1; s <= 5; s++) expect(acceptors.a.store.slot(s)?.value).toEqual(values[s - 1]);
  });

  test("a small proposer_queue_requests_max refuses the request beyond it (429)", async () => {
    const { proposer } = cluster({ limits: tiny });
    const outcomes = [0, 1, 2, 3].map((i) => proposer.append([trade(`q${i}`)]));
    // The first is taken into a round at once; two wait; the fourth finds the queue full.
    await expect(outcomes[3]).rejects.toBeInstanceOf(ProposerOverloadedError);
  });
});

describe("sabotage switches plant exactly their bug", () => {
  test("truncated_promise_treated_complete: the proposer stops at the first listing and overwrites slot 3", async () => {
    const { acceptors, append } = cluster({ limits: tiny, sabotage: "truncated_promise_treated_complete" });
    leaveBacklog(acceptors, ["a", "b"], oldBallot, 5);
    const outcome = await append("new");
    expect(outcome.kind === "applied" && outcome.receipts[0]!.slot).toBe(3);
  });

  test("promise_in_memory_only: a restarted acceptor forgets its promise and accepts a lower ballot", () => {
    for (const sabotage of [undefined, "promise_in_memory_only"] as const) {
      const store = new MemoryAcceptorStore();
      const options = { id: "a", acceptQuorum: 2, ...(sabotage ? { sabotage } : {}) };
      const high: Ballot = { round: 5, proposerId: "p" };
      expect(new Acceptor(store, options).handle({ type: "prepare", ballot: high, fromSlot: 1 }).type).toBe("promise");
      const restarted = new Acceptor(store, options); // only the store survives
      const reply = restarted.handle({
        type: "accept",
        ballot: { round: 4, proposerId: "q" },
        slots: [{ slot: 1, value: appendValue(epoch_ms, [trade("x")]) }],
        commits: [],
      });
      expect(reply.type).toBe(sabotage === undefined ? "reject" : "accepted");
    }
  });

  test("recovery_takes_lowest_ballot: recovery re-proposes the older of two accepted values", async () => {
    for (const sabotage of [undefined, "recovery_takes_lowest_ballot"] as const) {
      const { acceptors, append } = cluster(sabotage ? { sabotage } : {});
      const [older] = leaveBacklog(acceptors, ["a"], { round: 1, proposerId: "x" }, 1);
      const [newer] = leaveBacklog(acceptors, ["b", "c"], { round: 2, proposerId: "y" }, 1).map(() =>
        appendValue(epoch_ms, [trade("newer")]),
      );
      // b and c hold `newer` at round 2 (a value of its own, replacing the one leaveBacklog wrote).
      for (const id of ["b", "c"] as const) {
        acceptors[id].handle({
          type: "accept",
          ballot: { round: 2, proposerId: "y" },
          slots: [{ slot: 1, value: newer! }],
          commits: [],
        });
      }
      await append("after");
      expect(acceptors.b.store.slot(1)?.value).toEqual(sabotage === undefined ? newer : older);
    }
  });
});
