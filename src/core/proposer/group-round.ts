/**
 * What one group round owns while its attempts run: the quorum calls it may still make, whether it
 * sends thrifty Accepts, and when its attempts must end. Each round gets its own, rather than the
 * proposer holding one set of fields that every round overwrites, so that the rounds' limits stay
 * theirs even if several rounds are ever in flight at once (design §6, next steps).
 */
import type { Ballot } from "../ballot.js";
import type { CoreLimits } from "../limits.js";
import { GroupRoundCallsSpent } from "./errors.js";

export class GroupRound {
  /** The current attempt's deadline (the latest of its requests'): no quorum wait runs past it. */
  attemptDeadline_ms = Number.POSITIVE_INFINITY;
  /**
   * The ballot the current attempt proposed under (set by its phase 2), or undefined before it got that
   * far. A failed attempt gives up the leadership only if it is still this ballot: with rounds in flight,
   * a round of an older ballot that fails must not end the one a newer phase 1 just won.
   */
  ballot: Ballot | undefined = undefined;

  constructor(
    /** Quorum calls the round may still make (`round_quorum_calls_max`, or less on a small budget). */
    private quorumCallsLeft: number,
    /**
     * Whether the round is under load (it groups several requests, or more wait behind it): only then
     * are Accepts thrifty. A lone request's Accept goes to every acceptor, so the quorum is the fastest
     * replies of all of them: under jitter that is quicker than a fixed quorum's slowest.
     */
    readonly underLoad: boolean,
    private readonly limits: CoreLimits,
  ) {}

  /** Counts one quorum call of the round; past its bound the round's attempts end. */
  spendQuorumCall(): void {
    if (this.quorumCallsLeft <= 0) {
      throw new GroupRoundCallsSpent(
        `the round made every quorum call it was allowed (at most ${this.limits.round_quorum_calls_max}) without a quorum`,
      );
    }
    this.quorumCallsLeft--;
  }
}
