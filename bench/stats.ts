/** Summary statistics of latency samples (nearest-rank percentiles, no interpolation). */

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly mean: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** The nearest-rank `p`-th percentile (0 < p <= 100) of `sorted` (ascending, non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of no samples");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0]!,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
  };
}

/** Every figure of `s` divided by `unit` (e.g. the quorum RTT). */
export function scaled(s: Summary, unit: number): Summary {
  return {
    n: s.n,
    min: s.min / unit,
    mean: s.mean / unit,
    median: s.median / unit,
    p90: s.p90 / unit,
    p99: s.p99 / unit,
    max: s.max / unit,
  };
}

/** Rounds to `digits` decimals (for JSON and tables). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function roundSummary(s: Summary, digits = 2): Summary {
  return {
    n: s.n,
    min: round(s.min, digits),
    mean: round(s.mean, digits),
    median: round(s.median, digits),
    p90: round(s.p90, digits),
    p99: round(s.p99, digits),
    max: round(s.max, digits),
  };
}
