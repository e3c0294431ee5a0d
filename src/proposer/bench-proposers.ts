/**
 * The bench's k-proposer mode (issue #12): k proposers of one ledger inside this isolate, each with
 * its own proposerId and its own simulated RTT profile (`rtt_from`: the region it pretends to run in),
 * so that `npm run bench -- --proposers 1,2,4,8` measures how proposers contend, side by side in one
 * run. Set with `PUT /v1/_bench/mode` (`routes/bench.ts`): reachable only with ALLOW_FAULT_INJECTION,
 * and the ledger service refuses it otherwise. With the mode off nothing here is constructed.
 *
 * Appends are spread over the k in turn (`BenchProposers.next`). Each proposer times its own appends
 * (from the call to the outcome, queueing and duels included): the bench reports them in units of
 * that proposer's own quorum RTT, as the simulator does.
 */
import { z } from "zod";
import type { AcceptorIdentity } from "../acceptor/identity.js";
import { assert } from "../core/assert.js";
import type { EntryInput } from "../core/entry-schema.js";
import type { BatchOutcome } from "../core/ledger-types.js";
import {
  Proposer,
  type ProposerEnv,
  type ProposerOptions,
  type ProposerStats,
  type RequestOptions,
} from "../core/proposer/index.js";
import { nthNearestRtt_ms, type RegionHint, region_hints, regionRtt_ms } from "../core/region-rtt.js";
import { bench_append_samples_max, bench_proposers_max } from "./bench-proposer-limits.js";
import { currentFaults } from "./faults.js";
import type { AcceptorStub, AcceptorTransport } from "./transport.js";

export { bench_append_samples_max, bench_proposers_max } from "./bench-proposer-limits.js";

/** The simulated jitter never adds more than this fraction of the simulated RTT (as in `faults.ts`). */
const jitter_fraction_max = 0.5;

export const benchProposerSchema = z.strictObject({
  /** The region this proposer pretends to run in: each call waits the table's RTT to the acceptor. */
  rtt_from: z.enum(region_hints),
});
export const benchProposersSchema = z.array(benchProposerSchema).min(1).max(bench_proposers_max);

export type BenchProposerSpec = z.infer<typeof benchProposerSchema>;

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Adds the RTT from one region to every call, with the fault configuration's jitter, inside the
 * connection the call holds (as `FaultInjectingTransport` does for the isolate-wide `rtt_from`, which
 * adds to this one: the bench sets no isolate-wide RTT in this mode).
 */
export class SimulatedRttTransport implements AcceptorTransport {
  constructor(
    private readonly inner: AcceptorTransport,
    readonly from: RegionHint,
  ) {}

  get ledger(): string {
    return this.inner.ledger;
  }
  get regions(): readonly RegionHint[] {
    return this.inner.regions;
  }

  subrequestsLeft(): number {
    return this.inner.subrequestsLeft();
  }

  call<R>(to: RegionHint, op: (stub: AcceptorStub, identity: AcceptorIdentity) => Promise<R>): Promise<R> {
    const jitter = Math.min(jitter_fraction_max, -Math.log(1 - Math.random()) * currentFaults().jitter_fraction_mean);
    const delay_ms = regionRtt_ms(this.from, to) * (1 + jitter);
    return this.inner.call(to, async (stub, identity) => {
      await sleep(delay_ms / 2);
      const reply = await op(stub, identity);
      await sleep(delay_ms / 2);
      return reply;
    });
  }
}

/** What a bench proposer has measured of its own appends. */
export interface AppendTimes {
  /** Each append's time from the call to its outcome (ms), in order, at most `bench_append_samples_max`. */
  readonly samples_ms: readonly number[];
  readonly samples_dropped: number;
  /** Appends that ended in an error (503 or 429 for the client) rather than an outcome. */
  readonly failed: number;
  /** Appends called and not yet settled: the bench waits for none before it measures. */
  readonly in_flight: number;
}

/** A proposer that times its appends: the bench's per-proposer latency. */
export class TimedProposer extends Proposer {
  private readonly samples_ms: number[] = [];
  private samples_dropped = 0;
  private failed = 0;
  private in_flight = 0;

  constructor(
    private readonly clock: Pick<ProposerEnv, "now_ms">,
    env: ProposerEnv,
    options: ProposerOptions,
  ) {
    super(env, options);
  }

  override append(
    entries: readonly EntryInput[],
    background?: (work: Promise<unknown>) => void,
    options: RequestOptions = {},
  ): Promise<BatchOutcome> {
    const started_ms = this.clock.now_ms();
    const appended = super.append(entries, background, options);
    this.in_flight++;
    // Observed, not awaited: the caller awaits `appended` itself; this branch only takes the time.
    appended.then(
      () => {
        this.in_flight--;
        if (this.samples_ms.length < bench_append_samples_max) this.samples_ms.push(this.clock.now_ms() - started_ms);
        else this.samples_dropped++;
      },
      () => {
        this.in_flight--;
        this.failed++;
      },
    );
    return appended;
  }

  get appendTimes(): AppendTimes {
    return {
      samples_ms: [...this.samples_ms],
      samples_dropped: this.samples_dropped,
      failed: this.failed,
      in_flight: this.in_flight,
    };
  }
}

/** One of the k: its identity, its simulated region and the proposer. */
export interface BenchProposer {
  readonly proposerId: string;
  readonly rtt_from: RegionHint;
  /** The RTT from `rtt_from` to the accept quorum's farthest member (Q2-th nearest): the unit of its ratios. */
  readonly quorumRtt_ms: number;
  readonly transport: SimulatedRttTransport;
  readonly proposer: TimedProposer;
}

/** How the ledger service makes one bench proposer over a transport (its platform, as for its own). */
export type MakeBenchProposer = (transport: AcceptorTransport, proposerId: string) => TimedProposer;

/** The k proposers of one ledger in the bench mode, taken in turn by appends. */
export class BenchProposers {
  readonly members: readonly BenchProposer[];
  private turn = 0;

  constructor(
    specs: readonly BenchProposerSpec[],
    base: AcceptorTransport,
    acceptQuorum: number,
    make: MakeBenchProposer,
  ) {
    assert(specs.length >= 1 && specs.length <= bench_proposers_max, `1 to ${bench_proposers_max} bench proposers`);
    this.members = specs.map((spec) => {
      const transport = new SimulatedRttTransport(base, spec.rtt_from);
      const proposerId = crypto.randomUUID();
      return {
        proposerId,
        rtt_from: spec.rtt_from,
        quorumRtt_ms: nthNearestRtt_ms(spec.rtt_from, base.regions, acceptQuorum),
        transport,
        proposer: make(transport, proposerId),
      };
    });
  }

  /** The proposer for the next append: each of the k in turn. */
  next(): TimedProposer {
    const member = this.members[this.turn % this.members.length]!;
    this.turn = (this.turn + 1) % this.members.length;
    return member.proposer;
  }

  /** The k proposers' counters added up (the figures the bench reads for a single proposer). */
  totalStats(): ProposerStats {
    const total = { ...this.members[0]!.proposer.stats };
    for (const member of this.members.slice(1)) {
      for (const key of Object.keys(total) as Array<keyof ProposerStats>) total[key] += member.proposer.stats[key];
    }
    return total;
  }

  /** Each proposer's identity, counters and append times, for `GET /v1/_bench/stats`. */
  describe() {
    return this.members.map((m) => ({
      proposerId: m.proposerId,
      rtt_from: m.rtt_from,
      quorumRtt_ms: m.quorumRtt_ms,
      stats: { ...m.proposer.stats },
      appends: m.proposer.appendTimes,
    }));
  }
}
