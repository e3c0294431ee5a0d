/**
 * The acceptor and learner as a state machine over an `AcceptorStore`. Each message is handled in one
 * store transaction and its reply is returned only after that transaction; the Durable Object sends
 * the reply after the write is durable (output gate), the simulator after a simulated write delay.
 */

import type { AcceptorStore, SlotRecord } from "./acceptor-store.js";
import { applySlot, applySlotOnto, LedgerOverlay } from "./apply.js";
import { assert } from "./assert.js";
import { type Ballot, ballotsEqual, compareBallots, formatBallot, maxBallot } from "./ballot.js";
import type { LedgerWrites, SlotOutcome } from "./ledger-types.js";
import { type CoreLimits, limits } from "./limits.js";
import type {
  Accept,
  AcceptedSlot,
  AcceptorReply,
  AcceptorRequest,
  CatchUpReply,
  CommitItem,
  Committed,
  Prepare,
} from "./messages.js";
import type { Sabotage } from "./sabotage.js";
import { type SlotValue, slotValuesEqual } from "./slot-value.js";

export interface AcceptorOptions {
  /** This acceptor's name among its peers (the Durable Object name `ledger:region`). */
  readonly id: string;
  /** The accept (phase 2) quorum size: that many matching reports make a slot chosen. */
  readonly acceptQuorum: number;
  /** The limits this acceptor keeps; production passes none and gets `limits`. The simulator turns some down. */
  readonly limits?: CoreLimits;
  /** Test-only: one planted bug (see `sabotage.ts`); never set in production. */
  readonly sabotage?: Sabotage;
}

export class Acceptor {
  /** Highest slot this acceptor has heard is chosen; volatile, only a hint that it should catch up. */
  private knownChosenSlot = 0;
  /**
   * Volatile: the writes predicted for the slot right after the applied prefix, at the ballot it was
   * accepted at. Applying the same slot on the same prefix gives the same writes (apply is pure), so
   * the commit reuses them instead of computing the slot twice.
   */
  private predicted:
    | { readonly slot: number; readonly ballot: Ballot; readonly outcome: SlotOutcome; readonly writes: LedgerWrites }
    | undefined;
  /** Volatile votes from peers' catch-up reports: slot -> ballot -> acceptors that accepted it there. */
  private readonly votes = new Map<number, Map<string, { record: AcceptedSlot; from: Set<string> }>>();
  /** Only under the sabotage "promise_in_memory_only": a promise not yet written to the store. */
  private promisedInMemory: Ballot | undefined;
  /** The limits in force: `options.limits`, or production's. */
  private readonly limits: CoreLimits;

  constructor(
    readonly store: AcceptorStore,
    readonly options: AcceptorOptions,
  ) {
    this.limits = options.limits ?? limits;
    assert(options.acceptQuorum >= 1, "accept quorum is at least one acceptor");
    // A listing of no slots that says "truncated" would end the proposer's re-prepare loop with the
    // backlog unread (no last slot to continue from): recovery would miss accepted values.
    assert(this.limits.promise_slots_max >= 1, "a Promise lists at least one slot");
  }

  /** Handles one message atomically. */
  handle(request: AcceptorRequest): AcceptorReply {
    return this.store.transaction(() => {
      switch (request.type) {
        case "prepare":
          return this.onPrepare(request);
        case "accept":
          return this.onAccept(request);
        case "commit":
          return this.onCommit(request.commits, request.outcomeOf);
        case "catch_up":
          return this.onCatchUp(request.fromSlot);
      }
    });
  }

  /** True when a commit named a slot this acceptor cannot fill on its own: ask a peer (an alarm does). */
  needsCatchUp(): boolean {
    return this.knownChosenSlot > this.store.chosenThrough();
  }

  /**
   * True when it holds a slot above chosenThrough that it does not know to be chosen: its commit may
   * have been lost, so after a while an alarm asks the peers and learns it from their reports.
   */
  holdsUnchosen(): boolean {
    return this.store.slotsAbove(this.store.chosenThrough(), 1).length > 0;
  }

  /** The catch-up request to send to a peer. */
  catchUpRequest(): { type: "catch_up"; fromSlot: number } {
    return { type: "catch_up", fromSlot: this.store.chosenThrough() + 1 };
  }

  /**
   * Learns from a peer's catch-up reply: the chosen slots it sends, and the slots that reports from
   * an accept quorum (this acceptor's own record included) show accepted at one ballot.
   */
  learnFromPeer(reply: CatchUpReply): void {
    this.store.transaction(() => {
      this.knownChosenSlot = Math.max(this.knownChosenSlot, reply.chosenThrough);
      assert(reply.chosen.length <= this.limits.catch_up_slots_max, "catch-up reply within its limit");
      assert(reply.above.length <= this.limits.catch_up_slots_max, "catch-up reply within its limit");
      for (const c of reply.chosen) this.markChosen(c.slot, c.ballot, c.value);
      for (const a of reply.above) {
        if (a.chosen) this.markChosen(a.slot, a.ballot, a.value);
        else this.countVote(reply.from, a);
      }
      this.applyChosenPrefix();
      this.learnFromVotes();
    });
  }

