/**
 * `created` vs `exists`: `exists` means the id was in the ledger before the request. A request's own
 * earlier attempt that got its value chosen (its Accepted replies lost, the slot then learned chosen
 * by the acceptors among themselves) must not turn its answer into `exists` when a later attempt of
 * the same request proposes the value again in a new slot. Scripted messages, real Acceptors.
 */
import { describe, expect, test } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import type { BatchOutcome, SlotOutcome } from "../../src/core/ledger-types.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import { ownEntriesCreated, Proposer } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";
import { appendValue, trade } from "./fixtures.js";

const epoch_ms = 1_800_000_000_000;
const one_way_ms = 20;

describe("a request's own earlier attempt makes its entries created, not exists", () => {
  test("Accepted replies lost, the slot learned chosen by catch-up, the value proposed again: created", async () => {
    const world = new World();
    const ids = ["a", "b", "c"] as const;
    const acceptors = Object.fromEntries(
      ids.map((id) => [id, new Acceptor(new MemoryAcceptorStore(), { id, acceptQuorum: 2 })]),
    );
    /** The script: lose a's next Accepted reply; before the next prepare, the acceptors' alarms run catch-up. */
    let loseAcceptedFromA = false;
    let catchUpBeforePrepare = false;
    const log: Array<{ to: string; type: AcceptorRequest["type"]; reply: AcceptorReply["type"] | "lost" }> = [];
    const proposer = new Proposer({
      proposerId: "p",
      acceptorIds: [...ids],
      quorum: quorumConfig(3),
      send: (to, request) =>
        new Promise<AcceptorReply>((resolve) => {
          world.schedule(one_way_ms, () => {
            if (request.type === "prepare" && catchUpBeforePrepare) {
              catchUpBeforePrepare = false;
              for (const x of ids)
                for (const y of ids)
                  if (x !== y)
                    acceptors[x]!.learnFromPeer(acceptors[y]!.handle(acceptors[x]!.catchUpRequest()) as never);
            }
            const reply = acceptors[to]!.handle(request);
            const lost = to === "a" && reply.type === "accepted" && loseAcceptedFromA;
            if (lost) loseAcceptedFromA = false;
            log.push({ to, type: request.type, reply: lost ? "lost" : reply.type });
            if (!lost) world.schedule(one_way_ms, () => resolve(reply));
          });
        }),
      now_ms: () => epoch_ms + Math.floor(world.now_ms),
      sleep: (ms) => world.sleep(ms),
      random: () => 0.5,
    });
    const run = async (entries: ReturnType<typeof trade>[]) => {
      let outcome: BatchOutcome | undefined;
      let failure: unknown;
      proposer.append(entries).then(
        (o) => (outcome = o),
        (e: unknown) => (failure = e),
      );
      await world.run(world.now_ms + 30_000, 1_000_000, () => outcome !== undefined || failure !== undefined);
      expect(failure).toBeUndefined();
      return outcome!;
    };

    await run([trade("w0")]); // warm: p is leader at its ballot
    // Another proposer q prepares at c only: c now rejects p's ballot.
    const q = { round: epoch_ms + world.now_ms + 1, proposerId: "q" };
    expect(acceptors.c!.handle({ type: "prepare", ballot: q, fromSlot: 1 }).type).toBe("promise");
    loseAcceptedFromA = true;
    catchUpBeforePrepare = true;
    const outcome = await run([trade("x1"), trade("x2")]);

    // The script did happen: a accepted slot 2 but its reply was lost, c rejected, and the value was
    // proposed a second time, in slot 3, after the acceptors had learned slot 2 chosen.
    expect(log.some((m) => m.to === "a" && m.type === "accept" && m.reply === "lost")).toBe(true);
    expect(log.some((m) => m.to === "c" && m.type === "accept" && m.reply === "reject")).toBe(true);
    expect(acceptors.a!.store.entryById("x1")?.slot).toBe(2);
    const slot3 = acceptors.b!.store.slot(3)?.value;
    expect(slot3?.kind === "append" && slot3.batches[0]!.map((e) => e.id)).toEqual(["x1", "x2"]);
    expect(outcome.kind).toBe("applied");
    if (outcome.kind !== "applied") return;
    expect(outcome.receipts.map((r) => [r.id, r.status, r.slot])).toEqual([
      ["x1", "created", 2],
      ["x2", "created", 2],
    ]);
    // A genuine resend of the same ids, by a later request, is `exists`.
    const resend = await run([trade("x1"), trade("x2")]);
    expect(resend.kind === "applied" && resend.receipts.map((r) => r.status)).toEqual(["exists", "exists"]);
  });

  test("only the first occurrence of an id in the value, in a slot this request proposed, after the value was built, is its creator", () => {
    const value = appendValue(1_000, [trade("k1")], [trade("k1"), trade("k2")]);
    const at = new Date(1_000).toISOString();
    const receipt = (id: string, status: "created" | "exists", slot: number, committedAt = at) => ({
      id,
      status,
      seq: 1,
      hash: "h",
      committedAt,
      slot,
    });
    const outcome: SlotOutcome = {
      slot: 7,
      batches: [
        { kind: "applied", receipts: [receipt("k1", "exists", 5)] },
        { kind: "applied", receipts: [receipt("k1", "exists", 5), receipt("k2", "exists", 6)] },
      ],
    };
    const own = ownEntriesCreated(outcome, value, new Set([5, 7]));
    const statuses = own.batches.map((b) => (b.kind === "applied" ? b.receipts.map((r) => r.status) : []));
    // k1 in batch 0 created it in slot 5; batch 1's k1 was a repeat there too; k2 came from slot 6,
    // which this request never proposed in.
    expect(statuses).toEqual([["created"], ["exists", "exists"]]);
    // An entry older than the value (acknowledged before this request was built) stays `exists`.
    const older: SlotOutcome = {
      slot: 7,
      batches: [{ kind: "applied", receipts: [receipt("k1", "exists", 5, new Date(999).toISOString())] }],
    };
    const kept = ownEntriesCreated(older, appendValue(1_000, [trade("k1")]), new Set([5, 7]));
    expect(kept.batches[0]!.kind === "applied" && kept.batches[0]!.receipts[0]!.status).toBe("exists");
  });

  test("a batch the ledger refused created nothing: the id's creator is its first occurrence in a batch that applied", () => {
    // Batch 0 holds k1 and a bust of an unknown fill: refused in the slot that chose the value, as
    // it is again now; batch 1's k1 is the one that created k1 there.
    const value = appendValue(
      1_000,
      [trade("k1"), trade("k1-bust", { execType: "bust", refId: "nope" })],
      [trade("k1")],
    );
    const at = new Date(1_000).toISOString();
    const outcome: SlotOutcome = {
      slot: 7,
      batches: [
        {
          kind: "rejected",
          rejection: { code: "invalid_reference", index: 1, id: "k1-bust", message: "unknown refId" },
        },
        { kind: "applied", receipts: [{ id: "k1", status: "exists", seq: 1, hash: "h", committedAt: at, slot: 5 }] },
      ],
    };
    const own = ownEntriesCreated(outcome, value, new Set([5, 7]));
    expect(own.batches[1]!.kind === "applied" && own.batches[1]!.receipts[0]!.status).toBe("created");
  });
});
