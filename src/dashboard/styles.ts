/**
 * The dashboard's stylesheet (served as /assets/dashboard.css). Colours are chosen for contrast:
 * every text colour here is at least 4.5:1 against its background, and state is never shown by
 * colour alone (the badges also say "reachable" or "DOWN").
 */
export const dashboard_css = `
:root {
  --bg: #f4f5f7;
  --panel: #ffffff;
  --text: #1b1f24;
  --muted: #4a5360;
  --line: #d5d9e0;
  --accent: #1a56db;
  --accent-text: #ffffff;
  --up-bg: #e2f3e7;
  --up-text: #0b5a2b;
  --down-bg: #fbe3e5;
  --down-text: #8a0f1d;
  --focus: #b45309;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 15px; line-height: 1.45; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--panel); color: var(--text); padding: 0.5rem 1rem; }
.skip:focus { left: 0.5rem; top: 0.5rem; z-index: 10; }
header.top { background: #14213d; color: #ffffff; padding: 0.75rem 1.25rem; display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem; }
header.top h1 { font-size: 1.35rem; margin: 0; }
header.top p { margin: 0; color: #e6e9ef; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; grid-template-columns: repeat(2, minmax(0, 1fr)); }
main > section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem 1rem; min-width: 0; }
main > section.wide { grid-column: 1 / -1; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
h2 { font-size: 1.1rem; margin: 0 0 0.5rem; }
p { margin: 0.25rem 0; }
.muted { color: var(--muted); }
form.connect { display: flex; flex-wrap: wrap; gap: 0.75rem 1rem; align-items: flex-end; }
form .field { display: flex; flex-direction: column; gap: 0.2rem; }
label { font-weight: 600; }
input { font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #6b7380; border-radius: 4px; background: #ffffff; color: var(--text); min-width: 12rem; }
input:user-invalid { border-color: var(--down-text); }
.hint { font-size: 0.85rem; color: var(--muted); }
button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); cursor: pointer; }
button.secondary { background: #ffffff; color: var(--accent); }
button:hover { filter: brightness(0.92); }
.error { margin: 0.5rem 0; padding: 0.4rem 0.6rem; border-left: 4px solid var(--down-text); background: var(--down-bg); color: var(--down-text); }
.error[hidden] { display: none; }
.state-line { color: var(--muted); font-size: 0.9rem; }
.table-wrap { overflow-x: auto; }
.table-wrap.scroll { max-height: 26rem; overflow-y: auto; border: 1px solid var(--line); border-radius: 4px; }
.table-wrap.scroll thead th { position: sticky; top: 0; z-index: 1; }
.table-wrap.scroll caption { position: sticky; left: 0; padding: 0.25rem 0.5rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #eef0f3; font-size: 0.85rem; white-space: nowrap; }
tbody th { font-weight: 600; }
.num { text-align: right; white-space: nowrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; }
.wrap { word-break: break-all; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-weight: 700; white-space: nowrap; }
.badge.up { background: var(--up-bg); color: var(--up-text); }
.badge.down { background: var(--down-bg); color: var(--down-text); border: 2px solid var(--down-text); }
.why { color: var(--muted); font-size: 0.85rem; }
.agree { font-weight: 600; margin: 0.5rem 0; }
.agree.yes { color: var(--up-text); }
.agree.no { color: var(--down-text); }
figure { margin: 0 0 0.5rem; }
figcaption { font-weight: 600; }
.chart { min-height: 180px; width: 100%; margin: 0.25rem 0; }
.chart-summary { font-size: 0.9rem; color: var(--muted); }
.u-legend { font-size: 0.85rem; color: var(--text); }
footer { max-width: 1280px; margin: 0 auto; padding: 0 1rem 1.5rem; color: var(--muted); font-size: 0.85rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;
