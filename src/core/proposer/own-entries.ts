/** Which of a chosen slot's receipts are the group round's own creations. */
import type { BatchOutcome, SlotOutcome } from "../ledger-types.js";
import type { SlotValue } from "../slot-value.js";

/**
 * The outcome as a group round's requests must see it: an entry is `exists` only if it was in the
 * ledger before the request. When an earlier attempt of the same group round got `value` chosen in
 * another slot (its Accepted replies lost, or another proposer's recovery finishing that slot) and a
 * later attempt proposed it again, the later slot finds the entries there: they are this request's
 * own, so `created`. Proposing in a slot is not enough: a stale proposer may have proposed there
 * while another value held it (a resend of an acknowledged request does). So the entry must also
 * postdate this value: a slot's entries carry committedAt = max(the ledger's last time, its value's
 * proposedAt_ms), so an entry from `value` is never older than it, while one acknowledged before this
 * request was built is. Only the first occurrence of an id in `value`, in a batch that applied, is its
 * creator; a repeat (within the batch, or in an earlier batch of the group) stays `exists`, as it was
 * in that slot. The time check assumes the proposers' clocks differ by less than a client's resend
 * delay: a resend through a proposer whose clock runs far behind could read `created`.
 */
export function ownEntriesCreated(
  outcome: SlotOutcome,
  value: SlotValue,
  proposedIn: ReadonlySet<number>,
): SlotOutcome {
  if (value.kind !== "append") return outcome;
  const { proposedAt_ms } = value;
  // A batch the ledger refuses applies nothing, so it created nothing: the creator is the first
  // occurrence among the batches that applied (refusals are read from this outcome, the same rules
  // over a later prefix: the slot that chose the value cannot be read back here).
  const firstAt = new Map<string, string>();
  value.batches.forEach((batch, b) => {
    if (outcome.batches[b]?.kind !== "applied") return;
    batch.forEach((e, k) => {
      if (!firstAt.has(e.id)) firstAt.set(e.id, `${b}:${k}`);
    });
  });
  const batches = outcome.batches.map((batchOutcome, b): BatchOutcome => {
    if (batchOutcome.kind !== "applied") return batchOutcome;
    const receipts = batchOutcome.receipts.map((r, k) =>
      r.status === "exists" &&
      r.slot !== outcome.slot &&
      proposedIn.has(r.slot) &&
      Date.parse(r.committedAt) >= proposedAt_ms &&
      firstAt.get(r.id) === `${b}:${k}`
        ? { ...r, status: "created" as const }
        : r,
    );
    return { kind: "applied", receipts };
  });
  return { slot: outcome.slot, batches };
}
