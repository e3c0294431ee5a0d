/**
 * The Markdown summary of a `--proposers` run (both designs of issue #12 side by side), and issue
 * #12's bench target checked against it, per design.
 */
import {
  type BenchDesign,
  bench_designs,
  type ProposersLoad,
  type ProposersRun,
  type ProposersScenario,
  type ProposersSizes,
} from "./proposers.js";
import type { BenchResult } from "./render.js";

type BenchEnvironment = BenchResult["environment"];

/** A `--proposers` run as written to `<date>-proposers-designs[-quick].json`. */
export interface ProposersResult {
  readonly bench: "quorum-ledger-proposers";
  readonly quick: boolean;
  readonly startedAt: string;
  readonly wall_ms: number;
  readonly counts: readonly number[];
  readonly designs: readonly BenchDesign[];
  readonly sizes: ProposersSizes;
  readonly environment: BenchEnvironment;
  /** Issue #12's bench target per design: k = 4 against k = 1 entries/s at 64 clients, same design. */
  readonly k4ThroughputRatios: Readonly<Partial<Record<BenchDesign, number | null>>>;
  readonly scenario: ProposersScenario | undefined;
  readonly failure: string | undefined;
}

/**
 * A `--proposers` run from before the coordinator (`<date>-proposers[-quick].json`): the direct
 * design alone, its runs without a `design`, its Workers without a floor.
 */
export interface LegacyProposersResult extends Omit<ProposersResult, "designs" | "k4ThroughputRatios" | "scenario"> {
  readonly designs?: undefined;
  readonly scenario:
    | (Omit<ProposersScenario, "designs" | "coordinatorRegion" | "runs"> & {
        readonly runs: ReadonlyArray<Omit<ProposersRun, "design">>;
      })
    | undefined;
}

/** Whether a saved result is a run of both designs (else one from before the coordinator). */
export function isDesignsResult(saved: ProposersResult | LegacyProposersResult): saved is ProposersResult {
  return saved.designs !== undefined;
}

/** A legacy result read as a run of the direct design alone, so `--from` can re-render it. */
export function fromLegacy(saved: LegacyProposersResult): ProposersResult {
  const s = saved.scenario;
  const scenario: ProposersScenario | undefined = s && {
    ...s,
    coordinatorRegion: null,
    designs: ["direct"],
    runs: s.runs.map((r) => ({
      ...r,
      design: "direct",
      loads: r.loads.map((l) => ({ ...l, proposers: l.proposers.map((p) => ({ ...p, floor_rtt: 1 })) })),
    })),
  };
  return {
    ...saved,
    designs: ["direct"],
    k4ThroughputRatios: { direct: scenario ? (k4ThroughputRatio(scenario, "direct") ?? null) : null },
    scenario,
  };
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

/** `non-2xx` with its codes: `64 (503×64)`. */
function non2xx(l: ProposersLoad): string {
  const codes = Object.entries(l.statusCodes ?? {})
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, n]) => `${code}×${n}`);
  return codes.length > 0 ? `${l.requests_non2xx} (${codes.join(", ")})` : `${l.requests_non2xx}`;
}

const fmt = (x: number | undefined | null, digits = 2) =>
  x === undefined || x === null || Number.isNaN(x) ? "–" : x.toFixed(digits);

function loadOf(
  s: ProposersScenario,
  design: BenchDesign,
  k: number,
  load: ProposersLoad["load"],
): ProposersLoad | undefined {
  return s.runs.find((r) => r.design === design && r.k === k)?.loads.find((l) => l.load === load);
}

/** The k = 4 against k = 1 throughput ratio at 64 clients within one design, when both ran. */
export function k4ThroughputRatio(s: ProposersScenario, design: BenchDesign): number | undefined {
  const one = loadOf(s, design, 1, "loaded");
  const four = loadOf(s, design, 4, "loaded");
  return one && four && one.entries_per_s > 0 ? four.entries_per_s / one.entries_per_s : undefined;
}

/** The ratio for every design of the run. */
export function k4ThroughputRatios(s: ProposersScenario): Partial<Record<BenchDesign, number | null>> {
  return Object.fromEntries(s.designs.map((d) => [d, k4ThroughputRatio(s, d) ?? null]));
}

/** What each design is, for the summary's prose. */
function designProse(s: ProposersScenario): string {
  const prose: Record<BenchDesign, string> = {
    coordinator: `*coordinator* (production): the k Workers forward every append over their simulated hop to the ledger's coordinator, which runs the one proposer, simulated in ${s.coordinatorRegion ?? "?"}; the Worker's append time includes the hop`,
    direct: "*direct* (the design before issue #12, the baseline): the k Workers are proposers of their own",
  };
  return bench_designs
    .filter((d) => s.designs.includes(d))
    .map((d) => prose[d])
    .join("; ");
}

