/**
 * Crash recovery of reads. A leader that dies mid-round (a kill -9 of `wrangler dev`) leaves a slot
 * accepted above every replica's applied prefix, with no Commit coming. A linearizable read must
 * decide that slot (`sync`) and then wait, bounded, until the decision is applied on a replica,
 * rather than answer 503 after one more look. The dead leader is played here by Accepts sent
 * straight to the acceptor stubs, at a ballot above every promise, with no Commit after them.
 */
import { describe, expect, it } from "vitest";
import { parseAppendBody } from "../../src/core/entry-schema.js";
import type { SlotValue } from "../../src/core/slot-value.js";
import { acceptorStub, type Region, regions, status } from "./cluster.js";
import { append, fill, get, type Head, type ListResult, ledgerPath, uniqueLedger } from "./http.js";

/** Commits reach the replicas in the background: waits until every replica has applied `seq`. */
async function replicasApplied(ledger: string, seq: number): Promise<void> {
  await expect
    .poll(async () => (await status(ledger)).acceptors.every((a) => a.appliedSeq === seq), {
      timeout: 15_000,
      interval: 50,
    })
    .toBe(true);
}

function appendValue(entry: Record<string, unknown>): SlotValue {
  const parsed = parseAppendBody(entry);
  if (!parsed.success) throw new Error(`test entry invalid: ${parsed.error.message}`);
  return { kind: "append", proposedAt_ms: Date.now(), batches: [parsed.data] };
}

/**
 * What a leader that dies after its Accepts and before its Commit leaves behind: `value` accepted at
 * the slot after the applied prefix by the acceptors `to` only, at a ballot above every promise.
 * Returns that slot.
 */
async function acceptWithoutCommit(ledger: string, to: readonly Region[], value: SlotValue): Promise<number> {
  const states = await Promise.all(regions.map((r) => acceptorStub(ledger, r).status()));
  const round = Math.max(...states.map((s) => s.promised.round)) + 1;
  const slot = Math.max(...states.map((s) => Math.max(s.chosenThrough, s.highestSlot))) + 1;
  const ballot = { round, proposerId: "dead-leader" };
  for (const region of to) {
    const identity = { ledger, region, regions: [...regions], acceptQuorum: 2 };
    const reply = await acceptorStub(ledger, region).handle(identity, {
      type: "accept",
      ballot,
      slots: [{ slot, value }],
      commits: [],
    });
    expect(reply, region).toMatchObject({ type: "accepted", slots: [slot] });
  }
  // The slot is held above every applied prefix: what the first read after the restart met.
  for (const region of regions) {
    const s = await acceptorStub(ledger, region).status();
    expect(s.chosenThrough, region).toBeLessThan(slot);
    expect(s.highestSlot, region).toBe(to.includes(region) ? slot : slot - 1);
  }
  return slot;
}

describe("a linearizable read after a leader died between its Accepts and its Commit", () => {
  it("an entry accepted by a quorum (chosen, never committed): the first read decides it, waits for it, and includes it", async () => {
    const ledger = uniqueLedger("read-rec-chosen");
    await append(ledger, { entries: [fill("rr:1"), fill("rr:2")] });
    await replicasApplied(ledger, 2);
    await acceptWithoutCommit(ledger, ["wnam", "weur"], appendValue(fill("rr:orphan")));

    const res = await get(ledgerPath(ledger, "entries?after=0&limit=1000"));
    expect(res.status, res.text).toBe(200);
    const list = res.json as ListResult;
    expect(list.entries.map((e) => e.id)).toEqual(["rr:1", "rr:2", "rr:orphan"]);
    expect(list.head.seq).toBe(3);
    expect(list.entries[2]).toMatchObject({ seq: 3, prevHash: list.entries[1]!.hash });
  });

  for (const holder of regions) {
    it(`an entry accepted by ${holder} only (a minority: never acknowledged): the read answers 200, with it exactly when it was chosen`, async () => {
      const ledger = uniqueLedger(`read-rec-minority-${holder}`);
      await append(ledger, fill("rm:1"));
      await replicasApplied(ledger, 1);
      await acceptWithoutCommit(ledger, [holder], appendValue(fill("rm:orphan")));

      const res = await get(ledgerPath(ledger, "entries?after=0&limit=1000"));
      expect(res.status, res.text).toBe(200);
      const ids = (res.json as ListResult).entries.map((e) => e.id);
      // The read's recovery may have chosen it (its phase 1 heard from the holder) or not; either
      // way the answer is a prefix of the chosen log that includes every acknowledged entry.
      expect([["rm:1"], ["rm:1", "rm:orphan"]]).toContainEqual(ids);
      // Whatever was chosen stays: the next append lands after it, and a later read agrees.
      const next = (await append(ledger, fill("rm:2"))).results[0]!;
      expect(next.seq).toBe(ids.length + 1);
      const h = await get(ledgerPath(ledger, "head"));
      expect(h.status).toBe(200);
      expect((h.json as Head).seq).toBe(ids.length + 1);
    });
  }
});
