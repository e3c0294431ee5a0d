/**
 * A Fast Paxos acceptor, per slot: a fast vote for the first value at ballot 0, classic promises and
 * votes above it, and each vote broadcast to every learner after its durable write (the proposers
 * learn from these broadcasts alone). Its `history` is what the safety check and a cold joiner read.
 */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import { slots_max } from "./limits.js";
import type { AcceptorPeer, FastPaxosRun, ProposerPeer } from "./run.js";
import { fast_ballot, type RecordedVote, type Value, type Vote } from "./values.js";

interface AcceptorSlot {
  promised: number;
  /** Votes cast in this slot, in ballot order. */
  readonly votes: Vote[];
}

export class Acceptor implements AcceptorPeer {
  readonly slots = new Map<number, AcceptorSlot>();
  /** Every vote this acceptor cast, with when: what the safety check and a cold joiner's read use. */
  readonly history: RecordedVote[] = [];
  readonly learners: ProposerPeer[];
  constructor(
    readonly index: number,
    readonly region: RegionHint,
    warm: readonly ProposerPeer[],
    private readonly fp: FastPaxosRun,
  ) {
    this.learners = [...warm];
  }

  private slot(s: number): AcceptorSlot {
    let state = this.slots.get(s);
    if (state === undefined) {
      if (s < 1 || s > slots_max) throw new RangeError(`slot ${s} outside 1..${slots_max}`);
      state = { promised: fast_ballot, votes: [] };
      this.slots.set(s, state);
    }
    return state;
  }

  /** Records a vote now; after the durable write, tells every learner. */
  private vote(state: AcceptorSlot, vote: Vote): void {
    const last = state.votes.at(-1);
    if (last !== undefined && last.ballot >= vote.ballot)
      throw new Error(`acceptor ${this.index}: second vote at ballot ${vote.ballot} in slot ${vote.slot}`);
    state.promised = Math.max(state.promised, vote.ballot);
    state.votes.push(vote);
    this.history.push({ ...vote, at_ms: this.fp.env.world.now_ms });
    this.fp.env.world.schedule(this.fp.env.net.write_ms(), () => {
      for (const learner of this.learners)
        this.fp.env.net.send(this.region, learner.region, () => learner.onVote(this.index, vote));
    });
  }

  onFastProposal(from: ProposerPeer, slot: number, value: Value): void {
    const state = this.slot(slot);
    if (state.promised === fast_ballot && state.votes.length === 0) {
      this.vote(state, { slot, ballot: fast_ballot, value });
      // Coordinated recovery: this fast vote is also this acceptor's phase-1 reply for the slot's
      // round-1 ballot, so it must not vote below that ballot any more.
      if (this.fp.coordinatedRecovery) state.promised = this.fp.roundOneBallot(slot);
      return;
    }
    const votes = [...state.votes];
    const promised = state.promised;
    this.fp.env.net.send(this.region, from.region, () => from.onRefused(this.index, slot, promised, votes));
    // Coordinated recovery: a value that came too late for any vote is still offered to the slot's
    // coordinator, whose free choice merges it (otherwise a far proposer loses every contended slot).
    if (this.fp.coordinatedRecovery && state.votes[0]?.ballot === fast_ballot) {
      const coordinator = this.fp.nodes[this.fp.roundOneCoordinator(slot)]!;
      if (coordinator !== from)
        this.fp.env.net.send(this.region, coordinator.region, () => coordinator.onLateValue(slot, value));
    }
  }

  onPrepare(from: ProposerPeer, slot: number, ballot: number): void {
    const state = this.slot(slot);
    if (ballot <= state.promised) {
      const promised = state.promised;
      this.fp.env.net.send(this.region, from.region, () => from.onBallotRefused(slot, ballot, promised));
      return;
    }
    state.promised = ballot;
    const highest = state.votes.at(-1);
    this.fp.env.world.schedule(this.fp.env.net.write_ms(), () => {
      this.fp.env.net.send(this.region, from.region, () => from.onPromise(this.index, slot, ballot, highest));
    });
  }

  onAccept(from: ProposerPeer, slot: number, ballot: number, value: Value): void {
    const state = this.slot(slot);
    if (ballot < state.promised || state.votes.at(-1)?.ballot === ballot) {
      const promised = state.promised;
      this.fp.env.net.send(this.region, from.region, () => from.onBallotRefused(slot, ballot, promised));
      return;
    }
    this.vote(state, { slot, ballot, value });
  }

  /** A cold joiner's tail read: it becomes a learner from now on and gets every vote cast so far. */
  onRead(from: ProposerPeer): void {
    if (!this.learners.includes(from)) this.learners.push(from);
    const votes = [...this.history];
    this.fp.env.net.send(this.region, from.region, () => from.onReadReply(this.index, votes));
  }
}
