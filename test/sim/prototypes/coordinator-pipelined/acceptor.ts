/** An acceptor of the pipelined coordinator prototype: it answers the leader only. */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import { leader_ballot } from "./limits.js";
import type { Batch, CoordinatorRun, PromiseMade, Vote } from "./values.js";

export class Acceptor {
  /** Every vote cast, in order: what the safety check computes the chosen log from. */
  readonly votes: Vote[] = [];
  /** Every promise made, in order: the safety check finds when phase 1 reached a prepare quorum. */
  readonly promises: PromiseMade[] = [];
  private promised = 0;

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly run: CoordinatorRun,
    warm: boolean,
  ) {
    // Warm: the leader's phase 1 happened before the run.
    if (warm) this.promise(leader_ballot);
  }

  /** Phase 1: promise, wait the durable write, then answer the leader (no votes to report: the log is empty). */
  prepare(ballot: number): void {
    if (ballot <= this.promised) return;
    this.promise(ballot);
    const { net, world } = this.run.env;
    world.schedule(net.write_ms(), () => {
      net.send(this.region, this.run.leaderRegion, () => this.run.leader.onPromise(this.index, ballot));
    });
  }

  /** Phase 2: vote at once, wait the durable write, then vote back to the leader only. */
  accept(slot: number, ballot: number, batch: Batch): void {
    if (ballot < this.promised) return;
    const { net, world } = this.run.env;
    this.promised = ballot;
    this.votes.push({ slot, ballot, batch, at_ms: world.now_ms });
    world.schedule(net.write_ms(), () => {
      net.send(this.region, this.run.leaderRegion, () => this.run.leader.onVote(this.index, slot, ballot, batch));
    });
  }

  private promise(ballot: number): void {
    this.promised = ballot;
    this.promises.push({ ballot, at_ms: this.run.env.world.now_ms });
  }
}
