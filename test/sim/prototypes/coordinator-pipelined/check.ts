/**
 * The pipelined coordinator prototype's safety self-check. Chosen values and when they became
 * chosen are computed from the acceptors' recorded votes alone, never from what the leader believes.
 */
import type { QuorumConfig } from "../../../../src/core/quorum.js";
import type { Acceptor } from "./acceptor.js";
import type { Leader } from "./leader.js";
import type { Batch } from "./values.js";

interface Chosen {
  readonly batch: Batch;
  /** When the accept-quorum-th matching vote was recorded at an acceptor. */
  readonly at_ms: number;
}

function fail(message: string): never {
  throw new Error(`coordinator-pipelined safety: ${message}`);
}

/** The `quorum`-th smallest of `times_ms` (Infinity when there are fewer). */
function quorumTime_ms(times_ms: readonly number[], quorum: number): number {
  return [...times_ms].sort((x, y) => x - y)[quorum - 1] ?? Infinity;
}

/** What the acceptors' votes chose, per slot, and when; throws on two chosen values for one slot. */
function chosenLog(acceptors: readonly Acceptor[], q2: number): Map<number, Chosen> {
  const tally = new Map<string, { slot: number; batch: Batch; times_ms: number[] }>();
  for (const a of acceptors) {
    for (const v of a.votes) {
      const key = `${v.slot}/${v.ballot}/${v.batch.id}`;
      const t = tally.get(key) ?? { slot: v.slot, batch: v.batch, times_ms: [] };
      t.times_ms.push(v.at_ms);
      tally.set(key, t);
    }
  }
  const chosen = new Map<number, Chosen>();
  for (const { slot, batch, times_ms } of tally.values()) {
    if (times_ms.length < q2) continue;
    const known = chosen.get(slot);
    if (known !== undefined && known.batch.id !== batch.id) {
      fail(`slot ${slot} has two chosen values: ${known.batch.id}, ${batch.id}`);
    }
    chosen.set(slot, { batch, at_ms: quorumTime_ms(times_ms, q2) });
  }
  return chosen;
}

/** No acceptor voted at a ballot before a prepare quorum had promised it (phase 1 precedes phase 2). */
function checkPhase1First(acceptors: readonly Acceptor[], q1: number): void {
  const promisedAt_ms = new Map<number, number[]>();
  for (const a of acceptors) {
    for (const p of a.promises) promisedAt_ms.set(p.ballot, [...(promisedAt_ms.get(p.ballot) ?? []), p.at_ms]);
  }
  for (const a of acceptors) {
    for (const v of a.votes) {
      const quorumAt_ms = quorumTime_ms(promisedAt_ms.get(v.ballot) ?? [], q1);
      if (v.at_ms < quorumAt_ms) {
        fail(
          `acceptor ${a.index} voted slot ${v.slot} at ballot ${v.ballot} at ${v.at_ms.toFixed(1)} ms, before a prepare quorum promised it (${quorumAt_ms.toFixed(1)} ms)`,
        );
      }
    }
  }
}

/**
 * At most one value per slot, phase 1 before any vote, slots voted dense from 1, every acknowledged
 * request in exactly one chosen slot, answers in slot order and none before its whole prefix was
 * chosen (by the vote times), and the leader's learnt log equal to the chosen log where it learnt.
 */
export function checkCoordinatorSafety(acceptors: readonly Acceptor[], leader: Leader, quorum: QuorumConfig): void {
  const chosen = chosenLog(acceptors, quorum.accept);
  checkPhase1First(acceptors, quorum.prepare);
  const voted = new Set(acceptors.flatMap((a) => a.votes.map((v) => v.slot)));
  for (let slot = 1; slot <= voted.size; slot++) {
    if (!voted.has(slot)) fail(`slots voted are not dense from 1 (slot ${slot} missing)`);
  }
  const slotsOf = new Map<string, number[]>();
  for (const [slot, { batch }] of chosen) {
    for (const id of batch.requests) slotsOf.set(id, [...(slotsOf.get(id) ?? []), slot]);
  }
  /** When every slot from 1 to `slot` is chosen, by the acceptors' vote times (Infinity if one never is). */
  const prefixChosenAt_ms: number[] = [0];
  for (let slot = 1; slot <= voted.size; slot++) {
    prefixChosenAt_ms.push(Math.max(prefixChosenAt_ms[slot - 1]!, chosen.get(slot)?.at_ms ?? Infinity));
  }
  let lastSlot = 0;
  for (const a of leader.answers) {
    const slots = slotsOf.get(a.id) ?? [];
    if (slots.length !== 1 || slots[0] !== a.slot) {
      fail(`acknowledged request ${a.id} (slot ${a.slot}) is in ${slots.length} chosen slots (${slots.join(", ")})`);
    }
    if (a.slot < lastSlot) {
      fail(`not acknowledged in slot order: ${a.id} of slot ${a.slot} answered after slot ${lastSlot}`);
    }
    lastSlot = a.slot;
    if (a.at_ms < (prefixChosenAt_ms[a.slot] ?? Infinity)) {
      let open = 1;
      while (open < a.slot && (chosen.get(open)?.at_ms ?? Infinity) <= a.at_ms) open++;
      fail(`${a.id} of slot ${a.slot} acknowledged at ${a.at_ms.toFixed(1)} ms while slot ${open} was not yet chosen`);
    }
  }
  for (const [slot, batch] of leader.learnt) {
    const c = chosen.get(slot);
    if (c === undefined || c.batch.id !== batch.id) {
      fail(`the leader learnt ${batch.id} for slot ${slot}, chosen is ${c === undefined ? "nothing" : c.batch.id}`);
    }
  }
}
