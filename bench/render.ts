/** A bench result as written to `<date>.json`, and its chart and Markdown summary. */
import { type CdfSeries, renderChart } from "./chart.js";
import { bestPair, summaryMarkdown, type Target } from "./report.js";
import { type LatencyScenario, local_floor_mode, type Sizes, type ThroughputScenario } from "./scenarios.js";

export interface BenchResult {
  readonly bench: "quorum-ledger";
  readonly quick: boolean;
  readonly profiled: boolean;
  readonly startedAt: string;
  readonly wall_ms: number;
  readonly scenario_ms: Record<string, number>;
  readonly failures: Record<string, string>;
  readonly environment: {
    readonly node: string;
    readonly platform: string;
    readonly cpu: string;
    readonly cores: number;
    readonly memory_gib: number;
    readonly wrangler: string | undefined;
    readonly workerd: string | undefined;
    readonly autocannon: string | undefined;
    readonly commit: string | undefined;
    readonly persistence: string;
    readonly loadavg_at_start: readonly number[];
  };
  readonly sizes: Sizes;
  readonly targets: readonly Target[];
  readonly scenarios: {
    readonly latency3: LatencyScenario | undefined;
    readonly latency5: LatencyScenario | undefined;
    readonly single: ThroughputScenario | undefined;
    readonly batch: ThroughputScenario | undefined;
  };
}

export function renderResult(result: BenchResult): { svg: string; markdown: string } {
  const { latency3, latency5, single, batch } = result.scenarios;
  const environment = result.environment;
  const date = result.startedAt.slice(0, 10);
  const cdf: CdfSeries[] = [];
  const colors: Record<string, string> = {
    "multi-paxos warm": "#1f6fd1",
    "cold isolate": "#e07b00",
    "classic paxos": "#777777",
    [local_floor_mode]: "#bbbbbb",
  };
  for (const m of latency3?.modes ?? []) {
    const floor = m.mode === local_floor_mode;
    cdf.push({
      label: `3 acceptors: ${floor ? "no simulated RTT" : m.mode} (median ${m.rtt.median.toFixed(2)})`,
      samples: m.samples_ms.map((x) => x / latency3!.quorumRtt_ms),
      color: colors[m.mode] ?? "#000",
      ...(floor ? { dash: "2 2" } : {}),
    });
  }
  for (const m of latency5?.modes ?? []) {
    cdf.push({
      label: `5 acceptors, Q2=2: ${m.mode} (median ${m.rtt.median.toFixed(2)})`,
      samples: m.samples_ms.map((x) => x / latency5!.quorumRtt_ms),
      color: m.mode === "cold isolate" ? "#b85c00" : "#2a9d3c",
      dash: "6 3",
    });
  }
  const bars = [single, batch].flatMap((s) => {
    if (s === undefined) return [];
    const best = bestPair(s);
    return [
      {
        title:
          s.entriesPerRequest === 1 ? "Single entries" : `Batches of ${s.entriesPerRequest.toLocaleString("en-US")}`,
        note: `${best.connections} connections\nreplicated / unreplicated ${best.ratio.toFixed(2)}`,
        bars: [
          { label: "3 acceptors", value: best.replicated.entries_per_s, color: "#1f6fd1" },
          { label: "unreplicated", value: best.unreplicated.entries_per_s, color: "#999999" },
        ],
      },
    ];
  });
  const svg = renderChart({
    title: `Quorum Ledger bench${result.quick ? " (quick)" : ""}, ${date}`,
    subtitle: `wrangler dev on ${environment.cores} × ${environment.cpu}, Node ${environment.node}. Latency: simulated RTT from enam, quorum RTT ${latency3?.quorumRtt_ms ?? latency5?.quorumRtt_ms ?? "?"} ms. Throughput: no simulated RTT.`,
    cdfTitle: "Commit latency CDF (proposer in enam, sequential commits)",
    cdf,
    references: [
      { x: 1, label: "1 RTT" },
      { x: 2, label: "2 RTT" },
    ],
    bars,
  });
  let markdown = summaryMarkdown(result.scenarios, result.targets, environment, {
    quick: result.quick,
    date,
    wall_ms: result.wall_ms,
  });
  const failed = Object.keys(result.failures);
  if (failed.length > 0) markdown += `\n**Failed scenarios** (see the JSON): ${failed.join(", ")}\n`;
  return { svg, markdown };
}
