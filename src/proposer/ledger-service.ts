/**
 * One ledger as the Worker sees it: its transport, how it proposes, and the read paths. In
 * production the Worker proposes nothing: appends and recoveries are forwarded to the ledger's
 * coordinator (`proposing` forward, issue #12), whose Durable Object runs the same class in direct
 * mode, with the proposer. The read path itself (consistency modes, the read index from a prepare
 * quorum) is the pure core's `LedgerReader` (`src/core/read-index.ts`); this file gives it the
 * platform: the Durable Object calls, timers, the regions' measured latencies and the recovery (`sync`).
 * The bench's k-proposer mode (`bench-forwarders.ts`, `bench-proposers.ts`, ALLOW_FAULT_INJECTION
 * only) gives a ledger k Worker isolates instead of one; with it off, the service is built exactly as in
 * production.
 */
import type { LedgerConfig } from "../config.js";
import { assert } from "../core/assert.js";
import { forwardAppend, forwardSync } from "../core/coordinator/index.js";
import type { EntryInput } from "../core/entry-schema.js";
import { genesis_hash } from "../core/hash.js";
import type { BatchOutcome, LedgerHead } from "../core/ledger-types.js";
import type { AcceptorReply, AcceptorRequest } from "../core/messages.js";
import {
  LatencyTracker,
  Proposer,
  type ProposerEnv,
  type ProposerOptions,
  type ProposerStats,
  type RecentCommits,
  type RequestOptions,
} from "../core/proposer/index.js";
import {
  type Consistency,
  LedgerReader,
  type ReadOptions,
  ReadUnavailableError,
  type ReplicaState,
  ReplicaTimeoutError,
  read_timeout_ms,
} from "../core/read-index.js";
import type { RegionHint } from "../core/region-rtt.js";
import { BenchForwarders } from "./bench-forwarders.js";
import { type BenchProposerSpec, BenchProposers, TimedProposer } from "./bench-proposers.js";
import { type CoordinatorNamespace, DurableObjectCoordinatorLink } from "./coordinator-link.js";
import { FaultInjectingTransport } from "./faults.js";
import { type AcceptorStub, type AcceptorTransport, DurableObjectTransport } from "./transport.js";

// The read path's names, where the Worker, the stream hub and the tests have always found them.
export {
  type Consistency,
  ReadUnavailableError,
  ReplicaBehindError,
  read_index_syncs_max,
  read_index_wait_ms,
  read_timeout_ms,
} from "../core/read-index.js";

/** What a ledger service may be asked: the proposer's options, and the read path's (test-only sabotage). */
export type LedgerServiceOptions = ProposerOptions & ReadOptions;

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

export interface RegionProbe {
  readonly region: RegionHint;
  readonly reachable: boolean;
  readonly latency_ms: number | null;
  readonly error?: string;
}

/**
 * How a ledger service proposes. `forward`: every append and recovery goes to the ledger's
 * coordinator (production, issue #12); the Worker runs no proposer. `direct`: the service runs the
 * proposer itself: inside the coordinator, and in the bench's baseline of the old design.
 */
export type Proposing =
  | {
      readonly kind: "direct";
      /** The coordinator's region: its acceptor calls' simulated RTT starts there (fault injection). */
      readonly at?: RegionHint;
    }
  | { readonly kind: "forward"; readonly coordinators: CoordinatorNamespace };

export class LedgerService {
  readonly transport: AcceptorTransport;
  /**
   * Direct only: the ledger's proposer, for reads' `sync` and the status page, and (the bench mode
   * off) every append's. Its latency table is the service's.
   */
  private readonly primary: Proposer | undefined;
  /** Forward only: the link to the ledger's coordinator (the bench's k forwarders have one each). */
  private readonly link: DurableObjectCoordinatorLink | undefined;
  /** The bench's k proposers (`bench-proposers.ts`); undefined unless the bench mode was set (direct). */
  readonly bench: BenchProposers | undefined;
  /** The bench's k forwarders (`bench-forwarders.ts`); undefined unless the bench mode was set (forward). */
  readonly benchForwarders: BenchForwarders | undefined;
  /** Each acceptor's measured latency: the proposer's own table when there is one. */
  readonly latency: LatencyTracker;
  /** The read path (pure core) over this ledger's transport. */
  private readonly reader: LedgerReader<RegionHint>;
  private background: ((work: Promise<unknown>) => void) | undefined;

