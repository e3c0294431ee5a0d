/** Who an acceptor Durable Object is: its ledger, its region, and the group it belongs to. */
import type { RegionHint } from "../core/region-rtt.js";

export interface AcceptorIdentity {
  readonly ledger: string;
  readonly region: RegionHint;
  readonly regions: readonly RegionHint[];
  readonly acceptQuorum: number;
}

/** Durable Object name of one acceptor: `${ledger}:${region}` (docs/design.md section 1). */
export function acceptorName(ledger: string, region: string): string {
  return `${ledger}:${region}`;
}
