/**
 * How the proposer reaches the acceptors of one ledger: an interface, the Durable Object
 * implementation (RPC on `ledger:region` objects created with that region's location hint), and a
 * fault-injecting wrapper for local runs, tests and benchmarks.
 */
import type { AcceptorIdentity } from "../acceptor/identity.js";
import { acceptorName } from "../acceptor/identity.js";
import type { LedgerAcceptor } from "../acceptor/ledger-acceptor.js";
import type { LedgerConfig } from "../config.js";
import type { RegionHint } from "../core/region-rtt.js";

export type AcceptorStub = DurableObjectStub<LedgerAcceptor>;

export interface AcceptorTransport {
  readonly ledger: string;
  readonly regions: readonly RegionHint[];
  /** Runs `op` against one region's acceptor; rejects when it cannot be reached. */
  call<R>(region: RegionHint, op: (stub: AcceptorStub, identity: AcceptorIdentity) => Promise<R>): Promise<R>;
}

export class DurableObjectTransport implements AcceptorTransport {
  readonly regions: readonly RegionHint[];

  constructor(
    private readonly namespace: DurableObjectNamespace<LedgerAcceptor>,
    readonly ledger: string,
    private readonly config: LedgerConfig,
  ) {
    this.regions = config.regions;
  }

  call<R>(region: RegionHint, op: (stub: AcceptorStub, identity: AcceptorIdentity) => Promise<R>): Promise<R> {
    const stub = this.namespace.getByName(acceptorName(this.ledger, region), { locationHint: region });
    const identity: AcceptorIdentity = {
      ledger: this.ledger,
      region,
      regions: this.config.regions,
      acceptQuorum: this.config.quorum.accept,
    };
    return op(stub, identity);
  }
}
