/**
 * What Mencius messages carry: a slot's value (a batch or an owner's skip), a vote, and the answer to
 * a revocation's phase 1; and what the run records for the safety check in the entry file (votes
 * with their times, acknowledgements). Shared by the acceptor, the proposer and that check.
 */

export type Value =
  | { readonly kind: "batch"; readonly id: string; readonly requests: readonly string[] }
  | { readonly kind: "skip" };
export const skip_value: Value = { kind: "skip" };
export const valueKey = (v: Value) => (v.kind === "skip" ? "skip" : v.id);

export interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly value: Value;
}

/** A vote as an acceptor records it: with when (it counts toward "chosen" from then on). */
export interface RecordedVote extends Vote {
  readonly at_ms: number;
}

/** A request acknowledged: in which own slot, and when (`checkSafety` checks the prefix was chosen by then). */
export interface Acknowledgement {
  readonly id: string;
  readonly slot: number;
  readonly at_ms: number;
}

/**
 * An acceptor's answer to a revocation's phase 1: what it accepted in those slots, or the ballot it
 * had promised there that refuses this one.
 */
export type PromiseReply = { readonly accepted: readonly Vote[] } | { readonly refusedBy: number };
