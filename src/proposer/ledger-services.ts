/**
 * The ledger services an isolate keeps, one per ledger, bounded and least recently used first out:
 * the Worker's (forwarding, and the read path) and the coordinator Durable Object's (the proposer).
 * Which kind a new one is follows the role and, for the Worker, the bench's design switch.
 */
import type { LedgerConfig } from "../config.js";
import { assert } from "../core/assert.js";
import { coordinator_proposer_options } from "../core/coordinator/index.js";
import type { ProposerOptions } from "../core/proposer/index.js";
import type { BenchProposerSpec } from "./bench-proposers.js";
import type { CoordinatorNamespace } from "./coordinator-link.js";
import { LedgerService } from "./ledger-service.js";

/** Ledgers whose proposer an isolate keeps warm; the least recently used idle one is dropped beyond it. */
export const proposer_cache_ledgers_max = 256;

/** Per-isolate cache of ledger services (and so of warm proposers), bounded and LRU. */
export class LedgerServices {
  private readonly services = new Map<string, LedgerService>();
  /** Benchmark baseline switch (only reachable with ALLOW_FAULT_INJECTION). */
  proposerOptions: ProposerOptions = {};
  /**
   * The bench's k proposers per ledger (only reachable with ALLOW_FAULT_INJECTION); undefined: one.
   * In the Worker they are k forwarders (or, `design` direct, k proposers); in the coordinator, any
   * value means one simulated proposer in the coordinator's region.
   */
  benchProposers: readonly BenchProposerSpec[] | undefined = undefined;
  /**
   * The Worker's design: `coordinator` (production: forward everything to the ledger's coordinator)
   * or `direct` (the bench's baseline of the old design: the Worker proposes). Only the bench
   * routes change it, and only with ALLOW_FAULT_INJECTION.
   */
  design: "coordinator" | "direct" = "coordinator";

  /** `worker`: the Worker isolate's services; `coordinator`: the coordinator Durable Object's. */
  constructor(readonly role: "worker" | "coordinator") {}

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
    coordinators?: CoordinatorNamespace,
  ): LedgerService {
    const cached = this.services.get(ledger);
    if (cached !== undefined && cached.config === config) {
      this.services.delete(ledger);
      this.services.set(ledger, cached); // most recently used last
      return cached;
    }
    const service = this.create(ledger, config, namespace, coordinators);
    this.services.set(ledger, service);
    if (this.services.size > proposer_cache_ledgers_max) {
      const oldest = this.services.keys().next().value;
      if (oldest !== undefined) this.services.delete(oldest); // its in-flight work still completes
    }
    return service;
  }

  private create(
    ledger: string,
    config: LedgerConfig,
    namespace: DurableObjectNamespace<import("../acceptor/ledger-acceptor.js").LedgerAcceptor>,
    coordinators: CoordinatorNamespace | undefined,
  ): LedgerService {
    if (this.role === "coordinator") {
      const bench = this.benchProposers === undefined ? undefined : [{ rtt_from: config.coordinatorRegion }];
      // One I/O context (waiters need no poll timer), and the ledger's sole proposer.
      const options = { ...this.proposerOptions, ...coordinator_proposer_options };
      return new LedgerService(ledger, config, namespace, options, bench, {
        kind: "direct",
        at: config.coordinatorRegion,
      });
    }
    if (this.design === "direct") {
      return new LedgerService(ledger, config, namespace, this.proposerOptions, this.benchProposers);
    }
    assert(coordinators !== undefined, "a Worker forwards to the ledger's coordinator: its binding is required");
    return new LedgerService(ledger, config, namespace, this.proposerOptions, this.benchProposers, {
      kind: "forward",
      coordinators,
    });
  }
}
