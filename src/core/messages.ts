/** The messages between proposer and acceptors, and between acceptors for catch-up. */
import type { Ballot } from "./ballot.js";
import type { LedgerHead, SlotOutcome } from "./ledger-types.js";
import type { SlotValue } from "./slot-value.js";

export interface AcceptedSlot {
  readonly slot: number;
  readonly ballot: Ballot;
  readonly value: SlotValue;
}

/** A slot the proposer learned is chosen: the ballot that chose it, and the value where sent. */
export interface CommitItem {
  readonly slot: number;
  readonly ballot: Ballot;
  /** Sent where the acceptor may lack it (it missed the Accept); without it, the ballot identifies the value. */
  readonly value?: SlotValue;
}

export interface Prepare {
  readonly type: "prepare";
  readonly ballot: Ballot;
  /**
   * List accepted slots from here (and above chosenThrough). The proposer raises it and prepares
   * again at the same ballot when a Promise was truncated below the slots it still needs.
   */
  readonly fromSlot: number;
}

export interface Accept {
  readonly type: "accept";
  readonly ballot: Ballot;
  readonly slots: ReadonlyArray<{ readonly slot: number; readonly value: SlotValue }>;
  /** Commits piggybacked on this Accept, applied before it (so the warm path needs no extra message). */
  readonly commits: readonly CommitItem[];
}

export interface Commit {
  readonly type: "commit";
  readonly commits: readonly CommitItem[];
  /** Ask for the outcome of this slot in the reply (the proposer's fallback when no Accepted had one). */
  readonly outcomeOf?: number;
}

export interface CatchUpRequest {
  readonly type: "catch_up";
  /** First slot wanted; the reply carries chosen slots from here, in order, at most `catch_up_slots_max`. */
  readonly fromSlot: number;
}

export type AcceptorRequest = Prepare | Accept | Commit | CatchUpRequest;

export interface PromiseReply {
  readonly type: "promise";
  readonly ballot: Ballot;
  readonly chosenThrough: number;
  readonly head: LedgerHead;
  /** Accepted slots above chosenThrough, ascending, at most `promise_slots_max`. */
  readonly accepted: readonly AcceptedSlot[];
  /** True when more accepted slots exist above the last one listed. */
  readonly truncated: boolean;
}

export interface Accepted {
  readonly type: "accepted";
  readonly ballot: Ballot;
  readonly slots: readonly number[];
  readonly chosenThrough: number;
  /**
   * The outcome each accepted slot will have if chosen, computed by applying it on top of this
   * acceptor's applied prefix. Present only when every slot before it is applied here, which is what
   * makes the prediction exact: if the slot is chosen, its value is this one and the prefix is the
   * chosen prefix, so every replica will compute the same outcome.
   */
  readonly outcomes: readonly SlotOutcome[];
}

export interface Reject {
  readonly type: "reject";
  readonly promised: Ballot;
}

export interface Committed {
  readonly type: "committed";
  readonly chosenThrough: number;
  readonly outcome?: SlotOutcome;
}

export interface CatchUpReply {
  readonly type: "catch_up_reply";
  /** The acceptor that answers: its reports of accepted slots count as its votes. */
  readonly from: string;
  /** Chosen slots from the requested one up to chosenThrough, in order, at most `catch_up_slots_max`. */
  readonly chosen: readonly AcceptedSlot[];
  readonly chosenThrough: number;
  /**
   * What it holds above chosenThrough (at most `catch_up_slots_max`): a slot accepted by an accept
   * quorum at one ballot is chosen, so a learner that collects these reports can learn a slot whose
   * commit was lost, with no proposer running.
   */
  readonly above: ReadonlyArray<AcceptedSlot & { readonly chosen: boolean }>;
}

export type AcceptorReply = PromiseReply | Accepted | Reject | Committed | CatchUpReply;
