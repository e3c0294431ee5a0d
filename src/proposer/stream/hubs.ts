/**
 * Every stream of this isolate: places per ledger, per key and in all (429 beyond them, given back
 * when a stream ends, swept when its request vanished), and one hub per ledger.
 */
import { read_timeout_ms } from "../ledger-service.js";
import { LedgerStreamHub } from "./ledger-hub.js";
import { type StreamLimits, stream_limits } from "./limits.js";
import { serveStream } from "./serve.js";
import type { StreamEnd, StreamIo, SubrequestBudget } from "./stream-io.js";
import { StreamSubscriber } from "./subscriber.js";

export type Admission =
  | { readonly admitted: true; readonly subscriber: StreamSubscriber }
  | {
      readonly admitted: false;
      readonly limit: "ledger" | "key" | "isolate";
      readonly max: number;
      readonly open: number;
    };

/** Every stream of this isolate: places per ledger, per key and in all, and one hub per ledger. */
export class StreamHubs {
  private readonly hubs = new Map<string, LedgerStreamHub>();
  private readonly byKey = new Map<string, Set<StreamSubscriber>>();
  private open = 0;
  /** Ends by reason, over every hub this isolate has had. */
  readonly ends: Partial<Record<StreamEnd, number>> = {};

  constructor(public limits: StreamLimits = stream_limits) {}

  hub(ledger: string): LedgerStreamHub | undefined {
    return this.hubs.get(ledger);
  }

  openStreams(): number {
    return this.open;
  }

  /** Takes a place for a new stream, or says which limit refuses it. */
  admit(
    ledger: string,
    keyName: string,
    after: number,
    now_ms: number,
    request: { readonly budget: SubrequestBudget; readonly regions: number },
  ): Admission {
    const hub = this.hubs.get(ledger);
    const keyed = this.byKey.get(keyName);
    if (hub !== undefined && hub.subscribers.size >= this.limits.streams_per_ledger_max)
      this.sweep(hub.subscribers, now_ms);
    if (keyed !== undefined && keyed.size >= this.limits.streams_per_key_max) this.sweep(keyed, now_ms);
    if (this.open >= this.limits.streams_per_isolate_max)
      for (const h of [...this.hubs.values()]) this.sweep(h.subscribers, now_ms);
    const onLedger = this.hubs.get(ledger)?.subscribers.size ?? 0;
    const ofKey = this.byKey.get(keyName)?.size ?? 0;
    if (onLedger >= this.limits.streams_per_ledger_max)
      return { admitted: false, limit: "ledger", max: this.limits.streams_per_ledger_max, open: onLedger };
    if (ofKey >= this.limits.streams_per_key_max)
      return { admitted: false, limit: "key", max: this.limits.streams_per_key_max, open: ofKey };
    if (this.open >= this.limits.streams_per_isolate_max)
      return { admitted: false, limit: "isolate", max: this.limits.streams_per_isolate_max, open: this.open };
    let h = this.hubs.get(ledger);
    if (h === undefined) {
      // A local read tries each region for up to read_timeout_ms: a poll in flight longer than that is lost.
      h = new LedgerStreamHub(ledger, this.limits, read_timeout_ms * request.regions + this.limits.poll_interval_ms);
      this.hubs.set(ledger, h);
    }
    const sub = new StreamSubscriber(h, keyName, after, now_ms, request.budget, request.regions);
    h.subscribers.add(sub);
    let set = this.byKey.get(keyName);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(keyName, set);
    }
    set.add(sub);
    this.open++;
    return { admitted: true, subscriber: sub };
  }

  /** Gives a stream's place back (once; later calls do nothing). */
  release(sub: StreamSubscriber, why: StreamEnd): void {
    if (sub.released) return;
    sub.released = true;
    sub.ended ??= why;
    const reason = sub.ended;
    this.ends[reason] = (this.ends[reason] ?? 0) + 1;
    sub.hub.stats.ends[reason] = (sub.hub.stats.ends[reason] ?? 0) + 1;
    sub.hub.leave(sub);
    if (sub.hub.subscribers.size === 0 && this.hubs.get(sub.hub.ledger) === sub.hub) this.hubs.delete(sub.hub.ledger);
    const set = this.byKey.get(sub.keyName);
    set?.delete(sub);
    if (set !== undefined && set.size === 0) this.byKey.delete(sub.keyName);
    this.open--;
    if (!(this.open >= 0)) throw new Error("more stream places released than taken");
  }

  /** Frees the places of subscribers whose request has shown no sign of life for the lease. */
  private sweep(subs: ReadonlySet<StreamSubscriber>, now_ms: number): void {
    for (const sub of [...subs]) {
      if (now_ms - sub.lastSeen_ms > this.limits.subscriber_lease_ms) this.release(sub, "swept");
    }
  }

  /**
   * Serves one admitted stream until it ends, doing only its own I/O (see `../stream-hub.ts`), and
   * gives its place back. Returns why it ended.
   */
  serve(sub: StreamSubscriber, io: StreamIo): Promise<StreamEnd> {
    return serveStream(sub, io, this.limits, (subscriber, why) => this.release(subscriber, why));
  }
}
