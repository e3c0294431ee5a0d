/**
 * One ledger as the Worker sees it: its transport, its proposer (cached per isolate) and the read
 * paths. Linearizable reads use a read index: ask a prepare quorum (which meets every accept quorum,
 * so it holds every acknowledged slot) for its applied prefix and highest held slot, then read from a
 * replica that has applied up to the highest of these.
 */
import type { ReplicaState } from "../acceptor/ledger-acceptor.js";
import type { LedgerConfig } from "../config.js";
import { genesis_hash } from "../core/hash.js";
import type { LedgerHead } from "../core/ledger-types.js";
import type { AcceptorReply, AcceptorRequest } from "../core/messages.js";
import { Proposer, type ProposerOptions } from "../core/proposer.js";
import type { RegionHint } from "../core/region-rtt.js";
import { DurableObjectTransport, type AcceptorStub, type AcceptorTransport } from "./transport.js";
import { FaultInjectingTransport } from "./faults.js";

/** Ledgers whose proposer an isolate keeps warm; the least recently used idle one is dropped beyond it. */
export const proposer_cache_ledgers_max = 256;
/** How long a read waits for one replica. */
export const read_timeout_ms = 2000;
/** Polls of the read index before a linearizable read forces recovery of an undecided slot. */
const read_index_polls_max = 4;
const read_index_poll_interval_ms = 50;
/**
 * How long a linearizable read waits in all for a replica to apply its read index, recovery of an
 * undecided slot (a `sync`) and the application of its decision included. After a crash the slots
 * a dead leader left undecided are decided by the read's `sync`, then reach the replicas by Commit
 * (after `commit_linger_ms`) or by their own catch-up: the read waits for that, not one more look.
 */
export const read_index_wait_ms = 6000;
/** Recoveries (`sync`) one linearizable read may run while it waits, and the polls between two of them. */
export const read_index_syncs_max = 3;
const read_index_polls_between_syncs = 20;

export type Consistency = { readonly mode: "linearizable" } | { readonly mode: "local"; readonly minSeq?: number };

/** A replica that answered a read had not applied the read index (it cannot serve a linearizable read). */
export class ReplicaBehindError extends Error {
  override name = "ReplicaBehindError";
}

/**
 * A read that no replica could serve in time (down, lost messages, behind). A read changes nothing,
 * so unlike a failed append there is no unknown outcome: the client may simply retry it.
 */
export class ReadUnavailableError extends Error {
  override name = "ReadUnavailableError";
}

/** A replica did not answer within `read_timeout_ms` (or its message was lost). */
class ReplicaTimeoutError extends Error {
  override name = "ReplicaTimeoutError";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ReplicaTimeoutError(`${what} timed out after ${ms} ms`)), ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type RegionState = { region: RegionHint; state: ReplicaState };

export interface RegionProbe {
  readonly region: RegionHint;
  readonly reachable: boolean;
  readonly latency_ms: number | null;
  readonly error?: string;
}

export class LedgerService {
  readonly transport: AcceptorTransport;
  readonly proposer: Proposer;
  /** Moving average of each region's call latency: "nearest" means lowest here. */
  private readonly latency_ms = new Map<RegionHint, number>();
  private background: ((work: Promise<unknown>) => void) | undefined;

  constructor(
    readonly ledger: string,
    readonly config: LedgerConfig,
    namespace: DurableObjectNamespace<import("../acceptor/ledger-acceptor.js").LedgerAcceptor>,
    options: ProposerOptions = {},
  ) {
    const direct = new DurableObjectTransport(namespace, ledger, config);
    this.transport = config.faultInjection ? new FaultInjectingTransport(direct) : direct;
    this.proposer = new Proposer({
      proposerId: crypto.randomUUID(),
      acceptorIds: config.regions,
      quorum: config.quorum,
      send: (region, request) => this.send(region as RegionHint, request),
      now_ms: () => Date.now(),
      sleep,
      random: () => Math.random(),
      subrequestsLeft: () => this.transport.subrequestsLeft(),
    }, options);
  }

  /** The current request's `waitUntil`, for the recovery a linearizable read may have to run. */
  useWaitUntil(waitUntil: (work: Promise<unknown>) => void): void {
    this.background = waitUntil;
  }

