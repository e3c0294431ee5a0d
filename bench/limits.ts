/**
 * `npm exec -- tsx bench/limits.ts [--quick]`: the per-request platform limits under `wrangler dev`
 * (README, Deploy), which does not enforce them:
 * - CPU per request: sequential requests (one at a time, so each one's CPU is its own), a single
 *   entry and a 1,000-entry batch, replicated to 3 acceptors; the CPU time of the workerd thread that
 *   runs the Worker and all its Durable Objects, divided by the requests. The same for the bench's
 *   unreplicated route (the Worker and one Durable Object, no consensus), which bounds what the
 *   Durable Objects' own work is. Locally the Worker and the acceptors share that thread; in
 *   production the Worker's CPU limit counts only the Worker, so these are upper bounds.
 * - Subrequests per request, as the Worker counts them (`x-debug-subrequests`, fault injection only).
 * - What keeping to 6 connections per request costs: with the proposer simulated in enam
 *   (`rtt_from`), appends and linearizable reads with 3 and 5 regions, one client and 16 concurrent,
 *   with the limit at 6 and lifted (`x-debug-connections-max: 64`, fault injection only).
 * Progress on stderr; the results as JSON on stdout.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clock_ticks_per_s, freePort, WranglerDev } from "../scripts/wrangler-dev.js";
import { EntryFactory, json_headers } from "./client.js";

/** Longer than the bench client's: a 1,000-entry batch on a loaded 2-core machine can take seconds. */
const bench_request_timeout_ms = 60_000;

const quick = process.argv.includes("--quick");
const sizes = quick
  ? { singles: 100, batches: 10, latencyRequests: 20, concurrent: 16, concurrentRounds: 4 }
  : { singles: 400, batches: 30, latencyRequests: 60, concurrent: 16, concurrentRounds: 8 };
const batch_entries = 1000;
const warmup_requests = 10;

interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly subrequests: number | null;
  readonly connectionsPeak: number;
  readonly connectionsQueued: number;
}