  private countVote(from: string, a: AcceptedSlot): void {
    const through = this.store.chosenThrough();
    if (a.slot <= through || a.slot > through + this.limits.catch_up_slots_max) return; // bounded memory
    const bySlot = this.votes.get(a.slot) ?? new Map<string, { record: AcceptedSlot; from: Set<string> }>();
    this.votes.set(a.slot, bySlot);
    const key = formatBallot(a.ballot);
    const vote = bySlot.get(key) ?? { record: a, from: new Set<string>() };
    bySlot.set(key, vote);
    vote.from.add(from);
  }

  private learnFromVotes(): void {
    for (const [slot, bySlot] of this.votes) {
      const own = this.store.slot(slot);
      if (slot <= this.store.chosenThrough() || own?.chosen) continue;
      for (const vote of bySlot.values()) {
        const voters = new Set(vote.from);
        if (own !== undefined && ballotsEqual(own.ballot, vote.record.ballot)) voters.add(this.options.id);
        if (voters.size >= this.options.acceptQuorum) {
          this.markChosen(slot, vote.record.ballot, vote.record.value);
          break;
        }
      }
    }
    this.applyChosenPrefix();
    for (const slot of this.votes.keys()) if (slot <= this.store.chosenThrough()) this.votes.delete(slot);
  }

  /** The highest ballot promised: the store's (and, under sabotage only, one held in memory). */
  private promised(): Ballot {
    const stored = this.store.promised();
    return this.promisedInMemory === undefined ? stored : maxBallot(stored, this.promisedInMemory);
  }

  private onPrepare(m: Prepare): AcceptorReply {
    const promised = this.promised();
    if (compareBallots(m.ballot, promised) < 0) return { type: "reject", promised };
    if (this.options.sabotage === "promise_in_memory_only") this.promisedInMemory = m.ballot;
    else if (!ballotsEqual(m.ballot, promised)) this.store.setPromised(m.ballot);
    const chosenThrough = this.store.chosenThrough();
    const held = this.store.slotsAbove(Math.max(chosenThrough, m.fromSlot - 1), this.limits.promise_slots_max + 1);
    const accepted: AcceptedSlot[] = held
      .slice(0, this.limits.promise_slots_max)
      .map((r) => ({ slot: r.slot, ballot: r.ballot, value: r.value }));
    return {
      type: "promise",
      ballot: m.ballot,
      chosenThrough,
      head: this.store.head(),
      accepted,
      truncated: held.length > this.limits.promise_slots_max,
    };
  }

  private onAccept(m: Accept): AcceptorReply {
    assert(m.slots.length <= this.limits.message_slots_max, "accept within its slot limit");
    // Commits are facts about chosen slots, true whatever this acceptor promised: learn them first.
    this.learnCommits(m.commits);
    const promised = this.promised();
    if (compareBallots(m.ballot, promised) < 0) return { type: "reject", promised };
    for (const { slot, value } of m.slots) {
      assert(Number.isSafeInteger(slot) && slot >= 1, `slot must be a positive integer, got ${slot}`);
      const held = this.store.slot(slot);
      if (held?.chosen && !slotValuesEqual(held.value, value)) {
        // Every ballot at or above the one that chose a slot proposes the chosen value. A lower one
        // is a stale leader that has not heard of the newer ballot: refuse it, and name the ballot
        // that outranks it. Another value at a ballot at or above it would be a real violation.
        assert(
          compareBallots(m.ballot, held.ballot) < 0,
          `safety violation: slot ${slot} is chosen at ballot ${formatBallot(held.ballot)}, yet ballot ${formatBallot(m.ballot)} proposes another value`,
        );
        return { type: "reject", promised: maxBallot(promised, held.ballot) };
      }
    }
    // Compared with the store's ballot, not `promised`: a promise held only in memory (sabotage) is written here.
    if (!ballotsEqual(m.ballot, this.store.promised())) this.store.setPromised(m.ballot);
    for (const { slot, value } of m.slots) {
      if (this.store.slot(slot)?.chosen) continue; // the same value, chosen already
      this.store.putSlot({ slot, ballot: m.ballot, value, chosen: false });
    }
    return {
      type: "accepted",
      ballot: m.ballot,
      slots: m.slots.map((s) => s.slot),
      chosenThrough: this.store.chosenThrough(),
      outcomes: this.predictOutcomes(m.slots.map((s) => s.slot)),
    };
  }