  private async timed<R>(region: RegionHint, op: (stub: AcceptorStub) => Promise<R>): Promise<R> {
    const started = Date.now();
    const result = await this.transport.call(region, (stub) => op(stub));
    const took = Date.now() - started;
    const before = this.latency_ms.get(region);
    this.latency_ms.set(region, before === undefined ? took : 0.8 * before + 0.2 * took);
    return result;
  }

  private send(region: RegionHint, request: AcceptorRequest): Promise<AcceptorReply> {
    return this.transport.call(region, async (stub, identity) => (await stub.handle(identity, request)) as AcceptorReply);
  }

  /** Regions from nearest to farthest by observed latency (configuration order until measured). */
  regionsByLatency(): RegionHint[] {
    const order = new Map(this.config.regions.map((r, i) => [r, i]));
    return [...this.config.regions].sort((a, b) => {
      const la = this.latency_ms.get(a) ?? Number.POSITIVE_INFINITY;
      const lb = this.latency_ms.get(b) ?? Number.POSITIVE_INFINITY;
      return la === lb ? order.get(a)! - order.get(b)! : la - lb;
    });
  }

  private readState(region: RegionHint): Promise<ReplicaState> {
    return withTimeout(this.timed(region, (stub) => stub.readState()), read_timeout_ms, `read of ${region}`);
  }

  /**
   * The read index: a slot that every entry acknowledged before the read began is at or below.
   * A chosen slot is held durably by an accept quorum (acceptors never drop an accepted slot), so
   * among the `k` replicas that answered, at least `accept - (n - k)` hold it: the read index is the
   * `(accept - (n - k))`-th highest slot they hold. With only a prepare quorum answering that is the
   * highest (Q1 + Q2 > n); with every replica answering, a slot accepted by a minority only (a leader
   * died mid-round) no longer counts, so a read need not wait for what was never acknowledged.
   * Infinity when too few answered to tell.
   */
  private readIndexOf(states: readonly RegionState[]): number {
    const holdersNeeded = this.config.quorum.accept - (this.config.regions.length - states.length);
    if (holdersNeeded < 1) return Number.POSITIVE_INFINITY;
    const held = states.map(({ state }) => Math.max(state.chosenThrough, state.highestSlot)).sort((a, b) => b - a);
    return held[holdersNeeded - 1] ?? Number.POSITIVE_INFINITY;
  }

  /** The regions among `states` that have applied `minSlot`, nearest first. */
  private readyRegions(states: readonly RegionState[], minSlot: number): RegionHint[] {
    const nearestFirst = this.regionsByLatency();
    return states
      .filter(({ state }) => state.chosenThrough >= minSlot)
      .map(({ region }) => region)
      .sort((a, b) => nearestFirst.indexOf(a) - nearestFirst.indexOf(b));
  }

  /**
   * The replicas a linearizable read may use, and the applied prefix (chosenThrough) they have: the
   * read index from a prepare quorum's states. When no replica has applied it yet, polls (every
   * replica, so a fuller view can lower the index) and, after `read_index_polls_max` polls, decides
   * any stuck slot with a fresh phase 1 (`sync`, at most `read_index_syncs_max` times), then waits
   * until that decision is applied somewhere; all within `read_index_wait_ms`.
   */
  private async readIndex(): Promise<{ minSlot: number; ready: RegionHint[] }> {
    const started_ms = Date.now();
    const states = await this.quorumOfStates(this.config.quorum.prepare);
    let minSlot = this.readIndexOf(states);
    let ready = this.readyRegions(states, minSlot);
    let syncs = 0;
    for (let poll = 1; ready.length === 0; poll++) {
      const left_ms = started_ms + read_index_wait_ms - Date.now();
      if (left_ms <= 0) {
        throw new ReadUnavailableError(`no replica has applied every acknowledged slot (through slot ${minSlot}) within ${read_index_wait_ms} ms`);
      }
      const syncDue = poll === read_index_polls_max || (poll > read_index_polls_max && (poll - read_index_polls_max) % read_index_polls_between_syncs === 0);
      if (syncDue && syncs < read_index_syncs_max) {
        // A slot accepted above every applied prefix that does not resolve: decide it (a fresh phase 1
        // re-proposes it), then keep polling until the decision has been applied on some replica.
        syncs++;
        const synced = this.proposer.sync(this.background).then(
          () => undefined,
          (error: unknown) => error ?? new Error("sync failed"),
        );
        const syncError = await Promise.race([synced, sleep(left_ms).then(() => undefined)]);
        // No phase-1 quorum to decide the slot: waiting on would only delay the same answer.
        if (syncError !== undefined) throw new ReadUnavailableError(`the slots above every applied prefix could not be decided: ${reasonOf(syncError)}`);
      } else {
        await sleep(read_index_poll_interval_ms);
      }
      const fresh = await this.everyState(minSlot);
      minSlot = Math.min(minSlot, this.readIndexOf(fresh));
      ready = this.readyRegions(fresh, minSlot);
    }
    return { minSlot, ready };
  }