async function send(
  base: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(new URL(path, base), {
    method,
    headers: { ...(body === undefined ? { authorization: json_headers.authorization! } : json_headers), ...headers },
    body,
    signal: AbortSignal.timeout(bench_request_timeout_ms),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  const counted = res.headers.get("x-debug-subrequests");
  return {
    status: res.status,
    ms: performance.now() - started,
    subrequests: counted === null ? null : Number(counted),
    connectionsPeak: Number(res.headers.get("x-debug-connections-peak") ?? Number.NaN),
    connectionsQueued: Number(res.headers.get("x-debug-connections-queued") ?? Number.NaN),
  };
}

/** CPU ticks of the workerd process that runs the Worker and its Durable Objects: all threads, and the main one. */
function workerTicks(dev: WranglerDev): { all: number; main: number } {
  const worker = dev.processes().find((p) => p.comm === "workerd" && /--inspector-addr/.test(p.cmdline));
  if (worker === undefined) throw new Error("no workerd process with the Worker found");
  return { all: worker.cpuTicks, main: worker.mainThreadCpuTicks };
}

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

async function cpuPerRequest(dev: WranglerDev, label: string, n: number, request: () => Promise<Answer>) {
  for (let i = 0; i < warmup_requests; i++) await request();
  const before = workerTicks(dev);
  const started = performance.now();
  const answers: Answer[] = [];
  for (let i = 0; i < n; i++) answers.push(await request());
  const after = workerTicks(dev);
  const ms = (ticks: number) => r2(((ticks / clock_ticks_per_s) * 1000) / n);
  const result = {
    label,
    requests: n,
    cpuPerRequest_ms: ms(after.all - before.all),
    mainThreadCpuPerRequest_ms: ms(after.main - before.main),
    wallPerRequest_ms: r2((performance.now() - started) / n),
    subrequests:
      answers[0]?.subrequests === null
        ? null
        : {
            min: Math.min(...answers.map((a) => a.subrequests!)),
            max: Math.max(...answers.map((a) => a.subrequests!)),
          },
  };
  process.stderr.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function latency(
  label: string,
  connectionsMax: number,
  clients: number,
  rounds: number,
  request: (headers: Record<string, string>) => Promise<Answer>,
) {
  const headers = { "x-debug-connections-max": String(connectionsMax) };
  for (let i = 0; i < warmup_requests; i++) await request(headers);
  const answers: Answer[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < rounds; i++) answers.push(await request(headers));
    }),
  );
  const ms = answers.map((a) => a.ms);
  const result = {
    label,
    connectionsMax,
    clients,
    requests: ms.length,
    p50_ms: r1(quantile(ms, 0.5)),
    p90_ms: r1(quantile(ms, 0.9)),
    p99_ms: r1(quantile(ms, 0.99)),
    // At the response; work a request leaves in waitUntil is not in these.
    connectionsPeakMax: Math.max(...answers.map((a) => a.connectionsPeak)),
    requestsThatQueued: answers.filter((a) => a.connectionsQueued > 0).length,
    subrequestsMax: Math.max(...answers.map((a) => a.subrequests ?? 0)),
  };
  process.stderr.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function withDev<T>(regions: string, work: (dev: WranglerDev) => Promise<T>): Promise<T> {
  const persistTo = await mkdtemp(join(tmpdir(), "ql-limits-"));
  const dev = await WranglerDev.start({
    port: await freePort(),
    persistTo,
    label: `limits ${regions}`,
    vars: { ACCEPTOR_REGIONS: regions },
    logLevel: "warn",
  });
  try {
    return await work(dev);
  } finally {
    await dev.stop();
    await rm(persistTo, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const run = `limits-${Date.now().toString(36)}`;
  const make = new EntryFactory(run);
  // Other work on the machine inflates CPU and latency figures: the load is part of the result.
  const out: Record<string, unknown> = {
    quick,
    at: new Date().toISOString(),
    machine_cores: cpus().length,
    loadavg1_at_start: loadavg()[0],
  };

  out.cpu = await withDev("enam,wnam,weur", async (dev) => {
    const ledger = `${run}-cpu`;
    return [
      await cpuPerRequest(dev, "single entry, replicated (3 acceptors)", sizes.singles, () =>
        send(dev.url, "POST", `/v1/ledgers/${ledger}/entries`, make.single("s")),
      ),
      await cpuPerRequest(dev, `${batch_entries}-entry batch, replicated (3 acceptors)`, sizes.batches, () =>
        send(dev.url, "POST", `/v1/ledgers/${ledger}/entries`, make.batch("b", batch_entries)),
      ),
      await cpuPerRequest(dev, "single entry, unreplicated (one Durable Object)", sizes.singles, () =>
        send(dev.url, "POST", `/v1/_bench/unreplicated/${ledger}/entries`, make.single("u")),
      ),
      await cpuPerRequest(dev, `${batch_entries}-entry batch, unreplicated (one Durable Object)`, sizes.batches, () =>
        send(dev.url, "POST", `/v1/_bench/unreplicated/${ledger}/entries`, make.batch("ub", batch_entries)),
      ),
      await cpuPerRequest(dev, "linearizable head read (3 acceptors)", sizes.singles, () =>
        send(dev.url, "GET", `/v1/ledgers/${ledger}/head`, undefined),
      ),
    ];
  });

  const queuing: unknown[] = [];
  for (const regions of ["enam,wnam,weur", "enam,wnam,weur,apac,sam"]) {
    const n = regions.split(",").length;
    queuing.push(
      ...(await withDev(regions, async (dev) => {
        await send(dev.url, "PUT", "/v1/_faults", JSON.stringify({ rtt_from: "enam" }));
        const ledger = `${run}-q${n}`;
        const results = [];
        for (const [clients, rounds] of [
          [1, sizes.latencyRequests],
          [sizes.concurrent, sizes.concurrentRounds],
        ] as const) {
          for (const connectionsMax of [6, 64, 6, 64]) {
            results.push(
              await latency(`${n} regions, single-entry append`, connectionsMax, clients, rounds, (h) =>
                send(dev.url, "POST", `/v1/ledgers/${ledger}/entries`, make.single("q"), h),
              ),
              await latency(`${n} regions, linearizable head read`, connectionsMax, clients, rounds, (h) =>
                send(dev.url, "GET", `/v1/ledgers/${ledger}/head`, undefined, h),
              ),
            );
          }
        }
        return results;
      })),
    );
  }
  out.queuing = queuing;
  out.loadavg1_at_end = loadavg()[0];
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
