/** The Markdown summary of a `--proposers` run, and issue #12's bench target checked against it. */
import type { ProposersLoad, ProposersScenario, ProposersSizes } from "./proposers.js";
import type { BenchResult } from "./render.js";

type BenchEnvironment = BenchResult["environment"];

/** A `--proposers` run as written to `<date>-proposers[-quick].json`. */
export interface ProposersResult {
  readonly bench: "quorum-ledger-proposers";
  readonly quick: boolean;
  readonly startedAt: string;
  readonly wall_ms: number;
  readonly counts: readonly number[];
  readonly sizes: ProposersSizes;
  readonly environment: BenchEnvironment;
  /** Issue #12's bench target: k = 4 against k = 1 entries/s at 64 clients. */
  readonly k4ThroughputRatio: number | null;
  readonly scenario: ProposersScenario | undefined;
  readonly failure: string | undefined;
}

/** Issue #12: with k = 4, replicated entries/s at 64 clients at least this fraction of k = 1's, same run. */
export const k4_throughput_ratio_min = 0.9;

/**
 * Issue #12's latency targets for the simulator (per proposer, units of its own quorum RTT), printed
 * beside the bench's figures: the simulator's are the ones that count.
 */
const simulator_targets: Readonly<Record<number, string>> = {
  1: "no regression: warm 1.14 / 1.22",
  4: "median ≤ 1.5, p99 ≤ 3.0, max ≤ 6",
  8: "median ≤ 2.0, p99 ≤ 4.0",
};

const fmt = (x: number | undefined | null, digits = 2) =>
  x === undefined || x === null || Number.isNaN(x) ? "–" : x.toFixed(digits);

function loadOf(s: ProposersScenario, k: number, load: ProposersLoad["load"]): ProposersLoad | undefined {
  return s.runs.find((r) => r.k === k)?.loads.find((l) => l.load === load);
}

/** The k = 4 against k = 1 throughput ratio at 64 clients, when both ran. */
export function k4ThroughputRatio(s: ProposersScenario): number | undefined {
  const one = loadOf(s, 1, "loaded");
  const four = loadOf(s, 4, "loaded");
  return one && four && one.entries_per_s > 0 ? four.entries_per_s / one.entries_per_s : undefined;
}

export function proposersMarkdown(
  s: ProposersScenario,
  environment: BenchEnvironment,
  run: { readonly quick: boolean; readonly date: string; readonly wall_ms: number },
): string {
  const lines: string[] = [];
  lines.push(
    `Measured by \`npm run bench -- --proposers ${s.runs.map((r) => r.k).join(",")}${run.quick ? " --quick" : ""}\` on ${run.date}: \`wrangler dev\` ${environment.wrangler ?? "?"} on ${environment.cores} × ${environment.cpu}, Node ${environment.node}; the whole run took ${Math.round(run.wall_ms / 1000)} s.`,
    "",
    `k proposers of one ledger inside the Worker's isolate (the bench's k-proposer mode), acceptors ${s.acceptors.join(",")} (Q1=${s.quorum.prepare}, Q2=${s.quorum.accept}), each proposer in its own simulated region (in turn ${[...new Set(s.runs.flatMap((r) => r.regions))].join(", ")}); appends taken by each proposer in turn. Closed loop of single-entry POSTs, ${s.sizes.rounds} round(s) over the counts in alternating order, each round with new proposers, a ${s.sizes.warmup_s} s warm-up and ${s.sizes.load_s} s per load: *light* is one client per proposer, *loaded* 64 clients; figures summed over the rounds. Latency in units of the quorum RTT is each proposer's own append time (server side, from the call to the outcome) over *its own* quorum RTT, all proposers pooled; the client's latency is of its 2xx answers (a 503 comes at the append's deadline). Other processes on this machine took the cores shown: the figures are only comparable within one run.`,
    "",
    "| k | load | clients | entries/s | vs k=1 | client p50 (ms) | client p99 (ms) | own-RTT median | p99 | max | phase 1 runs | non-2xx | errors | other processes (cores) | simulator target |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const r of s.runs) {
    for (const l of r.loads) {
      const base = loadOf(s, 1, l.load);
      const vs = base && base.entries_per_s > 0 ? l.entries_per_s / base.entries_per_s : undefined;
      lines.push(
        `| ${r.k} | ${l.load} | ${l.connections} | ${fmt(l.entries_per_s, 0)} | ${fmt(vs)} | ${fmt(l.client_ms?.median, 0)} | ${fmt(l.client_ms?.p99, 0)} | ${fmt(l.rtt?.median)} | ${fmt(l.rtt?.p99)} | ${fmt(l.rtt?.max)} | ${l.stats.phase1_runs ?? 0} | ${l.requests_non2xx} | ${l.errors + l.timeouts} | ${fmt(l.cpu.otherProcesses_cores)} | ${l.load === "light" ? (simulator_targets[r.k] ?? "–") : "–"} |`,
      );
    }
  }
  lines.push(
    "",
    "Each proposer on its own, in units of its own quorum RTT:",
    "",
    "| k | load | proposer | region | quorum RTT (ms) | appends timed | median | p99 | max | failed | phase 1 runs |",
    "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of s.runs) {
    for (const l of r.loads) {
      for (const [i, p] of l.proposers.entries()) {
        lines.push(
          `| ${r.k} | ${l.load} | ${i + 1} | ${p.rtt_from} | ${p.quorumRtt_ms} | ${p.appends} | ${fmt(p.rtt?.median)} | ${fmt(p.rtt?.p99)} | ${fmt(p.rtt?.max)} | ${p.failed} | ${p.phase1_runs} |`,
        );
      }
    }
  }
  const ratio = k4ThroughputRatio(s);
  lines.push(
    "",
    "Issue #12's bench target, from this run:",
    "",
    "| target | measured | limit | met |",
    "|---|---:|---|---|",
    `| k = 4, 64 clients: entries/s / k = 1's | ${fmt(ratio, 3)} | ≥ ${k4_throughput_ratio_min} | ${ratio === undefined ? "–" : ratio >= k4_throughput_ratio_min ? "yes" : "**no**"} |`,
    "",
  );
  if (s.workerErrors.length > 0) lines.push(`Worker errors logged: ${s.workerErrors.length} (see the JSON).`, "");
  return lines.join("\n");
}
