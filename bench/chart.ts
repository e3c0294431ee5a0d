/**
 * The bench chart as a hand-written SVG (no dependencies): latency CDFs per mode in units of the
 * quorum RTT, and throughput bars, replicated vs unreplicated, for single entries and batches.
 */

export interface CdfSeries {
  readonly label: string;
  /** Samples in units of the quorum RTT. */
  readonly samples: readonly number[];
  readonly color: string;
  readonly dash?: string;
}

export interface BarGroup {
  readonly title: string;
  readonly bars: ReadonlyArray<{ label: string; value: number; color: string }>;
  /** Below the bars; "\n" separates lines. */
  readonly note: string;
}

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly cdfTitle: string;
  readonly cdf: readonly CdfSeries[];
  /** Vertical reference lines on the CDF (targets), in RTT units. */
  readonly references: ReadonlyArray<{ x: number; label: string }>;
  readonly bars: readonly BarGroup[];
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function thousands(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

export function renderChart(input: ChartInput): string {
  const width = 1040;
  const px = 70;
  const py = 110;
  const pw = 500;
  const ph = 290;
  const legendTop = py + ph + 58;
  const legendRow = 17;
  const height = Math.max(py + ph + 80, legendTop + input.cdf.length * legendRow + 8);
  const font = `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${font} font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="20" y="26" font-size="16" font-weight="600">${esc(input.title)}</text>`);
  out.push(`<text x="20" y="44" fill="#555">${esc(input.subtitle)}</text>`);

  // ---- CDF panel ----
  const all = input.cdf.flatMap((s) => s.samples);
  const lo = Math.max(0, Math.floor(Math.min(0.9, ...all) * 4) / 4);
  const hiData = Math.max(...all.map((x) => Math.min(x, 4)), ...input.references.map((r) => r.x));
  const hi = Math.ceil((hiData + 0.05) * 4) / 4;
  const xOf = (v: number) => px + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * pw;
  const yOf = (p: number) => py + ph - p * ph;
  out.push(`<text x="${px}" y="${py - 14}" font-size="13" font-weight="600">${esc(input.cdfTitle)}</text>`);
  out.push(`<rect x="${px}" y="${py}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  const xStep = niceStep(hi - lo, 8);
  for (let v = Math.ceil(lo / xStep) * xStep; v <= hi + 1e-9; v += xStep) {
    const x = xOf(v);
    out.push(`<line x1="${x.toFixed(1)}" y1="${py}" x2="${x.toFixed(1)}" y2="${py + ph}" stroke="#eee"/>`);
    out.push(
      `<text x="${x.toFixed(1)}" y="${py + ph + 16}" text-anchor="middle" fill="#444">${fmt(Math.round(v * 100) / 100)}</text>`,
    );
  }
  for (let p = 0; p <= 1.0001; p += 0.25) {
    const y = yOf(p);
    out.push(`<line x1="${px}" y1="${y.toFixed(1)}" x2="${px + pw}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    out.push(
      `<text x="${px - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#444">${Math.round(p * 100)}%</text>`,
    );
  }
  out.push(
    `<text x="${px + pw / 2}" y="${py + ph + 34}" text-anchor="middle" fill="#333">commit latency / quorum RTT</text>`,
  );
  out.push(
    `<text x="${px - 48}" y="${py + ph / 2}" text-anchor="middle" fill="#333" transform="rotate(-90 ${px - 48} ${py + ph / 2})">fraction of commits</text>`,
  );
  for (const r of input.references) {
    const x = xOf(r.x);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${py}" x2="${x.toFixed(1)}" y2="${py + ph}" stroke="#c33" stroke-dasharray="2 3" stroke-width="1"/>`,
    );
    out.push(`<text x="${(x + 3).toFixed(1)}" y="${py + 12}" fill="#c33" font-size="10">${esc(r.label)}</text>`);
  }
  input.cdf.forEach((s, i) => {
    const sorted = [...s.samples].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) return;
    // A step function: at each sample the fraction rises by 1/n.
    let d = `M${xOf(sorted[0]!).toFixed(1)},${yOf(0).toFixed(1)}`;
    sorted.forEach((v, k) => {
      const x = xOf(v).toFixed(1);
      d += ` L${x},${yOf(k / n).toFixed(1)} L${x},${yOf((k + 1) / n).toFixed(1)}`;
    });
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
    );
    // Legend, below the panel.
    const ly = legendTop + i * legendRow;
    const lx = px;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
    );
    out.push(`<text x="${lx + 28}" y="${ly}" fill="#222">${esc(s.label)}</text>`);
  });
  if (all.some((x) => x > hi)) {
    out.push(
      `<text x="${px + pw}" y="${py + ph + 34}" text-anchor="end" fill="#777" font-size="10">samples beyond ${fmt(hi)} drawn at the right edge</text>`,
    );
  }

  // ---- bar panels ----
  const groups = input.bars;
  const gx0 = 630;
  const gw = (width - gx0 - 20) / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const gx = gx0 + gi * gw;
    const bx = gx + 40;
    const bw = gw - 50;
    const max = Math.max(1, ...g.bars.map((b) => b.value));
    const step = niceStep(max, 5);
    const top = Math.ceil(max / step) * step;
    const yOfV = (v: number) => py + ph - (v / top) * ph;
    out.push(
      `<text x="${bx + bw / 2}" y="${py - 28}" text-anchor="middle" font-size="13" font-weight="600">${esc(g.title)}</text>`,
    );
    out.push(
      `<text x="${bx + bw / 2}" y="${py - 12}" text-anchor="middle" fill="#555" font-size="11">committed entries/s</text>`,
    );
    for (let v = 0; v <= top + 1e-9; v += step) {
      const y = yOfV(v);
      out.push(`<line x1="${bx}" y1="${y.toFixed(1)}" x2="${bx + bw}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
      out.push(
        `<text x="${bx - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#444" font-size="10">${v >= 1000 ? `${fmt(v / 1000)}k` : fmt(v)}</text>`,
      );
    }
    out.push(`<line x1="${bx}" y1="${py + ph}" x2="${bx + bw}" y2="${py + ph}" stroke="#999"/>`);
    const slot = bw / g.bars.length;
    g.bars.forEach((b, bi) => {
      const x = bx + bi * slot + slot * 0.15;
      const w = slot * 0.7;
      const y = yOfV(b.value);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(py + ph - y).toFixed(1)}" fill="${b.color}"/>`,
      );
      out.push(
        `<text x="${(x + w / 2).toFixed(1)}" y="${(y - 5).toFixed(1)}" text-anchor="middle" fill="#222" font-size="11">${thousands(b.value)}</text>`,
      );
      out.push(
        `<text x="${(x + w / 2).toFixed(1)}" y="${py + ph + 16}" text-anchor="middle" fill="#444" font-size="10">${esc(b.label)}</text>`,
      );
    });
    g.note.split("\n").forEach((line, li) => {
      out.push(
        `<text x="${bx + bw / 2}" y="${py + ph + 36 + li * 15}" text-anchor="middle" fill="#333" font-size="11">${esc(line)}</text>`,
      );
    });
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
