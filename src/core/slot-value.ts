/** What one Paxos slot holds: a no-op (filled by recovery) or a group of client batches. */
import { canonicalJson } from "./canonical-json.js";
import type { EntryInput } from "./entry-schema.js";

export type SlotValue =
  | { readonly kind: "noop" }
  | {
      readonly kind: "append";
      /** The proposer's clock when it built the value; the ledger makes it monotonic at apply. */
      readonly proposedAt_ms: number;
      /** Each inner list is one client request, applied atomically, in order. */
      readonly batches: ReadonlyArray<readonly EntryInput[]>;
    };

export const noop_value: SlotValue = { kind: "noop" };

export function slotValuesEqual(a: SlotValue, b: SlotValue): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

export function slotValueEntryCount(v: SlotValue): number {
  return v.kind === "noop" ? 0 : v.batches.reduce((n, b) => n + b.length, 0);
}
