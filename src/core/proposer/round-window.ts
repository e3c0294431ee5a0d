/**
 * Flow control for group rounds in flight (the coordinator): how many may fly at once now, between 1
 * and `roundsInFlightMax`. Kept apart from the protocol, as etcd's raft keeps its inflight window in
 * `tracker/`: it decides how much to send, never what.
 *
 * Why a window and not the bound alone. Rounds in flight shorten the wait of a ledger whose rounds are
 * bound by the network (an arrival need not wait for the round before it), but each round costs its
 * messages and one durable write per acceptor whatever it carries. Under heavy load N rounds split the
 * waiting requests N ways, so a ledger whose acceptors (or machine) are busy spends up to N times the
 * messages per entry and gets slower still: under `wrangler dev`, where every object shares the
 * machine, 64 clients on one coordinator made 32 entries/s with 16 rounds always in flight against 164
 * with one round at a time.
 *
 * So the window opens at the bound and watches the rounds' durations: when their moving average
 * exceeds `round_window_slow_factor` times the fastest of the last `round_window_samples` rounds, or
 * a round fails, it halves; otherwise it grows by one per window's worth of rounds (additive increase,
 * multiplicative decrease, with the round's own duration as the congestion signal, as TCP Vegas uses
 * its RTT). In the simulator, where acceptors are bound by the network, a round's duration stays
 * within 1.27 of the fastest and the window stays open; under `wrangler dev` it closes towards one
 * round at a time, whose group commit batches every waiting request. Rounds that began without the
 * leadership (phase 1 first) are not counted (`GroupCommit`).
 */
import { assert } from "../assert.js";
import type { CoreLimits } from "../limits.js";
import { movingAverage } from "./latency-tracker.js";

export class RoundWindow {
  /** Rounds that may be in flight now (its whole part; it grows in fractions of a round). */
  private size: number;
  /** The moving average of the round durations: one lucky or unlucky round does not move the window. */
  private smoothed_ms: number | undefined;
  /** The latest round durations, oldest first (at most `round_window_samples`). */
  private readonly durations_ms: number[] = [];

  constructor(
    private readonly max: number,
    private readonly limits: CoreLimits,
  ) {
    assert(Number.isInteger(max) && max >= 1, "a window of at least one round");
    this.size = max;
  }

  /** Rounds that may be in flight now: at least 1, at most the bound. */
  get allowed(): number {
    return Math.floor(this.size);
  }

  /** A group round ended after `duration_ms`, with its value chosen (`ok`) or not. */
  roundEnded(duration_ms: number, ok: boolean): void {
    if (this.max === 1) return;
    this.durations_ms.push(duration_ms);
    if (this.durations_ms.length > this.limits.round_window_samples) this.durations_ms.shift();
    const fastest_ms = Math.min(...this.durations_ms);
    this.smoothed_ms = movingAverage(this.smoothed_ms, duration_ms);
    const slow = !ok || this.smoothed_ms > this.limits.round_window_slow_factor * fastest_ms;
    // Grows by one per window's worth of fast rounds (about one per round trip), halves at once.
    this.size = slow
      ? Math.max(1, Math.floor(this.size / 2))
      : Math.min(this.max, this.size + 1 / Math.floor(this.size));
  }
}
