/**
 * The attempts of a proposer whose group rounds are in flight at once (`ProposerOptions.roundsInFlightMax`
 * above 1: the coordinator): its `commit` and `recover`, on the protocol's phases, which stay in
 * `proposer.ts` (`InFlightHost`). Apart so that the one-round path there reads as before. What the rounds
 * share is in `rounds-in-flight.ts`; why each step is needed, in docs/design.md section 5.
 */
import { assert } from "../assert.js";
import { type Ballot, compareBallots } from "../ballot.js";
import type { SlotOutcome } from "../ledger-types.js";
import type { CoreLimits } from "../limits.js";
import type { Sabotage } from "../sabotage.js";
import { type SlotValue, slotValueEntryCount, slotValuesEqual } from "../slot-value.js";
import type { ChosenSlot } from "./commit-debt.js";
import { deferred } from "./deferred.js";
import { AttemptFailed, errorText, QuorumUnavailableError } from "./errors.js";
import type { GroupRound } from "./group-round.js";
import type { Recovery, RoundsInFlight } from "./rounds-in-flight.js";
import type { ProposerStats } from "./types.js";

/** What the attempts of rounds in flight use of their proposer. */
export interface InFlightHost {
  readonly limits: CoreLimits;
  readonly stats: ProposerStats;
  readonly sabotage: Sabotage | undefined;
  /** The ballot a prepare quorum promised, while this proposer leads. */
  leaderBallot(): Ballot | undefined;
  dropLeadership(): void;
  /** The next slot to take, and the one just taken (the next then moves past it). */
  nextSlot(): number;
  slotTaken(slot: number): void;
  phase1(round: GroupRound): Promise<ChosenSlot[]>;
  phase2(round: GroupRound, slots: readonly ChosenSlot[]): Promise<Map<number, SlotOutcome>>;
  fetchOutcome(round: GroupRound, slot: number): Promise<SlotOutcome>;
}

export class InFlightAttempts {
  constructor(
    private readonly host: InFlightHost,
    private readonly shared: RoundsInFlight,
  ) {}

  /**
   * The proposer's `commit` for rounds in flight. Without the leadership, a round joins
   * the phase 1 another round is running, or runs it; the one that runs it proposes the recovered
   * slots with its own value, as the proposer's one-round `commit` does. Any other round first looks for its value among the
   * slots that the current leadership's phase 1 recovered (an earlier attempt of it reached some
   * acceptors): found, it finishes there; otherwise it takes the next slot. See `rounds-in-flight.ts`.
   */
  async commit(round: GroupRound, value: SlotValue, bytes: number, proposedIn: Set<number>): Promise<SlotOutcome> {
    assert(slotValueEntryCount(value) <= this.host.limits.slot_entries_max, "slot within its entry limit");
    let recovery: Recovery | undefined;
    if (this.host.leaderBallot() === undefined) {
      const running = this.shared.runningPhase1;
      if (running === undefined) recovery = await this.shared.runPhase1(() => this.phase1Recovery(round));
      else await this.joinPhase1(running);
    }
    const ballot = this.host.leaderBallot();
    // The recovered slots go out under the ballot that recovered them, or not at all.
    if (ballot === undefined || (recovery !== undefined && compareBallots(ballot, recovery.ballot) !== 0)) {
      throw this.leadershipLostBeforePhase2(recovery);
    }
    // Only a value proposed before (by an earlier attempt of this round) can have been recovered.
    if (recovery === undefined && proposedIn.size > 0) {
      const found = this.shared.recoveredSlotOf(ballot, value);
      if (found !== undefined) return this.finishRecovered(round, found.recovery, found.slot, proposedIn);
    }
    const slots = recovery === undefined ? [] : [...recovery.slots];
    let mine = slots.find((s) => slotValuesEqual(s.value, value))?.slot;
    if (mine === undefined) {
      mine = this.host.nextSlot();
      slots.push({ slot: mine, value, bytes });
    }
    // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
    const shareSlot = this.host.sabotage === "rounds_in_flight_share_a_slot";
    if (!shareSlot) this.host.slotTaken(mine);
    proposedIn.add(mine);
    const ended = this.shared.phase2Started(slots);
    let outcomes: Map<number, SlotOutcome>;
    try {
      outcomes = await this.host.phase2(round, slots);
      recovery?.chosen.resolve(outcomes);
    } catch (error) {
      recovery?.chosen.reject(error);
      throw error;
    } finally {
      ended();
      if (shareSlot) this.host.slotTaken(mine);
    }
    return outcomes.get(mine) ?? (await this.outcomeInOrder(round, mine));
  }

