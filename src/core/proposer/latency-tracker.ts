/**
 * Moving averages of call latencies, per acceptor (a Durable Object in one region). One tracker per
 * ledger: the proposer's calls and the read path's calls (`src/proposer/ledger-service.ts`) reach
 * the same acceptors and feed the same table; thrifty Accepts go to the fastest accept quorum, and
 * reads go to the nearest replica first.
 */

/** Weights of a moving average: the previous average, and the new sample. */
const previous_weight = 0.8;
const sample_weight = 0.2;

/** The moving average after one more sample; the sample itself when there was none before. */
export function movingAverage(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous_weight * previous + sample_weight * sample;
}

export class LatencyTracker<Id extends string = string> {
  private readonly average_ms = new Map<Id, number>();

  /** One call's time (a failed call counts as the caller's whole wait: `quorum_timeout_ms`). */
  note(id: Id, took_ms: number): void {
    this.average_ms.set(id, movingAverage(this.average_ms.get(id), took_ms));
  }

  /** The average, or undefined before the first call to `id` ended. */
  latency_ms(id: Id): number | undefined {
    return this.average_ms.get(id);
  }

  /** `ids` from nearest to farthest; the unmeasured last; ties (and the unmeasured) in the given order. */
  nearestFirst(ids: readonly Id[]): Id[] {
    const order = new Map(ids.map((id, i) => [id, i]));
    return [...ids].sort((a, b) => {
      const la = this.average_ms.get(a) ?? Number.POSITIVE_INFINITY;
      const lb = this.average_ms.get(b) ?? Number.POSITIVE_INFINITY;
      return la === lb ? order.get(a)! - order.get(b)! : la - lb;
    });
  }

  /** The `count` nearest of `ids`, or undefined while fewer than `count` of them are measured. */
  nearest(ids: readonly Id[], count: number): Id[] | undefined {
    const measured = this.nearestFirst(ids).filter((id) => this.average_ms.has(id));
    return measured.length < count ? undefined : measured.slice(0, count);
  }
}
