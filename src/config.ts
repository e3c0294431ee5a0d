/**
 * The Worker's configuration, parsed once per isolate from its environment and refused loudly when
 * wrong (a ledger with a bad quorum configuration must not start).
 */
import { z } from "zod";
import { coordinatorRegionFor } from "./core/coordinator/placement.js";
import { limits } from "./core/limits.js";
import { acceptor_counts_supported, type QuorumConfig, quorumConfig } from "./core/quorum.js";
import { isRegionHint, type RegionHint, region_hints } from "./core/region-rtt.js";

export interface LedgerConfig {
  readonly regions: readonly RegionHint[];
  readonly quorum: QuorumConfig;
  readonly faultInjection: boolean;
  /**
   * Subrequests (Durable Object calls) one Worker request may make: Cloudflare's per-request limit
   * for the plan (`SUBREQUESTS_PER_REQUEST_MAX`). A driving request hands over, and a stream ends,
   * before spending it; see the README's Deploy section.
   */
  readonly subrequestsPerRequestMax: number;
  /** Browser origins allowed to call the API cross-origin (`CORS_ALLOWED_ORIGINS`); none by default. */
  readonly corsAllowedOrigins: readonly string[];
  /**
   * Where each ledger's coordinator (the one proposer every Worker forwards to) lives: its Durable
   * Object's location hint (`COORDINATOR_REGION`). By default the region whose worst forwarded ratio
   * over every client region is smallest (`coordinatorRegionFor`): enam for enam,wnam,weur.
   */
  readonly coordinatorRegion: RegionHint;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const optionalCount = z
  .string()
  .regex(/^[1-9]$/, "must be a whole number from 1 to 9")
  .transform(Number)
  .optional();

/**
 * Cloudflare's published per-request subrequest limits: Workers Free 50, Workers Paid 10,000 by
 * default (configurable). The default here is a conservative figure that fits every paid plan; a
 * budget below `subrequests_per_request_min` cannot carry one commit round plus its reads.
 */
export const subrequests_per_request_default = 1000;
export const subrequests_per_request_min = 32;
const subrequestBudget = z
  .string()
  .regex(/^[0-9]{1,8}$/, "must be a whole number")
  .transform(Number)
  .refine((n) => n >= subrequests_per_request_min, `must be at least ${subrequests_per_request_min}`)
  .optional()
  .transform((n) => n ?? subrequests_per_request_default);

export function parseLedgerConfig(env: {
  ACCEPTOR_REGIONS?: string;
  QUORUM_PREPARE?: string;
  QUORUM_ACCEPT?: string;
  ALLOW_FAULT_INJECTION?: string;
  SUBREQUESTS_PER_REQUEST_MAX?: string;
  CORS_ALLOWED_ORIGINS?: string;
  COORDINATOR_REGION?: string;
}): LedgerConfig {
  const raw = (env.ACCEPTOR_REGIONS ?? "enam,wnam,weur")
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
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
  const budget = subrequestBudget.safeParse(
    env.SUBREQUESTS_PER_REQUEST_MAX === undefined || env.SUBREQUESTS_PER_REQUEST_MAX === ""
      ? undefined
      : env.SUBREQUESTS_PER_REQUEST_MAX,
  );
  if (!budget.success) throw new ConfigError(`SUBREQUESTS_PER_REQUEST_MAX ${budget.error.issues[0]?.message}`);
  // A driving request's first group round needs this many calls of each region
  // (src/core/proposer/group-commit.ts, `GroupCommit.quorumCallsAffordable`): below it no append
  // could ever be proposed, so refuse it at startup.
  const round_floor = (limits.round_quorum_calls_min + limits.round_background_messages_per_acceptor) * raw.length;
  if (budget.data < round_floor) {
    throw new ConfigError(
      `SUBREQUESTS_PER_REQUEST_MAX ${budget.data} cannot carry one commit round with ${raw.length} regions: set at least ${round_floor}`,
    );
  }
  // The CORS middleware (src/proposer/cors.ts) compares the browser's `Origin` header to these as
  // exact strings, so each must be written exactly as a browser sends it: http(s)://host[:port], lower
  // case, no default port, no path (not even "/"). "*" is refused: a ledger that moves money names the
  // front-ends it trusts. Anything else is an operator's typo that would silently never match.
  const origins = (env.CORS_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      canonical =
        (url.protocol === "http:" || url.protocol === "https:") && !origin.includes("*") ? url.origin : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin) {
      const hint = canonical === undefined ? "" : `; write it as ${canonical}`;
      throw new ConfigError(
        `CORS_ALLOWED_ORIGINS: ${JSON.stringify(origin.slice(0, 200))} is not an origin (http or https://host[:port], no path, no "*")${hint}`,
      );
    }
  }
  if (new Set(origins).size !== origins.length)
    throw new ConfigError("CORS_ALLOWED_ORIGINS: an origin is listed twice");
  const regions = raw as RegionHint[];
  const coordinator = (env.COORDINATOR_REGION ?? "").trim();
  if (coordinator !== "" && !isRegionHint(coordinator)) {
    throw new ConfigError(
      `COORDINATOR_REGION: unknown location hint ${coordinator.slice(0, 32)}; use one of ${region_hints.join(", ")}`,
    );
  }
  return {
    regions,
    quorum,
    faultInjection: flag === "true" || flag === "1",
    subrequestsPerRequestMax: budget.data,
    corsAllowedOrigins: origins,
    coordinatorRegion: coordinator === "" ? coordinatorRegionFor(regions, quorum.accept, region_hints) : coordinator,
  };
}
