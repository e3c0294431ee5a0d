/** The ledger's data: entries with server fields, receipts, positions, the head. */
import type { EntryInput } from "./entry-schema.js";

/** An entry as the ledger holds it: the client's fields plus the server's. */
export type Entry = EntryInput & {
  readonly seq: number;
  readonly slot: number;
  /** RFC 3339, milliseconds, UTC; the proposer's clock carried in the slot, never decreasing. */
  readonly committedAt: string;
  readonly prevHash: string;
  readonly hash: string;
};

export const server_fields = ["seq", "slot", "committedAt", "prevHash", "hash"] as const;

export interface Receipt {
  readonly id: string;
  readonly status: "created" | "exists";
  readonly seq: number;
  readonly hash: string;
  readonly committedAt: string;
  readonly slot: number;
}

export interface LedgerHead {
  readonly seq: number;
  readonly hash: string;
  /** Milliseconds since the epoch of the last applied slot (0 before the first). */
  readonly committedAt_ms: number;
}

export interface Position {
  readonly account: string;
  readonly symbol: string;
  /** Signed: positive long, negative short. */
  readonly quantity: string;
  /** Signed cost of the open quantity; average price = costBasis / quantity. */
  readonly costBasis: string;
  readonly averagePrice: string;
  /** Realized trading P&L net of fees. */
  readonly realizedPnl: string;
  readonly fees: string;
  /** Seq of the last entry that changed this position. */
  readonly lastSeq: number;
}

/** Why a batch was refused at apply time. A refused batch applies nothing. */
export interface BatchRejection {
  readonly code: "id_conflict" | "invalid_reference" | "bust_mismatch";
  /** Index in the batch of the entry that caused it. */
  readonly index: number;
  readonly id: string;
  readonly message: string;
  /** `bust_mismatch`: the fields in which the bust contradicts the fill it cancels. */
  readonly fields?: readonly string[];
}

export type BatchOutcome =
  | { readonly kind: "applied"; readonly receipts: readonly Receipt[] }
  | { readonly kind: "rejected"; readonly rejection: BatchRejection };

/** The outcome of applying one chosen slot: one outcome per batch, in order. */
export interface SlotOutcome {
  readonly slot: number;
  readonly batches: readonly BatchOutcome[];
}

/** What the apply step reads. Both acceptor stores implement it. */
export interface LedgerView {
  head(): LedgerHead;
  entryById(id: string): Entry | undefined;
  /**
   * The entries with these ids that the ledger holds (in any order): one lookup for a whole slot's
   * ids instead of one per entry. At most `id_lookup_ids_max` ids per call.
   */
  entriesByIds(ids: readonly string[]): Entry[];
  /** Seq of the correction or bust that superseded this entry, if any. */
  supersededBy(id: string): number | undefined;
  position(account: string, symbol: string): Position | undefined;
  /** Every entry of (account, symbol), in seq order; used to recompute after a bust or correction. */
  entriesOf(account: string, symbol: string): readonly Entry[];
}

/** What the apply step writes, in one transaction with the slot's chosen mark. */
export interface LedgerWrites {
  readonly entries: readonly Entry[];
  readonly superseded: ReadonlyArray<{ readonly id: string; readonly bySeq: number }>;
  readonly positions: readonly Position[];
  readonly head: LedgerHead;
}

export function positionKey(account: string, symbol: string): string {
  return JSON.stringify([account, symbol]);
}
