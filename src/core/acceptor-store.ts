/**
 * The acceptor's durable state behind a small interface, so that the same acceptor logic runs on
 * the in-memory store (tests, simulator) and the SQLite store (the Durable Object). One shared test
 * suite checks every implementation.
 */
import type { Ballot } from "./ballot.js";
import type { Entry, LedgerView, LedgerWrites, Position, SlotOutcome } from "./ledger-types.js";
import type { SlotValue } from "./slot-value.js";

export interface SlotRecord {
  readonly slot: number;
  /** The ballot this value was accepted at (or chosen by, when learned from a commit or a peer). */
  readonly ballot: Ballot;
  readonly value: SlotValue;
  readonly chosen: boolean;
  /** Set once the slot is applied. */
  readonly outcome?: SlotOutcome;
}

export interface AcceptorStore extends LedgerView {
  /**
   * Runs `fn` atomically: all of its writes persist, or (if it throws) none. The reply to a message is
   * built inside and sent only after this returns, so it never announces an unpersisted state.
   */
  transaction<T>(fn: () => T): T;

  promised(): Ballot;
  setPromised(ballot: Ballot): void;
  /** Every slot at or below it is chosen, held and applied to the ledger. */
  chosenThrough(): number;
  setChosenThrough(slot: number): void;

  slot(slot: number): SlotRecord | undefined;
  putSlot(record: SlotRecord): void;
  /** Slots above `slot`, ascending, at most `count`. */
  slotsAbove(slot: number, count: number): SlotRecord[];

  /** Persists the writes of one applied slot. */
  applyWrites(writes: LedgerWrites): void;

  /** Reads for the API. */
  entryBySeq(seq: number): Entry | undefined;
  /** Entries with seq above `afterSeq`, ascending, at most `count`. */
  entriesAfter(afterSeq: number, count: number): Entry[];
  positionsOf(account: string): Position[];
}