  private onCommit(commits: readonly CommitItem[], outcomeOf: number | undefined): Committed {
    this.learnCommits(commits);
    const chosenThrough = this.store.chosenThrough();
    const outcome =
      outcomeOf !== undefined && outcomeOf <= chosenThrough ? this.store.slot(outcomeOf)?.outcome : undefined;
    return outcome === undefined ? { type: "committed", chosenThrough } : { type: "committed", chosenThrough, outcome };
  }

  private onCatchUp(fromSlot: number): CatchUpReply {
    const chosenThrough = this.store.chosenThrough();
    const chosen: AcceptedSlot[] = [];
    for (let s = Math.max(1, fromSlot); s <= chosenThrough && chosen.length < this.limits.catch_up_slots_max; s++) {
      const r = this.store.slot(s);
      assert(r?.chosen, `slot ${s} at or below chosenThrough is chosen and held`);
      chosen.push({ slot: s, ballot: r.ballot, value: r.value });
    }
    const above = this.store
      .slotsAbove(Math.max(chosenThrough, fromSlot - 1), this.limits.catch_up_slots_max)
      .map((r) => ({ slot: r.slot, ballot: r.ballot, value: r.value, chosen: r.chosen }));
    return { type: "catch_up_reply", from: this.options.id, chosen, chosenThrough, above };
  }

  private learnCommits(commits: readonly CommitItem[]): void {
    assert(commits.length <= this.limits.message_slots_max, "commits within their slot limit");
    for (const c of commits) {
      this.knownChosenSlot = Math.max(this.knownChosenSlot, c.slot);
      const held = this.store.slot(c.slot);
      if (held !== undefined && ballotsEqual(held.ballot, c.ballot)) {
        // One ballot proposes one value per slot, so the value held at the chosen ballot is the chosen one.
        this.markChosen(c.slot, c.ballot, held.value);
      } else if (c.value !== undefined) {
        this.markChosen(c.slot, c.ballot, c.value);
      }
      // Otherwise this acceptor lacks the chosen value: a gap, filled by catch-up from a peer.
    }
    this.applyChosenPrefix();
  }

  private markChosen(slot: number, ballot: SlotRecord["ballot"], value: SlotValue): void {
    const held = this.store.slot(slot);
    if (held?.chosen) {
      assert(slotValuesEqual(held.value, value), `safety violation: slot ${slot} chosen with two different values`);
      return;
    }
    if (slot <= this.store.chosenThrough()) return; // applied long ago; compacted logs may not hold it
    this.store.putSlot({ slot, ballot, value, chosen: true });
  }

  /** Applies chosen slots above chosenThrough while they are contiguous, in the same transaction. */
  private applyChosenPrefix(): void {
    let through = this.store.chosenThrough();
    for (let n = 0; n < this.limits.apply_slots_per_message_max; n++) {
      const next = this.store.slot(through + 1);
      if (next === undefined || !next.chosen) break;
      // The Accept of this slot usually computed these very writes: reuse them when they were computed
      // on this same prefix for this same ballot (one ballot, one value), else apply afresh.
      const cached = this.predicted;
      const reuse = cached !== undefined && cached.slot === next.slot && ballotsEqual(cached.ballot, next.ballot);
      this.predicted = undefined;
      const { outcome, writes } = reuse ? cached : applySlot(this.store, next.slot, next.value);
      this.store.applyWrites(writes);
      this.store.putSlot({ ...next, outcome });
      through = next.slot;
      this.store.setChosenThrough(through);
    }
  }

  /**
   * Predicts the outcome of the given slots, for the contiguous run that starts right after the
   * applied prefix: applies them to a throw-away overlay. Not persisted.
   */
  private predictOutcomes(slots: readonly number[]): SlotOutcome[] {
    const outcomes: SlotOutcome[] = [];
    let next = this.store.chosenThrough() + 1;
    const wanted = new Set(slots);
    if (!wanted.has(next)) return outcomes;
    const overlay = new LedgerOverlay(this.store);
    for (let n = 0; n < this.limits.message_slots_max; n++) {
      const r = this.store.slot(next);
      if (r === undefined) break;
      const outcome = applySlotOnto(overlay, next, r.value);
      if (n === 0) {
        // The first slot sits right on the applied prefix: keep its writes for the commit to reuse.
        const w = overlay.writes();
        this.predicted = {
          slot: next,
          ballot: r.ballot,
          outcome,
          writes: { entries: [...w.entries], superseded: [...w.superseded], positions: [...w.positions], head: w.head },
        };
      }
      if (wanted.has(next)) outcomes.push(outcome);
      next++;
      if (!wanted.has(next) && !(this.store.slot(next)?.chosen ?? false)) break;
    }
    return outcomes;
  }
}
