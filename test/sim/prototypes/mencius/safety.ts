/**
 * The Mencius prototype's safety self-check, from the run's record alone (the acceptors' votes with
 * their times, the skips the owners sent, the acknowledgements, and what each learner learnt), so
 * nothing a proposer believes decides it. What it checks is in `../mencius.ts`'s header.
 */
import { type Acknowledgement, type RecordedVote, skip_value, type Value, valueKey } from "./values.js";

/** What the check reads of a run. */
export interface SafetyRecord {
  readonly env: { readonly quorum: { readonly accept: number } };
  readonly acceptors: readonly { readonly index: number; readonly votes: readonly RecordedVote[] }[];
  readonly skipsSent: readonly { readonly slot: number; readonly at_ms: number }[];
  readonly acknowledged: readonly Acknowledgement[];
  readonly proposers: readonly {
    readonly index: number;
    readonly conflicts: readonly string[];
    readonly learnt: ReadonlyMap<number, Value>;
  }[];
}

/** A slot's chosen value, and when it became chosen. */
interface Chosen {
  readonly value: Value;
  readonly at_ms: number;
}

/**
 * What the acceptors' votes and the owners' skips chose per slot, and when (the accept-quorum-th
 * matching vote's recording, or the skip's sending, whichever came first), from nothing a learner holds.
 */
function chosenLog(run: SafetyRecord): Map<number, Chosen> {
  const q2 = run.env.quorum.accept;
  const candidates = new Map<number, Map<string, Chosen>>();
  const add = (slot: number, value: Value, at_ms: number) => {
    let values = candidates.get(slot);
    if (values === undefined) {
      values = new Map();
      candidates.set(slot, values);
    }
    const known = values.get(valueKey(value));
    values.set(valueKey(value), { value, at_ms: Math.min(at_ms, known?.at_ms ?? Infinity) });
  };
  /** slot/ballot/value -> acceptor -> when it first recorded that vote. */
  const tally = new Map<string, { vote: RecordedVote; firstAt_ms: Map<number, number> }>();
  for (const a of run.acceptors) {
    for (const v of a.votes) {
      const key = `${v.slot}/${v.ballot}/${valueKey(v.value)}`;
      const t = tally.get(key) ?? { vote: v, firstAt_ms: new Map<number, number>() };
      t.firstAt_ms.set(a.index, Math.min(v.at_ms, t.firstAt_ms.get(a.index) ?? Infinity));
      tally.set(key, t);
    }
  }
  for (const { vote, firstAt_ms } of tally.values()) {
    if (firstAt_ms.size < q2) continue;
    add(vote.slot, vote.value, [...firstAt_ms.values()].sort((x, y) => x - y)[q2 - 1]!);
  }
  for (const s of run.skipsSent) add(s.slot, skip_value, s.at_ms);
  const chosen = new Map<number, Chosen>();
  for (const [slot, values] of candidates) {
    if (values.size > 1) {
      throw new Error(
        `mencius safety: slot ${slot} has ${values.size} chosen values: ${[...values.keys()].join(", ")}`,
      );
    }
    chosen.set(slot, [...values.values()][0]!);
  }
  return chosen;
}

/**
 * Throws a "mencius safety:" Error if the run chose two values for a slot, acknowledged a request
 * not in exactly its own chosen slot or before every slot up to it was chosen, or let a learner
 * learn anything but the chosen value.
 */
export function checkMenciusSafety(run: SafetyRecord): void {
  const chosen = chosenLog(run);
  const slotsOf = new Map<string, number[]>();
  for (const [slot, { value }] of chosen) {
    if (value.kind !== "batch") continue;
    for (const id of value.requests) slotsOf.set(id, [...(slotsOf.get(id) ?? []), slot]);
  }
  /** When every slot from 0 to the index was chosen, by the vote and skip times (Infinity if one never was). */
  const prefixChosenAt_ms: number[] = [];
  const slot_acknowledged_max = run.acknowledged.reduce((m, a) => Math.max(m, a.slot), -1);
  for (let slot = 0; slot <= slot_acknowledged_max; slot++) {
    prefixChosenAt_ms.push(Math.max(prefixChosenAt_ms[slot - 1] ?? 0, chosen.get(slot)?.at_ms ?? Infinity));
  }
  for (const a of run.acknowledged) {
    const slots = slotsOf.get(a.id) ?? [];
    if (slots.length !== 1 || slots[0] !== a.slot) {
      throw new Error(
        `mencius safety: acknowledged request ${a.id} (slot ${a.slot}) is in ${slots.length} chosen slots (${slots.join(", ")})`,
      );
    }
    if (a.at_ms < prefixChosenAt_ms[a.slot]!) {
      let open = 0;
      while (open < a.slot && (chosen.get(open)?.at_ms ?? Infinity) <= a.at_ms) open++;
      throw new Error(
        `mencius safety: ${a.id} of slot ${a.slot} acknowledged at ${a.at_ms.toFixed(1)} ms while slot ${open} was not yet chosen`,
      );
    }
  }
  for (const p of run.proposers) {
    if (p.conflicts.length > 0) throw new Error(`mencius safety: ${p.conflicts[0]}`);
    for (const [slot, v] of p.learnt) {
      const c = chosen.get(slot);
      if (c === undefined || valueKey(c.value) !== valueKey(v)) {
        throw new Error(
          `mencius safety: proposer ${p.index} learnt ${valueKey(v)} for slot ${slot}, chosen is ${c === undefined ? "nothing" : valueKey(c.value)}`,
        );
      }
    }
  }
}
