/**
 * What the proposer's group rounds share when several are in flight at once (the coordinator,
 * `ProposerOptions.roundsInFlightMax`): one phase 1 at a time, what it recovered, and the order in
 * which their phase 2s started.
 *
 * Why it matters. Rounds in flight each hold a slot under the leader ballot. When the leadership is
 * lost (a Reject, an Accept without a quorum), each of them retries. If each ran its own phase 1, the
 * proposer would duel itself with ballots of its own; and a round whose Accept reached some acceptors
 * could see another round's phase 1 recover its value in its old slot, then propose it once more in a
 * new one: a second slot of the same entries. So a retrying round joins the phase 1 already running,
 * and before taking a fresh slot it looks for its value among the slots that the phase 1 of the
 * current leadership recovered (`recoveredSlotOf`): there it finishes instead.
 *
 * An acceptor applies slots in order, so a round that overtook an earlier slot has no outcome in its
 * Accepted replies; it asks for it only once every phase 2 of an earlier slot has ended
 * (`earlierPhase2sEnded`), so that its request carries their commits.
 */
import { type Ballot, compareBallots } from "../ballot.js";
import type { SlotOutcome } from "../ledger-types.js";
import type { CommitItem } from "../messages.js";
import { type SlotValue, slotValuesEqual } from "../slot-value.js";
import type { ChosenSlot } from "./commit-debt.js";
import { type Deferred, deferred } from "./deferred.js";

/** The slots one phase 1 recovered, kept while its ballot leads. */
export interface Recovery {
  readonly ballot: Ballot;
  readonly slots: readonly ChosenSlot[];
  /** The outcomes the phase 2 of those slots predicted; rejects if that phase 2 failed. */
  readonly chosen: Deferred<Map<number, SlotOutcome>>;
}

export class RoundsInFlight {
  /** The phase 1 one round is running; the others wait for it instead of starting their own. */
  private phase1Running: Promise<unknown> | undefined;
  /** The latest phase 1's recovery (its ballot says whether it is still the leadership's). */
  private recovery: Recovery | undefined;
  /** The latest chosen slots, oldest first (at most `outcome_request_commits_max`). */
  private readonly chosenRecently: CommitItem[] = [];

  constructor(private readonly chosenRecently_max: number) {}

  /** The phase 2s under way, each with the lowest slot it proposes (at most one per round in flight). */
  private readonly phase2s = new Set<{ readonly lowestSlot: number; readonly ended: Promise<void> }>();

  /** The phase 1 running now, if any. */
  get runningPhase1(): Promise<unknown> | undefined {
    return this.phase1Running;
  }

  /** Runs `phase1` as the proposer's one phase 1; what it recovered is published before any waiting round resumes. */
  async runPhase1(phase1: () => Promise<Recovery>): Promise<Recovery> {
    const running = (async () => {
      const recovery = await phase1();
      this.recovery = recovery;
      return recovery;
    })();
    this.phase1Running = running;
    try {
      return await running;
    } finally {
      if (this.phase1Running === running) this.phase1Running = undefined;
    }
  }

  /** The recovery of the leadership `ballot` holding `value` in some slot, if any. */
  recoveredSlotOf(ballot: Ballot, value: SlotValue): { recovery: Recovery; slot: number } | undefined {
    const recovery = this.recovery;
    if (recovery === undefined || compareBallots(recovery.ballot, ballot) !== 0) return undefined;
    const slot = recovery.slots.find((s) => slotValuesEqual(s.value, value))?.slot;
    return slot === undefined ? undefined : { recovery, slot };
  }

  /** Registers a phase 2 of `slots` about to start; call the returned function when it has ended, whatever its result. */
  phase2Started(slots: readonly ChosenSlot[]): () => void {
    const ended = deferred<void>();
    const entry = { lowestSlot: Math.min(...slots.map((s) => s.slot)), ended: ended.promise };
    this.phase2s.add(entry);
    return () => {
      this.phase2s.delete(entry);
      ended.resolve();
    };
  }

  /**
   * Settles once every phase 2 under way that proposes a slot below `slot` has ended: then each of
   * those slots is chosen (its commit owed to the acceptors, and carried by the next request) or its
   * round failed. Never rejects.
   */
  earlierPhase2sEnded(slot: number): Promise<void> {
    return Promise.all([...this.phase2s].filter((p) => p.lowestSlot < slot).map((p) => p.ended)).then(() => undefined);
  }

  /** `slots` were chosen at `ballot`. */
  chosen(slots: readonly ChosenSlot[], ballot: Ballot): void {
    for (const { slot } of slots) this.chosenRecently.push({ slot, ballot });
    const excess = this.chosenRecently.length - this.chosenRecently_max;
    if (excess > 0) this.chosenRecently.splice(0, excess);
  }

  /**
   * Bare commits of the latest chosen slots up to `slot` that `carried` does not name, at most `room`
   * of them: an outcome request names them again, so that it does not depend on the Accept that
   * carried them arriving first.
   */
  commitsUpTo(slot: number, carried: readonly CommitItem[], room: number): CommitItem[] {
    if (room <= 0) return [];
    const named = new Set(carried.map((c) => c.slot));
    // The latest first: the slots just below `slot` are the ones whose commits may still be on their way.
    return this.chosenRecently.filter((c) => c.slot <= slot && !named.has(c.slot)).slice(-room);
  }
}
