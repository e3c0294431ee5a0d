/** Issue #4's targets checked against a run, and the Markdown summary that README pastes. */
import type { LatencyScenario, ThroughputScenario } from "./scenarios.js";

export interface Scenarios {
  readonly latency3: LatencyScenario | undefined;
  readonly latency5: LatencyScenario | undefined;
  readonly single: ThroughputScenario | undefined;
  readonly batch: ThroughputScenario | undefined;
}

export interface Target {
  readonly target: string;
  readonly measured: number;
  readonly limit: string;
  readonly met: boolean;
}

/** The connection count with the best replicated figure, and the unreplicated figure at the same count. */
export function bestPair(s: ThroughputScenario) {
  const counts = [...new Set(s.runs.map((r) => r.connections))];
  const pairs = counts.map((connections) => {
    const replicated = s.runs.find((r) => r.connections === connections && r.target === "replicated")!;
    const unreplicated = s.runs.find((r) => r.connections === connections && r.target === "unreplicated")!;
    return { connections, replicated, unreplicated, ratio: replicated.entries_per_s / unreplicated.entries_per_s };
  });
  return pairs.reduce((a, b) => (b.replicated.entries_per_s > a.replicated.entries_per_s ? b : a));
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function targetsOf(s: Scenarios): Target[] {
  const t: Target[] = [];
  const mode = (sc: LatencyScenario | undefined, name: string) => sc?.modes.find((m) => m.mode === name);
  const warm3 = mode(s.latency3, "multi-paxos warm");
  const cold3 = mode(s.latency3, "cold isolate");
  const classic3 = mode(s.latency3, "classic paxos");
  const warm5 = mode(s.latency5, "multi-paxos warm");
  if (warm3) {
    t.push({
      target: "3 acceptors: warm median / quorum RTT",
      measured: r3(warm3.rtt.median),
      limit: "≤ 1.15",
      met: warm3.rtt.median <= 1.15,
    });
    t.push({
      target: "3 acceptors: warm p99 / quorum RTT",
      measured: r3(warm3.rtt.p99),
      limit: "≤ 1.5",
      met: warm3.rtt.p99 <= 1.5,
    });
  }
  if (cold3) {
    t.push({
      target: "3 acceptors: cold isolate's first request, median / quorum RTT",
      measured: r3(cold3.rtt.median),
      limit: "≤ 2.3",
      met: cold3.rtt.median <= 2.3,
    });
  }
  if (classic3) {
    t.push({
      target: "3 acceptors: classic Paxos median / quorum RTT (baseline)",
      measured: r3(classic3.rtt.median),
      limit: "≈ 2.0 (reported)",
      met: true,
    });
    if (warm3) {
      t.push({
        target: "3 acceptors: warm median / classic median",
        measured: r3(warm3.ms.median / classic3.ms.median),
        limit: "reported",
        met: true,
      });
    }
  }
  if (warm5) {
    t.push({
      target: "5 acceptors Q2=2: warm median / RTT to the 2nd nearest",
      measured: r3(warm5.rtt.median),
      limit: "≤ 1.15",
      met: warm5.rtt.median <= 1.15,
    });
  }
  if (s.single) {
    const p = bestPair(s.single);
    t.push({
      target: `single entries, ${p.connections} clients: replicated / unreplicated entries/s`,
      measured: r3(p.ratio),
      limit: "≥ 1.0",
      met: p.ratio >= 1.0,
    });
    const calls = p.replicated.proposer?.acceptorCallsPerEntry ?? Number.NaN;
    t.push({
      target: `single entries, ${p.connections} clients: acceptor calls per committed entry`,
      measured: r3(calls),
      limit: "≤ 0.25",
      met: calls <= 0.25,
    });
  }
  if (s.batch) {
    const p = bestPair(s.batch);
    t.push({
      target: `batches of ${s.batch.entriesPerRequest}, ${p.connections} conn.: replicated entries/s`,
      measured: Math.round(p.replicated.entries_per_s),
      limit: "≥ 20,000",
      met: p.replicated.entries_per_s >= 20_000,
    });
    t.push({
      target: `batches of ${s.batch.entriesPerRequest}, ${p.connections} conn.: replicated / unreplicated entries/s`,
      measured: r3(p.ratio),
      limit: "reported",
      met: true,
    });
  }
  return t;
}

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");

export function summaryMarkdown(
  s: Scenarios,
  targets: readonly Target[],
  env: { node: string; cpu: string; cores: number; wrangler?: string | undefined },
  run: { quick: boolean; date: string; wall_ms: number },
): string {
  const lines: string[] = [];
  lines.push(
    `Measured by \`npm run bench${run.quick ? " -- --quick" : ""}\` on ${run.date}: \`wrangler dev\`${env.wrangler ? ` ${env.wrangler}` : ""} on ${env.cores} × ${env.cpu}, Node ${env.node}; the whole run took ${(run.wall_ms / 1000).toFixed(0)} s.`,
    "",
  );
  const latency = [s.latency3, s.latency5].filter((x): x is LatencyScenario => x !== undefined);
  if (latency.length > 0) {
    lines.push(
      'Commit latency, sequential single-entry POSTs from one client, proposer simulated in enam (`{"rtt_from":"enam"}`), in units of the quorum RTT (to the Q2-th nearest acceptor):',
      "",
      "| cluster | mode | quorum RTT (ms) | samples | median (ms) | median | p90 | p99 | max | vs classic median | failed |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const sc of latency) {
      const classic =
        sc.modes.find((m) => m.mode === "classic paxos") ?? s.latency3?.modes.find((m) => m.mode === "classic paxos");
      const cluster = `${sc.regions.length} acceptors ${sc.regions.join(",")} (Q1=${sc.quorum.prepare}, Q2=${sc.quorum.accept})`;
      for (const m of sc.modes) {
        const vs = classic ? (m.ms.median / classic.ms.median).toFixed(2) : "–";
        lines.push(
          `| ${cluster} | ${m.mode} | ${sc.quorumRtt_ms} | ${m.ms.n} | ${m.ms.median.toFixed(1)} | ${m.rtt.median.toFixed(2)} | ${m.rtt.p90.toFixed(2)} | ${m.rtt.p99.toFixed(2)} | ${m.rtt.max.toFixed(2)} | ${vs} | ${m.failures} |`,
        );
      }
    }
    lines.push("");
  }
  const throughput = [s.single, s.batch].filter((x): x is ThroughputScenario => x !== undefined);
  if (throughput.length > 0) {
    lines.push(
      "Throughput, no simulated RTT, closed loop (autocannon), 3 acceptors enam,wnam,weur against the same requests written straight to one Durable Object (unreplicated):",
      "",
      "| entries per POST | connections | target | duration (s) | entries/s | entries/s, steady | POSTs/s | p50 (ms) | p99 (ms) | non-2xx | errors | entries per slot | acceptor calls per entry | Worker+DO workerd main thread (cores) | all workerd (cores) | load generator (cores) |",
      "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const sc of throughput) {
      for (const r of sc.runs) {
        lines.push(
          `| ${n0(sc.entriesPerRequest)} | ${r.connections} | ${r.target} | ${r.duration_s.toFixed(1)} | ${n0(r.entries_per_s)} | ${Number.isFinite(r.steady_entries_per_s) ? n0(r.steady_entries_per_s) : "–"} | ${r.requests_per_s.toFixed(1)} | ${r.latency_ms.p50} | ${r.latency_ms.p99} | ${r.requests_non2xx} | ${r.errors} | ${r.proposer ? r.proposer.entriesPerSlot.toFixed(1) : "–"} | ${r.proposer ? r.proposer.acceptorCallsPerEntry.toFixed(3) : "–"} | ${r.cpu.userWorkerdMainThread_cores.toFixed(2)} | ${r.cpu.workerd_cores.toFixed(2)} | ${r.cpu.loadGenerator_cores.toFixed(2)} |`,
        );
      }
    }
    const other = Math.max(
      ...throughput.flatMap((sc) => sc.runs.map((r) => r.cpu.otherProcesses_cores + r.cpu.steal_cores)),
    );
    lines.push(
      "",
      `Each figure sums ${throughput[0]!.runs[0]!.segments.length} segment(s), replicated and unreplicated alternating. Other processes on the machine (and hypervisor steal) took at most ${other.toFixed(2)} cores on average over a run.`,
    );
    lines.push("");
  }
  if (targets.length > 0) {
    lines.push("Issue #4's targets, from this run:", "", "| target | measured | limit | met |", "|---|---:|---|---|");
    for (const t of targets)
      lines.push(
        `| ${t.target} | ${t.measured.toLocaleString("en-US")} | ${t.limit} | ${t.limit.startsWith("≤") || t.limit.startsWith("≥") ? (t.met ? "yes" : "**no**") : "–"} |`,
      );
    lines.push("");
  }
  return lines.join("\n");
}
