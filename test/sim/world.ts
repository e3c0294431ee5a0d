/**
 * Virtual time and a deterministic event loop. Events run in time order (ties in scheduling order);
 * after each one the loop lets every promise continuation it caused run to completion before the
 * next event, so async code (the production proposer) runs deterministically under virtual time.
 */
interface Event {
  readonly at_ms: number;
  readonly order: number;
  readonly run: () => void;
}

export class World {
  now_ms = 0;
  private order = 0;
  private readonly heap: Event[] = [];
  events_run = 0;

  schedule(delay_ms: number, run: () => void): void {
    const event = { at_ms: this.now_ms + Math.max(0, delay_ms), order: this.order++, run };
    this.heap.push(event);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i]!, this.heap[parent]!)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  private pop(): Event | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined || this.heap.length === 0) return top;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && before(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < this.heap.length && before(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) break;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
    return top;
  }

  /**
   * Runs events until `done()` holds, the queue is empty, virtual time passes `until_ms`, or
   * `events_max` events have run (a bound on the loop, reported by the caller as a failure).
   */
  async run(until_ms: number, events_max: number, done: () => boolean = () => false): Promise<void> {
    await settle();
    while (!done() && this.events_run < events_max) {
      const next = this.heap[0];
      if (next === undefined || next.at_ms > until_ms) break;
      this.pop();
      this.now_ms = next.at_ms;
      this.events_run++;
      next.run();
      await settle();
    }
    if (this.now_ms < until_ms && (this.heap[0] === undefined || this.heap[0].at_ms > until_ms) && !done()) {
      this.now_ms = until_ms;
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.at_ms < b.at_ms || (a.at_ms === b.at_ms && a.order < b.order);
}

/** Resolves after every pending promise continuation has run (macrotasks wait for the microtask queue). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
