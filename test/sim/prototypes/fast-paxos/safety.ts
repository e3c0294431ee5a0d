/**
 * The Fast Paxos prototype's safety self-check, from the acceptors' recorded votes alone (nothing a
 * proposer believes): at most one value chosen per slot, and when it became chosen; every
 * acknowledged request in exactly one chosen slot, its own, and acknowledged no earlier than the time
 * every slot up to it was chosen; every proposer's learnt log a gap-free copy of the chosen log.
 */
import type { Acknowledgement } from "./run.js";
import { fast_ballot, type RecordedVote, type Value } from "./values.js";

/** What the check reads of the run. */
export interface SafetyView {
  readonly acceptors: readonly { readonly index: number; readonly history: readonly RecordedVote[] }[];
  readonly learners: readonly {
    readonly index: number;
    readonly learnt: ReadonlyMap<number, string>;
    readonly watermark: number;
  }[];
  readonly acknowledged: ReadonlyMap<string, Acknowledgement>;
  /** The arithmetic's F (never the sabotaged protocol's). */
  readonly fastQuorum: number;
  readonly acceptQuorum: number;
}

export interface ChosenSlot {
  readonly value: Value;
  /** When the F-th (fast) or Q2-th (classic) matching vote was recorded; the earliest ballot that chose it. */
  readonly at_ms: number;
}

export type ChosenLog = Map<number, ChosenSlot> & { fastSlots: number };

interface Tally {
  readonly value: Value;
  readonly voters: Set<number>;
  readonly times_ms: number[];
}

/** The chosen log from the acceptors' recorded votes alone. */
export function chosenLog(view: SafetyView): ChosenLog {
  const tally = new Map<number, Map<number, Map<string, Tally>>>();
  for (const a of view.acceptors) {
    for (const v of a.history) {
      const byBallot = tally.get(v.slot) ?? new Map<number, Map<string, Tally>>();
      tally.set(v.slot, byBallot);
      const byValue = byBallot.get(v.ballot) ?? new Map<string, Tally>();
      byBallot.set(v.ballot, byValue);
      const t = byValue.get(v.value.id) ?? { value: v.value, voters: new Set<number>(), times_ms: [] };
      byValue.set(v.value.id, t);
      if (t.voters.has(a.index))
        throw new Error(
          `safety: acceptor ${a.index} voted twice for one value at ballot ${v.ballot} in slot ${v.slot}`,
        );
      t.voters.add(a.index);
      t.times_ms.push(v.at_ms);
    }
  }
  const chosen: ChosenLog = Object.assign(new Map<number, ChosenSlot>(), { fastSlots: 0 });
  for (const [slot, byBallot] of tally) {
    for (const [ballot, byValue] of byBallot) {
      if (ballot !== fast_ballot && byValue.size > 1)
        throw new Error(`safety: two values at classic ballot ${ballot} in slot ${slot}`);
      for (const t of byValue.values()) {
        const quorum = ballot === fast_ballot ? view.fastQuorum : view.acceptQuorum;
        if (t.voters.size < quorum) continue;
        const at_ms = t.times_ms.sort((x, y) => x - y)[quorum - 1]!;
        const earlier = chosen.get(slot);
        if (earlier !== undefined && earlier.value.id !== t.value.id) {
          throw new Error(`safety: slot ${slot} has two chosen values, ${earlier.value.id} and ${t.value.id}`);
        }
        if (earlier === undefined && ballot === fast_ballot) chosen.fastSlots++;
        chosen.set(slot, { value: t.value, at_ms: Math.min(at_ms, earlier?.at_ms ?? Infinity) });
      }
    }
  }
  return chosen;
}

export function checkSafety(view: SafetyView): void {
  const chosen = chosenLog(view);
  const slotOf = new Map<string, number>();
  for (const [slot, { value }] of chosen) {
    for (const id of value.requests) {
      const other = slotOf.get(id);
      if (other !== undefined) throw new Error(`safety: request ${id} is in two chosen slots, ${other} and ${slot}`);
      slotOf.set(id, slot);
    }
  }
  /** When every slot from 1 to the index was chosen (Infinity from the first slot never chosen on). */
  const prefixChosenAt_ms: number[] = [0];
  let highestAcknowledged = 0;
  for (const a of view.acknowledged.values()) highestAcknowledged = Math.max(highestAcknowledged, a.slot);
  for (let slot = 1; slot <= highestAcknowledged; slot++) {
    prefixChosenAt_ms.push(Math.max(prefixChosenAt_ms[slot - 1]!, chosen.get(slot)?.at_ms ?? Infinity));
  }
  for (const [id, { slot, at_ms }] of view.acknowledged) {
    const at = slotOf.get(id);
    if (at === undefined)
      throw new Error(`safety: request ${id} was acknowledged in slot ${slot} but is in no chosen slot`);
    if (at !== slot)
      throw new Error(`safety: request ${id} was acknowledged in slot ${slot} but is chosen in slot ${at}`);
    if (at_ms < prefixChosenAt_ms[slot]!) {
      let open = 1;
      while (open < slot && (chosen.get(open)?.at_ms ?? Infinity) <= at_ms) open++;
      throw new Error(
        `safety: request ${id} of slot ${slot} acknowledged at ${at_ms.toFixed(1)} ms while slot ${open} was not yet chosen`,
      );
    }
  }
  for (const node of view.learners) {
    for (const [slot, id] of node.learnt) {
      const c = chosen.get(slot);
      if (c === undefined)
        throw new Error(
          `safety: proposer ${node.index} learnt ${id} in slot ${slot}, where the acceptors' votes choose nothing`,
        );
      if (c.value.id !== id)
        throw new Error(`safety: proposer ${node.index} learnt ${id} in slot ${slot}, where ${c.value.id} is chosen`);
    }
    for (let s = 1; s <= node.watermark; s++) {
      if (!node.learnt.has(s))
        throw new Error(`safety: proposer ${node.index} has a hole at slot ${s} below its watermark ${node.watermark}`);
    }
  }
}