export function proposersMarkdown(
  s: ProposersScenario,
  environment: BenchEnvironment,
  run: { readonly quick: boolean; readonly date: string; readonly wall_ms: number },
): string {
  const lines: string[] = [];
  const both = s.designs.length > 1;
  lines.push(
    `Measured by \`npm run bench -- --proposers ${[...new Set(s.runs.map((r) => r.k))].join(",")}${run.quick ? " --quick" : ""}\` on ${run.date}: \`wrangler dev\` ${environment.wrangler ?? "?"} on ${environment.cores} × ${environment.cpu}, Node ${environment.node}; the whole run took ${Math.round(run.wall_ms / 1000)} s.`,
    "",
    `k Worker isolates of one ledger (the bench's k-proposer mode), acceptors ${s.acceptors.join(",")} (Q1=${s.quorum.prepare}, Q2=${s.quorum.accept}), each Worker in its own simulated region (in turn ${[...new Set(s.runs.flatMap((r) => r.regions))].join(", ")}); appends taken by each Worker in turn. ${both ? "Both designs, in the same run" : "One design"}: ${designProse(s)}. Each design and count has its own ledger. Closed loop of single-entry POSTs, ${s.sizes.rounds} round(s)${both ? ", each over every count with both designs at each count," : " over the counts"} in alternating order (the next round reverses the counts${both ? " and the designs" : ""}), each round with new Workers${both ? " (and a new coordinator proposer)" : ""}, a ${s.sizes.warmup_s} s warm-up and ${s.sizes.load_s} s per load: *light* is one client per Worker, *loaded* 64 clients; figures summed over the rounds. *vs k=1* is within the same design. Latency in units of the quorum RTT is each Worker's own append time (server side, from the call to the outcome) over *its own* quorum RTT, all k pooled; the client's latency is of its 2xx answers (a 503 comes at the append's deadline). Phase 1 runs, slots chosen per second (over the loads and their drains) and entries per slot (the group commit's batch) are the ledger's proposer's: the coordinator's, or the k direct proposers' added up. Other processes on this machine took the cores shown: the figures are only comparable within one run.`,
    "",
    "| design | k | load | clients | entries/s | vs k=1 | client p50 (ms) | client p99 (ms) | own-RTT median | p99 | max | phase 1 runs | slots/s | entries/slot | non-2xx | errors | other processes (cores) | simulator target |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const r of s.runs) {
    for (const l of r.loads) {
      const base = loadOf(s, r.design, 1, l.load);
      const vs = base && base.entries_per_s > 0 ? l.entries_per_s / base.entries_per_s : undefined;
      lines.push(
        `| ${r.design} | ${r.k} | ${l.load} | ${l.connections} | ${fmt(l.entries_per_s, 0)} | ${fmt(vs)} | ${fmt(l.client_ms?.median, 0)} | ${fmt(l.client_ms?.p99, 0)} | ${fmt(l.rtt?.median)} | ${fmt(l.rtt?.p99)} | ${fmt(l.rtt?.max)} | ${l.stats.phase1_runs ?? 0} | ${fmt(l.slots_per_s, 1)} | ${fmt(l.entries_per_slot, 1)} | ${non2xx(l)} | ${l.errors + l.timeouts} | ${fmt(l.cpu.otherProcesses_cores)} | ${l.load === "light" ? (simulator_targets[r.k] ?? "–") : "–"} |`,
      );
    }
  }
  lines.push(
    "",
    "Each Worker on its own, in units of its own quorum RTT; *floor* is the least an append can take: 1 for a proposer of its own, the hop to the coordinator plus the coordinator's quorum RTT for a forwarder (which runs no phase 1: the coordinator does):",
    "",
    "| design | k | load | Worker | region | quorum RTT (ms) | floor | appends timed | median | p99 | max | failed | phase 1 runs |",
    "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of s.runs) {
    for (const l of r.loads) {
      for (const [i, p] of l.proposers.entries()) {
        lines.push(
          `| ${r.design} | ${r.k} | ${l.load} | ${i + 1} | ${p.rtt_from} | ${p.quorumRtt_ms} | ${fmt(p.floor_rtt)} | ${p.appends} | ${fmt(p.rtt?.median)} | ${fmt(p.rtt?.p99)} | ${fmt(p.rtt?.max)} | ${p.failed} | ${p.phase1_runs ?? "–"} |`,
        );
      }
    }
  }
  lines.push(
    "",
    "Issue #12's bench target, from this run (the target is stated for the chosen design, the coordinator; the direct design's ratio is the baseline's):",
    "",
    "| target | design | measured | limit | met |",
    "|---|---|---:|---|---|",
  );
  for (const design of s.designs) {
    const ratio = k4ThroughputRatio(s, design);
    lines.push(
      `| k = 4, 64 clients: entries/s / k = 1's | ${design} | ${fmt(ratio, 3)} | ≥ ${k4_throughput_ratio_min} | ${ratio === undefined ? "–" : ratio >= k4_throughput_ratio_min ? "yes" : "**no**"} |`,
    );
  }
  if (s.designs.includes("coordinator") && s.designs.includes("direct")) {
    // Not the target, but what the coordinator costs against one Worker proposing alone.
    const one = loadOf(s, "direct", 1, "loaded");
    const four = loadOf(s, "coordinator", 4, "loaded");
    const across = one && four && one.entries_per_s > 0 ? four.entries_per_s / one.entries_per_s : undefined;
    lines.push(
      `| for comparison: coordinator k = 4 against direct k = 1 (one Worker proposing alone), 64 clients | both | ${fmt(across, 3)} | – | – |`,
    );
  }
  lines.push("");
  if (s.workerErrors.length > 0) lines.push(`Worker errors logged: ${s.workerErrors.length} (see the JSON).`, "");
  return lines.join("\n");
}