  constructor(
    readonly ledger: string,
    readonly config: LedgerConfig,
    namespace: DurableObjectNamespace<import("../acceptor/ledger-acceptor.js").LedgerAcceptor>,
    options: LedgerServiceOptions = {},
    benchProposers?: readonly BenchProposerSpec[],
    readonly proposing: Proposing = { kind: "direct" },
  ) {
    const direct = new DurableObjectTransport(namespace, ledger, config);
    // The coordinator calls the acceptors from its own region, wherever the Worker pretends to be.
    const simulatedFrom = proposing.kind === "direct" ? proposing.at : undefined;
    const faulty = config.faultInjection ? new FaultInjectingTransport(direct, simulatedFrom) : direct;
    this.bench = undefined;
    this.benchForwarders = undefined;
    this.link = undefined;
    this.primary = undefined;
    if (benchProposers !== undefined) {
      // Defence in depth: the route that sets the mode is already absent without the flag.
      assert(config.faultInjection, "the bench's k proposers only run with ALLOW_FAULT_INJECTION");
    }
    if (proposing.kind === "forward") {
      this.transport = faulty;
      this.latency = new LatencyTracker();
      if (benchProposers === undefined) {
        this.link = new DurableObjectCoordinatorLink(proposing.coordinators, ledger, config);
      } else {
        this.benchForwarders = new BenchForwarders(
          benchProposers,
          config,
          (from) => new DurableObjectCoordinatorLink(proposing.coordinators, ledger, config, from),
        );
        this.link = this.benchForwarders.members[0]!.link;
      }
    } else if (benchProposers === undefined) {
      this.transport = faulty;
      this.primary = new Proposer(this.proposerEnv(crypto.randomUUID(), faulty), options);
      this.latency = this.primary.latency;
    } else {
      this.bench = new BenchProposers(
        benchProposers,
        faulty,
        config.quorum.accept,
        (transport, proposerId) =>
          new TimedProposer({ now_ms: () => Date.now() }, this.proposerEnv(proposerId, transport), options),
      );
      // The first of the k stands for the isolate: reads go through its simulated region, its
      // latency table orders them, and it runs their `sync`.
      const first = this.bench.members[0]!;
      this.transport = first.transport;
      this.primary = first.proposer;
      this.latency = this.primary.latency;
    }
    this.reader = new LedgerReader<RegionHint>(
      {
        replicas: config.regions,
        quorum: config.quorum,
        readState: (region) => this.timed(region, (stub) => stub.readState()),
        now_ms: () => Date.now(),
        sleep,
        withTimeout,
        nearestFirst: () => this.regionsByLatency(),
        sync: () => this.sync(),
      },
      { sabotage: options.sabotage },
    );
  }

  /**
   * Direct only: the ledger's own proposer (with the bench mode on, the first of its k): status,
   * stats, `sync`. A forwarding service has none: asking is a bug.
   */
  get proposer(): Proposer {
    assert(this.primary !== undefined, "a forwarding ledger service runs no proposer: its coordinator does");
    return this.primary;
  }

  /**
   * Direct only: the proposer an append goes to: the ledger's own, or with the bench mode on the
   * next of its k in turn. A method, not a getter, because each call takes a turn: only appends call
   * it, so status polls neither take turns nor report a different proposer each time.
   */
  proposerForAppend(): Proposer {
    return this.bench === undefined ? this.proposer : this.bench.next();
  }

