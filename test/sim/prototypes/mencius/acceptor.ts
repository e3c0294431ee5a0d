/**
 * A Mencius acceptor: ballot-0 accepts from slot owners, skips recorded as ballot-0 no-ops, and a
 * revocation's phase 1 over a list of slots. Its `votes` are what the safety check computes the
 * chosen log from, independently of any learner.
 */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import type { AcceptorPeer, MenciusRun, ProposerPeer } from "./run.js";
import { type RecordedVote, skip_value, type Vote } from "./values.js";

export class Acceptor implements AcceptorPeer {
  /** Every vote cast, in order, with when: what `checkSafety` computes the chosen log (and when) from. */
  readonly votes: RecordedVote[] = [];
  /** The highest ballot each slot has promised or accepted (above 0 only after a revocation's phase 1). */
  private readonly promised = new Map<number, number>();
  private readonly accepted = new Map<number, Vote>();

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly m: MenciusRun,
  ) {}

  /** Phase-2 accepts: recorded at once, broadcast to every learner after the durable write (one message each). */
  accept(votes: readonly Vote[]): void {
    const cast = votes.filter((v) => v.ballot >= (this.promised.get(v.slot) ?? 0));
    if (cast.length === 0) return;
    for (const v of cast) {
      this.votes.push({ ...v, at_ms: this.m.env.world.now_ms });
      this.accepted.set(v.slot, v);
      this.promised.set(v.slot, v.ballot);
    }
    const { net } = this.m.env;
    this.m.env.world.schedule(net.write_ms(), () => {
      for (const p of this.m.proposers) net.send(this.region, p.region, () => p.onVotes(this.index, cast));
    });
  }

  /** The owner's skip: recorded as ballot-0 no-op votes (for revocation and the record); learners got it directly. */
  skip(slots: readonly number[]): void {
    for (const slot of slots) {
      if ((this.promised.get(slot) ?? 0) > 0 || this.accepted.has(slot)) continue;
      const vote: Vote = { slot, ballot: 0, value: skip_value };
      this.votes.push({ ...vote, at_ms: this.m.env.world.now_ms });
      this.accepted.set(slot, vote);
    }
  }

  /**
   * A revocation's phase 1 on a list of slots: promises `ballot` on all of them and answers with what
   * it accepted there (after the durable write), or refuses them all if any promised as high.
   */
  prepare(from: ProposerPeer, ballot: number, slots: readonly number[]): void {
    const { net } = this.m.env;
    const highest = slots.reduce((h, s) => Math.max(h, this.promised.get(s) ?? 0), 0);
    if (highest >= ballot) {
      net.send(this.region, from.region, () => from.onPromise(this.index, ballot, { refusedBy: highest }));
      return;
    }
    for (const s of slots) this.promised.set(s, ballot);
    const accepted = slots.flatMap((s) => this.accepted.get(s) ?? []);
    this.m.env.world.schedule(net.write_ms(), () => {
      net.send(this.region, from.region, () => from.onPromise(this.index, ballot, { accepted }));
    });
  }
}
