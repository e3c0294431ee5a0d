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
import { Proposer, QuorumUnavailableError, type ProposerOptions } from "../core/proposer.js";
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

export type Consistency = { readonly mode: "linearizable" } | { readonly mode: "local"; readonly minSeq?: number };

export class ReplicaBehindError extends Error {
  override name = "ReplicaBehindError";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
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
   * The replica a linearizable read uses, and the applied prefix (chosenThrough) it must have: the
   * read index is the highest applied or held slot reported by a prepare quorum; wait until some
   * replica has applied that far (briefly; then decide any stuck slot with a fresh phase 1).
   */
  private async readIndex(): Promise<{ region: RegionHint; minSlot: number }> {
    const need = this.config.quorum.prepare;
    const states = await this.quorumOfStates(need);
    const target = Math.max(...states.map(({ state }) => Math.max(state.chosenThrough, state.highestSlot)));
    let synced = false;
    for (let poll = 0; ; poll++) {
      const nearestFirst = this.regionsByLatency();
      const ready = states
        .filter(({ state }) => state.chosenThrough >= target)
        .sort((a, b) => nearestFirst.indexOf(a.region) - nearestFirst.indexOf(b.region))[0];
      if (ready !== undefined) return { region: ready.region, minSlot: target };
      if (poll >= read_index_polls_max) {
        if (synced) throw new QuorumUnavailableError("no replica has applied every acknowledged slot yet");
        // An accepted slot above every applied prefix that does not resolve: decide it.
        await this.proposer.sync(this.background);
        synced = true;
      } else {
        await sleep(read_index_poll_interval_ms);
      }
      states.splice(0, states.length, ...(await this.quorumOfStates(1)));
    }
  }

  /** The states of every replica that answers, once at least `need` have. */
  private quorumOfStates(need: number): Promise<Array<{ region: RegionHint; state: ReplicaState }>> {
    const regions = this.config.regions;
    return new Promise((resolve, reject) => {
      const got: Array<{ region: RegionHint; state: ReplicaState }> = [];
      let failed = 0;
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
          () => {
            failed++;
            if (!done && regions.length - failed < need) {
              done = true;
              reject(new QuorumUnavailableError(`only ${regions.length - failed} of ${regions.length} replicas answered`));
            }
          },
        );
      }
    });
  }

  /**
   * Runs a read with the requested consistency:
   * - linearizable (default): on a replica that has applied the read index;
   * - local: on the nearest replica that answers;
   * - local with `minSeq`: on the nearest replica whose head has reached it, else linearizably
   *   (which includes every acknowledged entry, so read-your-writes holds either way).
   */
  async read<R extends { state: ReplicaState }>(
    consistency: Consistency,
    op: (stub: AcceptorStub) => Promise<R>,
  ): Promise<R & { region: RegionHint }> {
    if (consistency.mode === "local") {
      let lastError: unknown;
      for (const region of this.regionsByLatency()) {
        try {
          const result = await withTimeout(this.timed(region, op), read_timeout_ms, `read of ${region}`);
          if (consistency.minSeq === undefined || result.state.head.seq >= consistency.minSeq) return { ...result, region };
        } catch (error) {
          lastError = error;
        }
      }
      if (consistency.minSeq === undefined) {
        throw new QuorumUnavailableError(`no replica answered: ${(lastError as Error | undefined)?.message ?? "unknown"}`);
      }
    }
    const { region, minSlot } = await this.readIndex();
    const result = await withTimeout(this.timed(region, op), read_timeout_ms, `read of ${region}`);
    if (result.state.chosenThrough < minSlot) throw new ReplicaBehindError(`${region} is behind the read index`);
    return { ...result, region };
  }

  /**
   * Recomputes the hash chain on one replica: the one named, or the nearest that answers. Each page
   * is one bounded call; the whole check is bounded by `verify_entries_max`.
   */
  async verify(region?: RegionHint): Promise<VerifyResult> {
    let lastError: unknown;
    for (const r of region === undefined ? this.regionsByLatency() : [region]) {
      try {
        return await this.verifyOn(r);
      } catch (error) {
        lastError = error;
      }
    }
    throw new QuorumUnavailableError(`no replica could be verified: ${(lastError as Error | undefined)?.message ?? "unknown"}`);
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