  /**
   * Appends through the ledger's coordinator (forward) or its own proposer (direct): the outcome,
   * or `QuorumUnavailableError` (503) / `ProposerOverloadedError` (429).
   */
  append(
    entries: readonly EntryInput[],
    background: (work: Promise<unknown>) => void,
    options: RequestOptions = {},
  ): Promise<BatchOutcome> {
    if (this.proposing.kind === "direct") return this.proposerForAppend().append(entries, background, options);
    if (this.benchForwarders !== undefined) {
      return this.benchForwarders.append((link) => forwardAppend(link, { sleep }, entries, options));
    }
    return forwardAppend(this.link!, { sleep }, entries, options);
  }

  /** Decides every slot left undecided: a linearizable read's recovery, run by whoever proposes. */
  sync(): Promise<void> {
    if (this.proposing.kind === "direct") return this.proposer.sync(this.background);
    return forwardSync(this.link!, { sleep });
  }

  /** The ledger's recent commits: its coordinator's (forward), or this isolate's proposer's (direct). */
  async recentCommits(window_ms: number): Promise<RecentCommits> {
    if (this.proposing.kind === "direct") return this.proposer.recentCommits(window_ms);
    // Bounded like a replica read: a stuck coordinator must not hang the status page.
    return withTimeout(this.link!.recentCommits(window_ms), read_timeout_ms, "the coordinator's status");
  }

  /** The counters of the ledger's proposer (the bench): the coordinator's (forward) or this isolate's. */
  async proposerStats(): Promise<ProposerStats> {
    if (this.proposing.kind === "direct") return this.bench?.totalStats() ?? { ...this.proposer.stats };
    return (await withTimeout(this.link!.stats(), read_timeout_ms, "the coordinator's stats")).stats;
  }

  private proposerEnv(proposerId: string, transport: AcceptorTransport): ProposerEnv {
    return {
      proposerId,
      acceptorIds: this.config.regions,
      quorum: this.config.quorum,
      send: (region, request) => this.send(transport, region as RegionHint, request),
      now_ms: () => Date.now(),
      sleep,
      random: () => Math.random(),
      subrequestsLeft: () => transport.subrequestsLeft(),
    };
  }

  /** The current request's `waitUntil`, for the recovery a linearizable read may have to run. */
  useWaitUntil(waitUntil: (work: Promise<unknown>) => void): void {
    this.background = waitUntil;
  }

  private async timed<R>(region: RegionHint, op: (stub: AcceptorStub) => Promise<R>): Promise<R> {
    const started = Date.now();
    const result = await this.transport.call(region, (stub) => op(stub));
    // One latency table per ledger: the proposer's, which its own calls to these acceptors feed too.
    this.latency.note(region, Date.now() - started);
    return result;
  }

  private send(transport: AcceptorTransport, region: RegionHint, request: AcceptorRequest): Promise<AcceptorReply> {
    return transport.call(region, async (stub, identity) => (await stub.handle(identity, request)) as AcceptorReply);
  }

  /**
   * Regions from nearest to farthest by observed latency (configuration order until measured), as
   * the proposer's latency tracker has measured them: reads and the proposer's calls alike.
   */
  regionsByLatency(): RegionHint[] {
    return this.latency.nearestFirst(this.config.regions) as RegionHint[];
  }

  private readState(region: RegionHint): Promise<ReplicaState> {
    return withTimeout(
      this.timed(region, (stub) => stub.readState()),
      read_timeout_ms,
      `read of ${region}`,
    );
  }

  /**
   * Runs a read with the requested consistency (linearizable by default; local; local with
   * `minSeq`): see `LedgerReader.read`. A read that no replica can serve throws
   * `ReadUnavailableError` (503), never a plain error.
   */
  async read<R extends { state: ReplicaState }>(
    consistency: Consistency,
    op: (stub: AcceptorStub) => Promise<R>,
  ): Promise<R & { region: RegionHint }> {
    const { value, replica } = await this.reader.read(consistency, (region) => this.timed(region, op));
    return { ...value, region: replica };
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
      const page = await withTimeout(
        this.timed(region, (stub) => stub.verifyPage(lastSeq, lastHash)),
        read_timeout_ms,
        `verify on ${region}`,
      );
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