  /** The states of every replica that answers, once at least `need` have. */
  private quorumOfStates(need: number): Promise<RegionState[]> {
    const regions = this.config.regions;
    return new Promise((resolve, reject) => {
      const got: RegionState[] = [];
      const failures: string[] = [];
      let done = false;
      for (const region of regions) {
        this.readState(region).then(
          (state) => {
            got.push({ region, state });
            if (!done && got.length >= need) {
              done = true;
              resolve([...got]); // a copy: later replies do not change what the caller holds
            }
          },
          (error: unknown) => {
            failures.push(reasonOf(error));
            if (!done && regions.length - failures.length < need) {
              done = true;
              const answered = got.length === 0 ? "no replica answered" : `only ${got.length} of ${regions.length} replicas answered`;
              reject(new ReadUnavailableError(`${answered} (a linearizable read needs ${need}): ${failures.join("; ")}`));
            }
          },
        );
      }
    });
  }

  /**
   * Every replica's state, as many as answer within `read_timeout_ms`; settles early once one of them
   * has applied `minSlot` (the read can go on) or when every replica has answered or failed.
   */
  private everyState(minSlot: number): Promise<RegionState[]> {
    const regions = this.config.regions;
    return new Promise((resolve) => {
      const got: RegionState[] = [];
      let settled = 0;
      let done = false;
      const settle = () => {
        settled++;
        const anyReady = got.some(({ state }) => state.chosenThrough >= minSlot);
        if (!done && (anyReady || settled === regions.length)) {
          done = true;
          resolve([...got]);
        }
      };
      for (const region of regions) {
        this.readState(region).then(
          (state) => {
            got.push({ region, state });
            settle();
          },
          () => settle(),
        );
      }
    });
  }

  /**
   * Runs a read with the requested consistency:
   * - linearizable (default): on a replica that has applied the read index; when that replica does
   *   not answer, on another that has (each replica at most once);
   * - local: on the nearest replica that answers;
   * - local with `minSeq`: on the nearest replica whose head has reached it, else linearizably
   *   (which includes every acknowledged entry, so read-your-writes holds either way).
   * A read that no replica can serve throws `ReadUnavailableError` (503), never a plain error.
   */
  async read<R extends { state: ReplicaState }>(
    consistency: Consistency,
    op: (stub: AcceptorStub) => Promise<R>,
  ): Promise<R & { region: RegionHint }> {
    if (consistency.mode === "local") {
      const failures: string[] = [];
      for (const region of this.regionsByLatency()) {
        try {
          const result = await withTimeout(this.timed(region, op), read_timeout_ms, `read of ${region}`);
          if (consistency.minSeq === undefined || result.state.head.seq >= consistency.minSeq) return { ...result, region };
        } catch (error) {
          failures.push(reasonOf(error));
        }
      }
      if (consistency.minSeq === undefined) throw new ReadUnavailableError(`no replica answered: ${failures.join("; ")}`);
    }
    const { minSlot, ready } = await this.readIndex().catch((error: unknown) => {
      throw error instanceof ReadUnavailableError ? error : new ReadUnavailableError(reasonOf(error));
    });
    // The replicas seen to have applied the read index first, then the others (they may have since).
    const others = this.regionsByLatency().filter((r) => !ready.includes(r));
    const failures: string[] = [];
    for (const region of [...ready, ...others]) {
      try {
        const result = await withTimeout(this.timed(region, op), read_timeout_ms, `read of ${region}`);
        if (result.state.chosenThrough >= minSlot) return { ...result, region };
        failures.push(new ReplicaBehindError(`${region} has applied slot ${result.state.chosenThrough}, not ${minSlot}`).message);
      } catch (error) {
        failures.push(reasonOf(error));
      }
    }
    throw new ReadUnavailableError(`no replica that has applied slot ${minSlot} answered: ${failures.join("; ")}`);
  }

