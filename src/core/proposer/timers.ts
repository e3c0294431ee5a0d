/**
 * Every timer the proposer runs, named in one place, and the one way to start and cancel one.
 *
 * Time comes from `ProposerEnv.sleep` (virtual time in the simulator), which cannot be cancelled: a
 * cancelled run's sleep still elapses, and then does nothing. Each start is one sleep, in the order
 * the code starts them, so a simulator seed replays exactly. A run that the driving request must
 * outlive (a commit still to send) is handed to its `waitUntil` (`keepAlive`).
 */

/** The proposer's timers. Each line names the limit (or measure) that sets its delay. */
export type TimerName =
  /** A waiting request checks whether it was decided, or must take over driving (`driver_takeover_poll_ms`). */
  | "takeover_poll"
  /** In one context (a Durable Object), a waiting request's only timer: its deadline (`commit_deadline_ms`). */
  | "request_deadline"
  /** The jittered wait between two attempts of one group round (`backoff_base_ms`, `backoff_cap_ms`). */
  | "attempt_backoff"
  /** The commit of a chosen slot waits for the next Accept to carry it (`commit_linger_ms`). */
  | "commit_linger"
  /** Commits owed to one acceptor wait for more before a Commit of their own (`owed_commit_linger_ms`). */
  | "owed_commit_linger"
  /** A lone Commit that is not acknowledged in time is owed again (`quorum_timeout_ms`). */
  | "commit_delivery"
  /** A thrifty quorum call brings in the other acceptors (`thrifty_escalate_floor_ms`, 2 x the slowest target). */
  | "thrifty_escalation"
  /** How long a quorum call waits (`quorum_timeout_*`, never past the attempt's deadline). */
  | "quorum_timeout";

export interface TimerHost {
  sleep(ms: number): Promise<void>;
  /** Keeps work alive after the current request's answer (a Worker's `waitUntil`), where there is one. */
  keepAlive(work: Promise<unknown>): void;
}

/** One named timer: started to fire once; starting it again or cancelling it drops the pending run. */
export class Timer {
  private pending: { cancelled: boolean } | undefined;

  constructor(
    readonly name: TimerName,
    private readonly host: TimerHost,
    /** Whether a pending run is handed to `keepAlive` (its firing has work the request must outlive). */
    private readonly keptAlive: boolean,
  ) {}

  get running(): boolean {
    return this.pending !== undefined;
  }

  start(delay_ms: number, fire: () => void): void {
    this.cancel();
    const run = { cancelled: false };
    this.pending = run;
    const elapsed = this.host.sleep(delay_ms).then(() => {
      if (run.cancelled) return;
      this.pending = undefined;
      fire();
    });
    if (this.keptAlive) this.host.keepAlive(elapsed);
  }

  cancel(): void {
    if (this.pending === undefined) return;
    this.pending.cancelled = true;
    this.pending = undefined;
  }
}

/** Makes the proposer's timers, and its awaited waits (which fire nothing, so need no cancelling). */
export class Timers {
  constructor(private readonly host: TimerHost) {}

  timer(name: TimerName, { keptAlive }: { keptAlive: boolean }): Timer {
    return new Timer(name, this.host, keptAlive);
  }

  /** Hands work that a timer's firing started to the current request's `waitUntil`. */
  keepAlive(work: Promise<unknown>): void {
    this.host.keepAlive(work);
  }

  /** A wait its caller awaits: the name says which timer of the list above it is. */
  wait(_name: TimerName, ms: number): Promise<void> {
    return this.host.sleep(ms);
  }
}
