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
import { subrequest, subrequestsLeft } from "./request-budget.js";

export type AcceptorStub = DurableObjectStub<LedgerAcceptor>;

export interface AcceptorTransport {
  readonly ledger: string;
  readonly regions: readonly RegionHint[];
  /**
   * Runs `op` against one region's acceptor; rejects when it cannot be reached. `op` makes exactly
   * one call on the stub: that call is one subrequest of the current Worker request.
   */
  call<R>(region: RegionHint, op: (stub: AcceptorStub, identity: AcceptorIdentity) => Promise<R>): Promise<R>;
  /** The calls the current Worker request may still make (`SUBREQUESTS_PER_REQUEST_MAX` less those made). */
  subrequestsLeft(): number;
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
    // One subrequest of the request whose async context this runs in: refused when its budget is
    // spent, and queued while the request already has `connections_per_request_max` calls open.
    // A region's calls hold at most its share of those connections, so a slow region cannot starve
    // the others' next quorum.
    return subrequest(this.config.subrequestsPerRequestMax, () => op(stub, identity), {
      key: region,
      destinations: this.config.regions.length,
    });
  }

  subrequestsLeft(): number {
    return subrequestsLeft(this.config.subrequestsPerRequestMax);
  }
}
