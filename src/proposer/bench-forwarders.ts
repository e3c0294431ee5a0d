/**
 * The bench's k-proposer mode in the coordinator design (issue #12): k Worker isolates of one
 * ledger, each in its own simulated region (`rtt_from`), each forwarding its appends to the ledger's
 * coordinator over the simulated hop from its region (`coordinator-link.ts`). The coordinator runs
 * the one proposer, in its own simulated region. Each forwarder times its appends (from the call to
 * the outcome, the hop included), so the bench reports them in units of that Worker's own quorum
 * RTT beside the direct design's k proposers (`bench-proposers.ts`). Only with ALLOW_FAULT_INJECTION.
 */
import type { LedgerConfig } from "../config.js";
import { assert } from "../core/assert.js";
import type { CoordinatorLink } from "../core/coordinator/index.js";
import type { BatchOutcome } from "../core/ledger-types.js";
import { nthNearestRtt_ms, type RegionHint } from "../core/region-rtt.js";
import { bench_append_samples_max, bench_proposers_max } from "./bench-proposer-limits.js";
import type { AppendTimes, BenchProposerSpec } from "./bench-proposers.js";
import type { DurableObjectCoordinatorLink } from "./coordinator-link.js";

/** What a forwarder counts of its own appends (the proposer's counters are the coordinator's). */
export interface ForwarderStats {
  forwards: number;
  forwards_failed: number;
}

export interface BenchForwarder {
  /** The forwarder's id: a new one whenever the mode is set again (a new isolate). */
  readonly proposerId: string;
  readonly rtt_from: RegionHint;
  /** The RTT from `rtt_from` to the accept quorum's farthest member: the unit of its ratios. */
  readonly quorumRtt_ms: number;
  readonly link: DurableObjectCoordinatorLink;
  readonly stats: ForwarderStats;
  readonly samples_ms: number[];
  samples_dropped: number;
  in_flight: number;
}

export class BenchForwarders {
  readonly members: readonly BenchForwarder[];
  private turn = 0;

  constructor(
    specs: readonly BenchProposerSpec[],
    config: LedgerConfig,
    link: (from: RegionHint) => DurableObjectCoordinatorLink,
  ) {
    assert(specs.length >= 1 && specs.length <= bench_proposers_max, `1 to ${bench_proposers_max} bench forwarders`);
    this.members = specs.map((spec) => ({
      proposerId: crypto.randomUUID(),
      rtt_from: spec.rtt_from,
      quorumRtt_ms: nthNearestRtt_ms(spec.rtt_from, config.regions, config.quorum.accept),
      link: link(spec.rtt_from),
      stats: { forwards: 0, forwards_failed: 0 },
      samples_ms: [],
      samples_dropped: 0,
      in_flight: 0,
    }));
  }

  /** Forwards one append through the next of the k in turn, and times it. */
  async append(forward: (link: CoordinatorLink) => Promise<BatchOutcome>): Promise<BatchOutcome> {
    const member = this.members[this.turn % this.members.length]!;
    this.turn = (this.turn + 1) % this.members.length;
    const started_ms = Date.now();
    member.stats.forwards++;
    member.in_flight++;
    try {
      const outcome = await forward(member.link);
      if (member.samples_ms.length < bench_append_samples_max) member.samples_ms.push(Date.now() - started_ms);
      else member.samples_dropped++;
      return outcome;
    } catch (error) {
      member.stats.forwards_failed++;
      throw error;
    } finally {
      member.in_flight--;
    }
  }

  /** Each forwarder's identity, counters and append times, for `GET /v1/_bench/stats`. */
  describe() {
    return this.members.map((m) => ({
      proposerId: m.proposerId,
      rtt_from: m.rtt_from,
      quorumRtt_ms: m.quorumRtt_ms,
      stats: { ...m.stats },
      appends: {
        samples_ms: [...m.samples_ms],
        samples_dropped: m.samples_dropped,
        failed: m.stats.forwards_failed,
        in_flight: m.in_flight,
      } satisfies AppendTimes,
    }));
  }
}