  /**
   * Recomputes the hash chain on one replica: the one named, or the nearest that answers. Each page
   * is one bounded call; the whole check is bounded by `verify_entries_max`.
   */
  async verify(region?: RegionHint): Promise<VerifyResult> {
    const failures: string[] = [];
    for (const r of region === undefined ? this.regionsByLatency() : [region]) {
      try {
        return await this.verifyOn(r);
      } catch (error) {
        failures.push(reasonOf(error));
      }
    }
    throw new ReadUnavailableError(`no replica could be verified: ${failures.join("; ")}`);
  }

  private async verifyOn(region: RegionHint): Promise<VerifyResult> {
    let lastSeq = 0;
    let lastHash = genesis_hash;
    for (let checked = 0; checked < verify_entries_max; ) {
      const page = await withTimeout(this.timed(region, (stub) => stub.verifyPage(lastSeq, lastHash)), read_timeout_ms, `verify on ${region}`);
      checked += page.checked;
      lastSeq = page.lastSeq;
      lastHash = page.lastHash;
      if (page.brokenAt !== undefined) {
        const state = await this.readState(region);
        return { region, checkedThrough: lastSeq, head: state.head, complete: false, brokenAt: page.brokenAt };
      }
      if (page.checked === 0) break;
    }
    const state = await this.readState(region);
    return { region, checkedThrough: lastSeq, head: state.head, complete: lastSeq === state.head.seq };
  }

  /** Every region's state, reachable or not, for the status page. */
  async probeAll<R>(op: (stub: AcceptorStub) => Promise<R>): Promise<Array<RegionProbe & { value?: R }>> {
    return Promise.all(
      this.config.regions.map(async (region) => {
        const started = Date.now();
        try {
          const value = await withTimeout(this.timed(region, op), read_timeout_ms, `status of ${region}`);
          return { region, reachable: true, latency_ms: Date.now() - started, value };
        } catch (error) {
          return { region, reachable: false, latency_ms: null, error: (error as Error).message };
        }
      }),
    );
  }
}

/** Entries one verify request checks at most (in pages of `verify_page_entries_max`). */
export const verify_entries_max = 1_000_000;

export interface VerifyResult {
  readonly region: RegionHint;
  readonly checkedThrough: number;
  readonly head: LedgerHead;
  readonly complete: boolean;
  readonly brokenAt?: number;
}

/** Per-isolate cache of ledger services (and so of warm proposers), bounded and LRU. */
export class LedgerServices {
  private readonly services = new Map<string, LedgerService>();
  /** Benchmark baseline switch (only reachable with ALLOW_FAULT_INJECTION). */
  proposerOptions: ProposerOptions = {};

  /** Forgets every cached proposer: the next request of each ledger starts cold, like a new isolate. */
  clear(): void {
    this.services.clear();
  }

  peek(ledger: string): LedgerService | undefined {
    return this.services.get(ledger);
  }

  get(
    ledger: string,
    config: LedgerConfig,
    namespace: DurableObjectNamespace<import("../acceptor/ledger-acceptor.js").LedgerAcceptor>,
  ): LedgerService {
    const cached = this.services.get(ledger);
    if (cached !== undefined && cached.config === config) {
      this.services.delete(ledger);
      this.services.set(ledger, cached); // most recently used last
      return cached;
    }
    const service = new LedgerService(ledger, config, namespace, this.proposerOptions);
    this.services.set(ledger, service);
    if (this.services.size > proposer_cache_ledgers_max) {
      const oldest = this.services.keys().next().value;
      if (oldest !== undefined) this.services.delete(oldest); // its in-flight work still completes
    }
    return service;
  }
}
