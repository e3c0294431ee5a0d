/**
 * The commit rate and commit latency charts: uPlot, loaded by the page as its own script
 * (/assets/uplot.js, the global `uPlot`), drawn from the samples of the status polls.
 */
import type uPlot from "uplot";
import type { LedgerStatus } from "../../client/index.js";
import { byId, setText } from "./dom.js";
import { fmtNumber, fmtSpan } from "./format.js";

declare global {
  interface Window {
    /** Set by /assets/uplot.js; missing when that script did not load. */
    uPlot?: typeof uPlot;
  }
}

/** The commits summary of a status answer. */
export type Commits = NonNullable<LedgerStatus["commits"]>;

/** Points kept per chart series: 300 polls of 2 s, the last ten minutes. */
const chart_points_max = 300;
const chart_height_px = 180;
const chart_width_px_min = 200;

/** One sample per poll; null where a value is unknown (a gap in the line). */
const samples = {
  t: [] as number[],
  rate: [] as (number | null)[],
  p50: [] as (number | null)[],
  p99: [] as (number | null)[],
};
/** The head of the previous poll, for the commit rate. */
let lastHead: { t_s: number; seq: number } | undefined;

const charts: { chart: uPlot; el: HTMLElement }[] = [];
let rateChart: uPlot | undefined;
let latencyChart: uPlot | undefined;

function pushSample(t_s: number, rate: number | null, p50: number | null, p99: number | null): void {
  samples.t.push(t_s);
  samples.rate.push(rate);
  samples.p50.push(p50);
  samples.p99.push(p99);
  if (samples.t.length > chart_points_max) {
    for (const series of Object.values(samples)) series.shift();
  }
}

export function resetSamples(): void {
  for (const series of Object.values(samples)) series.length = 0;
  lastHead = undefined;
}

function makeChart(elementId: string, series: uPlot.Series[], yLabel: string): uPlot | undefined {
  const el = byId(elementId);
  const Chart = window.uPlot;
  if (typeof Chart !== "function") {
    setText(el, "The chart library did not load.");
    return undefined;
  }
  const axis: uPlot.Axis = {
    stroke: "#1b1f24",
    grid: { stroke: "#e3e6ea", width: 1 },
    ticks: { stroke: "#c9ced6", width: 1 },
  };
  const opts: uPlot.Options = {
    width: Math.max(chart_width_px_min, el.clientWidth),
    height: chart_height_px,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max === null ? 1 : max * 1.1)] } },
    series: [{ label: "time" }, ...series],
    axes: [axis, { ...axis, label: yLabel, size: 56 }],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new Chart(opts, [samples.t, ...series.map(() => [])], el);
  charts.push({ chart, el });
  return chart;
}

/** Makes both charts (once, at start) and keeps their width that of their box. */
export function makeCharts(): void {
  rateChart = makeChart(
    "rate-chart",
    [{ label: "entries/s", stroke: "#1a56db", width: 2, fill: "rgba(26, 86, 219, 0.08)" }],
    "entries/s",
  );
  latencyChart = makeChart(
    "latency-chart",
    [
      { label: "p50 ms", stroke: "#0b7a3e", width: 2 },
      { label: "p99 ms", stroke: "#b3261e", width: 2, dash: [6, 3] },
    ],
    "ms",
  );
  observeChartWidths();
}

export function drawCharts(): void {
  rateChart?.setData([samples.t, samples.rate]);
  latencyChart?.setData([samples.t, samples.p50, samples.p99]);
}

/**
 * The charts' text summaries (the charts themselves are images to a screen reader). `commits` is
 * undefined when the poll failed (the last latency summary stands) and null for a key without the
 * admin scope.
 */
function summarizeCharts(commits: Commits | null | undefined): void {
  const rates = samples.rate.filter((v) => v !== null);
  const latest = rates.at(-1);
  const span_s = (samples.t.at(-1) ?? 0) - (samples.t[0] ?? 0);
  setText(
    byId("rate-summary"),
    rates.length === 0
      ? "No commit rate yet: it needs two polls."
      : `Latest ${fmtNumber(latest, 1)} entries/s; peak ${fmtNumber(Math.max(...rates), 1)} entries/s over the last ${fmtSpan(span_s)}.`,
  );
  if (commits === undefined) return; // this poll failed: the last summary stands
  const l = commits === null ? null : commits.latency_ms;
  setText(
    byId("latency-summary"),
    commits === null
      ? "Commit latency comes with the replica status, which needs a key with the admin scope."
      : l
        ? `Over the last ${commits.window_s} s: ${commits.commits} commits of ${commits.entries} entries; latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms.`
        : "No commit in the last minute.",
  );
}

/**
 * Adds one poll's sample: the head seq (null when unknown) gives the commit rate since the previous
 * poll; the commits summary gives the latency. Then redraws and summarizes.
 */
export function recordSample(seq: number | null, commits: Commits | null | undefined): void {
  const t_s = Date.now() / 1000;
  let rate: number | null = null;
  if (seq !== null) {
    if (lastHead !== undefined && seq >= lastHead.seq && t_s > lastHead.t_s)
      rate = (seq - lastHead.seq) / (t_s - lastHead.t_s);
    lastHead = { t_s, seq };
  }
  const l = commits ? commits.latency_ms : null;
  pushSample(t_s, rate, l ? l.p50 : null, l ? l.p99 : null);
  drawCharts();
  summarizeCharts(commits);
}

function observeChartWidths(): void {
  if (typeof ResizeObserver !== "function") return;
  let frame = 0;
  const resize = () => {
    frame = 0;
    for (const { chart, el } of charts) {
      const width = Math.max(chart_width_px_min, el.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: chart.height });
    }
  };
  const observer = new ResizeObserver(() => {
    if (frame === 0) frame = requestAnimationFrame(resize);
  });
  for (const { el } of charts) observer.observe(el);
}
