/**
 * Fault injection for local runs, tests and benchmarks: regions down, added delay per region (or a
 * simulated RTT from one region, with jitter), and a drop rate. Honoured only when the Worker runs
 * with ALLOW_FAULT_INJECTION; the deployed default never has it. The state is per isolate: set it
 * with `PUT /v1/_faults`.
 */
import { z } from "zod";
import type { AcceptorIdentity } from "../acceptor/identity.js";
import { type RegionHint, region_hints, regionRtt_ms } from "../core/region-rtt.js";
import type { AcceptorStub, AcceptorTransport } from "./transport.js";

const region = z.enum(region_hints);

export const faultConfigSchema = z.strictObject({
  /** Regions whose acceptors cannot be reached: every call fails at once. */
  down: z.array(region).max(region_hints.length).default([]),
  /** Fixed delay added to every call to a region (milliseconds, round trip). */
  delay_ms: z.partialRecord(region, z.number().min(0).max(10_000)).default({}),
  /** Simulate the proposer sitting in this region: each call waits the table's RTT to the acceptor. */
  rtt_from: region.optional(),
  /** Mean of the exponential jitter added to simulated delays, as a fraction of them. */
  jitter_fraction_mean: z.number().min(0).max(1).default(0.03),
  /** Probability that a call is lost (it never answers; the proposer times out). */
  drop_rate: z.number().min(0).max(1).default(0),
  /** The ledgers' coordinator cannot be reached: every forward fails at once (503). */
  coordinator_down: z.boolean().default(false),
});

export type FaultConfig = z.infer<typeof faultConfigSchema>;

export const no_faults: FaultConfig = faultConfigSchema.parse({});

let current: FaultConfig = no_faults;

export function currentFaults(): FaultConfig {
  return current;
}

export function setFaults(config: FaultConfig): void {
  current = config;
}

export class RegionDownError extends Error {
  override name = "RegionDownError";
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wraps a transport and applies the current fault configuration to every call. */
export class FaultInjectingTransport implements AcceptorTransport {
  constructor(
    private readonly inner: AcceptorTransport,
    /**
     * Where the caller really sits when geography is simulated (`rtt_from` set): the coordinator's
     * region for the coordinator's calls, whatever region the Worker pretends to run in.
     */
    private readonly simulatedFromOverride?: RegionHint,
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

  private delay_ms(f: FaultConfig, to: RegionHint): number {
    const simulated = f.rtt_from === undefined ? 0 : regionRtt_ms(this.simulatedFromOverride ?? f.rtt_from, to);
    const jitter = Math.min(0.5, -Math.log(1 - Math.random()) * f.jitter_fraction_mean);
    return (simulated + (f.delay_ms[to] ?? 0)) * (1 + jitter);
  }

  async call<R>(to: RegionHint, op: (stub: AcceptorStub, identity: AcceptorIdentity) => Promise<R>): Promise<R> {
    const f = current;
    if (f.down.includes(to)) throw new RegionDownError(`region ${to} is down (fault injection)`);
    if (f.drop_rate > 0 && Math.random() < f.drop_rate) return new Promise<R>(() => {}); // lost
    const delay = this.delay_ms(f, to);
    // The simulated round trip is part of the call, inside the connection it holds: a request's
    // seventh call waits for one of its six to come back, as on the platform.
    const result = await this.inner.call(to, async (stub, identity) => {
      await sleep(delay / 2);
      const reply = await op(stub, identity);
      await sleep(delay / 2);
      return reply;
    });
    if (current.down.includes(to)) throw new RegionDownError(`region ${to} went down (fault injection)`);
    return result;
  }
}
