/**
 * Simulated read clients. Each runs the production read path (`LedgerReader`, src/core/read-index.ts)
 * in the isolate of a live simulated proposer: replica states and reads go over the simulated
 * network (`Cluster.call`: its delays, loss and partitions), and the recovery a linearizable read may
 * need is that proposer's `sync`. Reads are aimed: a reader wakes often and reads right after a
 * writer client got a new acknowledgment, at that entry, so a read index that misses an
 * acknowledged slot shows. Kinds: linearizable, local, and local with a `minSeq` some writer has
 * a receipt for. Each read's start and end (virtual time) and what it returned are recorded for
 * `read-checker.ts`.
 */
import type { Entry } from "../../src/core/ledger-types.js";
import {
  type Consistency,
  LedgerReader,
  ReadUnavailableError,
  type ReplicaState,
  ReplicaTimeoutError,
} from "../../src/core/read-index.js";
import { regionRtt_ms } from "../../src/core/region-rtt.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import type { SimClient } from "./clients.js";
import type { Cluster, SimAcceptor, SimProposer } from "./cluster.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

export type ReadKind = "linearizable" | "local" | "local_min_seq";

/** What a read asks a replica for: entries after a seq (a page), or one entry by id. */
export type ReadTarget = { readonly afterSeq: number; readonly limit: number } | { readonly id: string };

export interface ReadRecord {
  readonly reader: string;
  readonly kind: ReadKind;
  /** The proposer whose isolate ran the read. */
  readonly via: string;
  readonly minSeq?: number;
  readonly target: ReadTarget;
  readonly started_ms: number;
  ended_ms?: number;
  /** What the read returned: the replica that served it, its state, and the entries it read. */
  result?: { readonly replica: string; readonly state: ReplicaState; readonly entries: readonly Entry[] };
  /** Why it failed (a `ReadUnavailableError` is a 503: fine under faults). */
  error?: { readonly name: string; readonly message: string };
}

/** One acknowledgment a writer client got: an entry's receipt, and when its answer arrived. */
export interface Ack {
  readonly at_ms: number;
  readonly seq: number;
  readonly id: string;
  readonly hash: string;
}

/** Every acknowledgment the clients got (the first applied outcome of each answered request). */
export function acksOf(clients: readonly SimClient[]): Ack[] {
  const acks: Ack[] = [];
  for (const client of clients) {
    for (const request of client.requests) {
      const at_ms = request.answeredAt_ms;
      if (at_ms === undefined) continue;
      const applied = request.outcomes.find((o) => o.kind === "applied");
      if (applied?.kind !== "applied") continue;
      for (const r of applied.receipts) acks.push({ at_ms, seq: r.seq, id: r.id, hash: r.hash });
    }
  }
  return acks;
}

/** Readers per seed. */
export const readers_per_seed = 2;
/** Reads one reader makes at most. */
const reads_per_reader_max = 12;
/** A reader wakes this often to look for a new acknowledgment, and reads anyway after this long idle. */
const reader_wake_ms = { min: 15, max: 45 } as const;
const reader_idle_read_ms = 400;
/** Wakes of one reader: a bound on its loop (a whole run is under a minute of virtual time). */
const reader_wakes_max = 20_000;
/** Entries one page read asks for, starting a little below the acknowledged seq it aims at. */
const read_page_entries = 4;
const read_page_lead = 2;

/** The state a Durable Object's read returns beside its data (as `LedgerAcceptor.state()`). */
function replicaStateOf(a: SimAcceptor): ReplicaState {
  const chosenThrough = a.store.chosenThrough();
  const above = a.store.slotsAbove(chosenThrough, Number.MAX_SAFE_INTEGER);
  return { chosenThrough, head: a.store.head(), highestSlot: above.at(-1)?.slot ?? chosenThrough };
}

/**
 * The read path's timeout race on virtual time, with one timer event for many calls: the World
 * cannot cancel an event, and a timer per call (nearly all of which answer long before it) would
 * be most of a reader's events. A call still pending at its deadline is rejected at that deadline.
 */
class TimeoutSweeper {
  private readonly pending = new Set<{ readonly deadline_ms: number; readonly expire: () => void }>();
  private sweepAt_ms: number | undefined;

  constructor(private readonly world: World) {}

  race<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting = {
        deadline_ms: this.world.now_ms + ms,
        expire: () => reject(new ReplicaTimeoutError(`${what} timed out after ${ms} ms`)),
      };
      this.pending.add(waiting);
      work.then(
        (v) => {
          this.pending.delete(waiting);
          resolve(v);
        },
        (e: unknown) => {
          this.pending.delete(waiting);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
      this.arm(waiting.deadline_ms);
    });
  }

  private arm(at_ms: number): void {
    if (this.sweepAt_ms !== undefined && this.sweepAt_ms <= at_ms) return;
    this.sweepAt_ms = at_ms;
    this.world.schedule(at_ms - this.world.now_ms, () => {
      if (this.sweepAt_ms !== at_ms) return; // an earlier sweep was armed since; it re-arms for the rest
      this.sweep();
    });
  }

  private sweep(): void {
    this.sweepAt_ms = undefined;
    let next_ms = Number.POSITIVE_INFINITY;
    for (const waiting of [...this.pending]) {
      if (waiting.deadline_ms <= this.world.now_ms) {
        this.pending.delete(waiting);
        waiting.expire();
      } else {
        next_ms = Math.min(next_ms, waiting.deadline_ms);
      }
    }
    if (next_ms !== Number.POSITIVE_INFINITY) this.arm(next_ms);
  }
}

