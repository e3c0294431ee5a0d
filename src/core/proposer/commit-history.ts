/**
 * The proposer's recent commits, for the status page (`recentCommits`): when each group round's slot
 * was chosen, how long it took from its proposal, and how many entries it held. Bounded by
 * `commit_history_max`, oldest dropped first.
 */
import type { RecentCommits } from "./types.js";

interface Commit {
  readonly at_ms: number;
  readonly latency_ms: number;
  readonly entries: number;
}

export class CommitHistory {
  /** Oldest first, at most `commits_max`. */
  private readonly commits: Commit[] = [];

  constructor(private readonly commits_max: number) {}

  record(commit: Commit): void {
    this.commits.push(commit);
    if (this.commits.length > this.commits_max) this.commits.shift();
  }

  /** The commits of the `window_ms` up to `now_ms` (at most `commits_max` of them). */
  recent(now_ms: number, window_ms: number): RecentCommits {
    const since_ms = now_ms - window_ms;
    const recent = this.commits.filter((c) => c.at_ms >= since_ms);
    const sorted = recent.map((c) => c.latency_ms).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      window_ms,
      commits: recent.length,
      entries: recent.reduce((n, c) => n + c.entries, 0),
      latency_ms: sorted.length === 0 ? null : { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1)! },
    };
  }
}
