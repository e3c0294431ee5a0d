/**
 * The Worker's configuration, parsed once per isolate from its environment and refused loudly when
 * wrong (a ledger with a bad quorum configuration must not start).
 */
import { z } from "zod";
import { acceptor_counts_supported, quorumConfig, type QuorumConfig } from "./core/quorum.js";
import { isRegionHint, type RegionHint } from "./core/region-rtt.js";

export interface LedgerConfig {
  readonly regions: readonly RegionHint[];
  readonly quorum: QuorumConfig;
  readonly faultInjection: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const optionalCount = z
  .string()
  .regex(/^[1-9]$/, "must be a whole number from 1 to 9")
  .transform(Number)
  .optional();

export function parseLedgerConfig(env: {
  ACCEPTOR_REGIONS?: string;
  QUORUM_PREPARE?: string;
  QUORUM_ACCEPT?: string;
  ALLOW_FAULT_INJECTION?: string;
}): LedgerConfig {
  const raw = (env.ACCEPTOR_REGIONS ?? "enam,wnam,weur").split(",").map((r) => r.trim()).filter((r) => r !== "");
  const unknown = raw.filter((r) => !isRegionHint(r));
  if (unknown.length > 0) throw new ConfigError(`ACCEPTOR_REGIONS: unknown location hints ${unknown.join(", ")}`);
  if (new Set(raw).size !== raw.length) throw new ConfigError("ACCEPTOR_REGIONS: a region is listed twice");
  if (!(acceptor_counts_supported as readonly number[]).includes(raw.length)) {
    throw new ConfigError(`ACCEPTOR_REGIONS: ${raw.length} regions; use ${acceptor_counts_supported.join(", ")}`);
  }
  const prepare = optionalCount.safeParse(env.QUORUM_PREPARE === "" ? undefined : env.QUORUM_PREPARE);
  const accept = optionalCount.safeParse(env.QUORUM_ACCEPT === "" ? undefined : env.QUORUM_ACCEPT);
  if (!prepare.success) throw new ConfigError(`QUORUM_PREPARE ${prepare.error.issues[0]?.message}`);
  if (!accept.success) throw new ConfigError(`QUORUM_ACCEPT ${accept.error.issues[0]?.message}`);
  let quorum: QuorumConfig;
  try {
    quorum = quorumConfig(raw.length, prepare.data, accept.data);
  } catch (error) {
    throw new ConfigError(`QUORUM_PREPARE/QUORUM_ACCEPT: ${(error as Error).message}`);
  }
  const flag = (env.ALLOW_FAULT_INJECTION ?? "").toLowerCase();
  return { regions: raw as RegionHint[], quorum, faultInjection: flag === "true" || flag === "1" };
}