  /**
   * The outcome of a chosen slot that no Accepted reply predicted: it overtook an earlier slot its
   * acceptors lacked. Asked once every phase 2 of an earlier slot has ended, so that the request
   * carries their commits and an acceptor can apply up to it.
   */
  private async outcomeInOrder(round: GroupRound, slot: number): Promise<SlotOutcome> {
    await this.shared.earlierPhase2sEnded(slot);
    return this.host.fetchOutcome(round, slot);
  }

  /** A slot the current leadership's phase 1 recovered with this round's value: finish it there. */
  private async finishRecovered(
    round: GroupRound,
    recovery: Recovery,
    slot: number,
    proposedIn: Set<number>,
  ): Promise<SlotOutcome> {
    this.host.stats.recovered_value_matches++;
    round.ballot = recovery.ballot;
    proposedIn.add(slot);
    let outcomes: Map<number, SlotOutcome>;
    try {
      outcomes = await recovery.chosen.promise;
    } catch (error) {
      throw new AttemptFailed(`the phase 2 of the recovered slots failed: ${errorText(error)}`);
    }
    return outcomes.get(slot) ?? (await this.outcomeInOrder(round, slot));
  }

  /**
   * A Reject naming a higher ballot ended the leadership while the round waited for its phase 1 to
   * resume it: the attempt fails, and so does what waited for its recovered slots.
   */
  private leadershipLostBeforePhase2(recovery: Recovery | undefined): AttemptFailed {
    const error = new AttemptFailed("the leadership was lost before the round's phase 2");
    recovery?.chosen.reject(error);
    return error;
  }

  /** Waits for the phase 1 another round is running; its failure fails this attempt too (it retries). */
  private async joinPhase1(running: Promise<unknown>): Promise<void> {
    this.host.stats.phase1_joins++;
    try {
      await running;
    } catch (error) {
      if (error instanceof AttemptFailed || error instanceof QuorumUnavailableError) {
        throw new AttemptFailed(`the phase 1 it waited for failed: ${errorText(error)}`);
      }
      throw error;
    }
  }

  /** Phase 1, with what it recovered kept for the rounds in flight. */
  private async phase1Recovery(round: GroupRound): Promise<Recovery> {
    const slots = await this.host.phase1(round);
    const ballot = this.host.leaderBallot();
    assert(ballot !== undefined, "a phase 1 that returns holds its ballot");
    return { ballot, slots, chosen: deferred<Map<number, SlotOutcome>>() };
  }

  /** The proposer's `recover` for rounds in flight: a fresh phase 1 of its own (after any running one), then its slots. */
  async recover(round: GroupRound): Promise<void> {
    // Two recoveries waiting for the same phase 1 must not then run two at once: wait until none runs.
    for (let waits = 0; this.shared.runningPhase1 !== undefined; waits++) {
      if (waits >= this.host.limits.append_attempts_max) throw new AttemptFailed("phase 1 after phase 1 ran meanwhile");
      await this.shared.runningPhase1.catch(() => undefined);
    }
    this.host.dropLeadership();
    const recovery = await this.shared.runPhase1(() => this.phase1Recovery(round));
    const ballot = this.host.leaderBallot();
    if (ballot === undefined || compareBallots(ballot, recovery.ballot) !== 0) {
      throw this.leadershipLostBeforePhase2(recovery);
    }
    if (recovery.slots.length === 0) {
      recovery.chosen.resolve(new Map());
      return;
    }
    const ended = this.shared.phase2Started(recovery.slots);
    try {
      recovery.chosen.resolve(await this.host.phase2(round, recovery.slots));
    } catch (error) {
      recovery.chosen.reject(error);
      throw error;
    } finally {
      ended();
    }
  }
}
