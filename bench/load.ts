/**
 * Closed-loop load with autocannon: `connections` clients, each posting a fresh body (unique ids)
 * as soon as its previous response arrives, for a fixed duration.
 */
import autocannon from "autocannon";
import { json_headers } from "./client.js";

/** autocannon gives up on a request after this many seconds (it counts as a timeout). */
const load_request_timeout_s = 15;

export interface LoadOptions {
  readonly base: string;
  readonly path: string;
  readonly connections: number;
  readonly duration_s: number;
  /** A new body for every request. */
  readonly body: () => string;
  readonly entriesPerRequest: number;
  /** Called about once a second with the responses so far. */
  readonly onTick?: (elapsed_s: number, responses2xx: number, responsesOther: number) => void;
}

export interface LoadResult {
  readonly path: string;
  readonly connections: number;
  readonly entriesPerRequest: number;
  readonly duration_s: number;
  readonly requests_2xx: number;
  readonly requests_non2xx: number;
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  /** 2xx responses × entries per request. */
  readonly entries_committed: number;
  readonly entries_per_s: number;
  readonly requests_per_s: number;
  /**
   * The rate between the first and the last 2xx response of the run, (n − 1) × entries / (t_last −
   * t_first): the steady state of the closed loop, without the ramp-up while the first requests are
   * in flight. It matters for big batches, whose first answers take seconds.
   */
  readonly steady_entries_per_s: number;
  /** When the first 2xx response came, from the start of the run (s). */
  readonly firstOk_s: number;
  /** Between the first and the last 2xx response (s). */
  readonly okSpan_s: number;
  /** Latency of every response, from autocannon's histogram (ms). */
  readonly latency_ms: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
}

/** The latency of every 2xx response too (ms), for percentiles over several runs; not for the JSON. */
export type LoadResultWithSamples = LoadResult & { readonly okLatencies_ms: number[] };

export async function runLoad(o: LoadOptions): Promise<LoadResultWithSamples> {
  const url = new URL(o.path, o.base);
  if (url.hostname !== "127.0.0.1") throw new Error(`the bench only loads 127.0.0.1, not ${url.hostname}`);
  let ok = 0;
  let other = 0;
  let firstOk = Number.NaN;
  let lastOk = Number.NaN;
  const okLatencies_ms: number[] = [];
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.href,
        method: "POST",
        headers: { ...json_headers },
        connections: o.connections,
        duration: o.duration_s,
        timeout: load_request_timeout_s,
        requests: [{ setupRequest: (request) => ({ ...request, body: o.body() }) }],
      },
      (error, r) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(r)),
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) {
        ok++;
        okLatencies_ms.push(responseTime);
        const now = performance.now();
        if (ok === 1) firstOk = now;
        lastOk = now;
      } else other++;
    });
    instance.on("tick", () => o.onTick?.((performance.now() - started) / 1000, ok, other));
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
  const duration_s = result.duration;
  const entries = result["2xx"] * o.entriesPerRequest;
  return {
    path: o.path,
    connections: o.connections,
    entriesPerRequest: o.entriesPerRequest,
    duration_s,
    requests_2xx: result["2xx"],
    requests_non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    entries_committed: entries,
    entries_per_s: entries / duration_s,
    requests_per_s: result["2xx"] / duration_s,
    steady_entries_per_s:
      ok >= 2 && lastOk > firstOk ? ((ok - 1) * o.entriesPerRequest) / ((lastOk - firstOk) / 1000) : Number.NaN,
    firstOk_s: Math.round((firstOk - started) / 10) / 100,
    okSpan_s: ok >= 2 ? (lastOk - firstOk) / 1000 : 0,
    okLatencies_ms,
    latency_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
  };
}