export class SimReader {
  readonly reads: ReadRecord[] = [];
  private acksSeen = 0;
  private readonly timeouts: TimeoutSweeper;

  constructor(
    readonly name: string,
    private readonly world: World,
    private readonly cluster: Cluster,
    private readonly clients: readonly SimClient[],
    private readonly rng: Prng,
    private readonly sabotage: Sabotage | undefined,
  ) {
    this.timeouts = new TimeoutSweeper(world);
  }

  /** Reads until its budget is spent, or once more after every writer client has finished. */
  async run(): Promise<void> {
    let lastRead_ms = this.world.now_ms;
    for (let wake = 0; wake < reader_wakes_max && this.reads.length < reads_per_reader_max; wake++) {
      await this.world.sleep(this.rng.uniform(reader_wake_ms.min, reader_wake_ms.max));
      const acks = acksOf(this.clients);
      const writersDone = this.clients.every((c) => c.finished);
      const fresh = acks.length > this.acksSeen;
      if (!fresh && !writersDone && this.world.now_ms - lastRead_ms < reader_idle_read_ms) continue;
      this.acksSeen = acks.length;
      await this.readOnce(acks);
      lastRead_ms = this.world.now_ms;
      if (writersDone) return;
    }
  }

  private async readOnce(acks: readonly Ack[]): Promise<void> {
    const live = this.cluster.proposers.filter((p) => p.up);
    if (live.length === 0) return;
    const via = this.rng.pick(live);
    const before = acks.filter((a) => a.at_ms < this.world.now_ms);
    const latest = before.reduce<Ack | undefined>((m, a) => (m === undefined || a.seq > m.seq ? a : m), undefined);
    const roll = this.rng.next();
    const kind: ReadKind = roll < 0.6 || latest === undefined ? "linearizable" : roll < 0.8 ? "local" : "local_min_seq";
    const minSeq = kind === "local_min_seq" ? this.rng.pick(before).seq : undefined;
    const target: ReadTarget =
      latest !== undefined && this.rng.chance(0.4)
        ? { id: latest.id }
        : { afterSeq: Math.max(0, (latest?.seq ?? 0) - read_page_lead), limit: read_page_entries };
    const consistency: Consistency =
      kind === "linearizable"
        ? { mode: "linearizable" }
        : minSeq === undefined
          ? { mode: "local" }
          : { mode: "local", minSeq };
    const record: ReadRecord = {
      reader: this.name,
      kind,
      via: via.name,
      ...(minSeq === undefined ? {} : { minSeq }),
      target,
      started_ms: this.world.now_ms,
    };
    this.reads.push(record);
    const op = (a: SimAcceptor) => {
      const state = replicaStateOf(a);
      if ("id" in target) {
        const entry = a.store.entryById(target.id);
        return { state, entries: entry === undefined ? [] : [entry] };
      }
      return { state, entries: a.store.entriesAfter(target.afterSeq, target.limit) };
    };
    try {
      const { value, replica } = await this.readerVia(via).read(consistency, (to) =>
        this.cluster.call(via, to, op, this.rng),
      );
      record.result = { replica, state: value.state, entries: value.entries };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      record.error = { name: e instanceof ReadUnavailableError ? "ReadUnavailableError" : e.name, message: e.message };
    }
    record.ended_ms = this.world.now_ms;
  }

  /** The read path as the isolate of `via` runs it. */
  private readerVia(via: SimProposer): LedgerReader {
    const world = this.world;
    const acceptors = this.cluster.acceptors;
    // Nearest first by the RTT table (production measures it; the table is what it would measure).
    const nearest = acceptors
      .map((a, i) => ({ name: a.name, rtt: regionRtt_ms(via.region, a.region), i }))
      .sort((x, y) => x.rtt - y.rtt || x.i - y.i)
      .map((x) => x.name);
    return new LedgerReader(
      {
        replicas: acceptors.map((a) => a.name),
        quorum: this.cluster.options.quorum,
        readState: (to) => this.cluster.call(via, to, replicaStateOf, this.rng),
        now_ms: () => world.now_ms,
        sleep: (ms) => world.sleep(ms),
        withTimeout: (work, ms, what) => this.timeouts.race(work, ms, what),
        nearestFirst: () => nearest,
        // The isolate's own proposer decides what is stuck; a crashed isolate has none.
        sync: () => (via.up ? via.sync() : Promise.reject(new Error(`${via.name} is down`))),
      },
      this.sabotage === undefined ? {} : { sabotage: this.sabotage },
    );
  }
}

/** Starts `readers_per_seed` readers; they run alongside the writer clients, through the faults and after. */
export function startReaders(
  world: World,
  cluster: Cluster,
  clients: readonly SimClient[],
  rng: Prng,
  sabotage: Sabotage | undefined,
): SimReader[] {
  const readers = Array.from(
    { length: readers_per_seed },
    (_, i) => new SimReader(`r${i}`, world, cluster, clients, rng.fork(), sabotage),
  );
  // Not awaited: the caller's world.run drives them; each stops within reader_wakes_max wakes.
  for (const r of readers) void r.run();
  return readers;
}
