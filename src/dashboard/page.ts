/**
 * The dashboard's HTML: static markup (no key, no data, no inline script or style) that
 * /assets/dashboard.js fills in. The asset URLs carry a content hash, so they can be cached for good.
 */

export interface PageAssets {
  readonly css: string;
  readonly uplotCss: string;
  readonly uplotJs: string;
  readonly js: string;
  readonly icon: string;
}

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export function dashboardHtml(assets: PageAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Quorum Ledger – operators' dashboard</title>
<link rel="icon" href="${attr(assets.icon)}" type="image/svg+xml">
<link rel="stylesheet" href="${attr(assets.uplotCss)}">
<link rel="stylesheet" href="${attr(assets.css)}">
<script src="${attr(assets.uplotJs)}" defer></script>
<script src="${attr(assets.js)}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the dashboard</a>
<header class="top">
  <h1>Quorum Ledger</h1>
  <p>Operators' dashboard: replicas, commits, live entries and positions</p>
</header>
<main id="main" tabindex="-1">
  <section class="wide" aria-labelledby="connect-heading">
    <h2 id="connect-heading">Connection</h2>
    <form id="connect-form" class="connect" autocomplete="off">
      <div class="field">
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" required autocomplete="off" spellcheck="false" aria-describedby="api-key-hint">
        <span id="api-key-hint" class="hint">Kept in this tab's session storage only. The replica status needs the admin scope.</span>
      </div>
      <div class="field">
        <label for="ledger">Ledger</label>
        <input id="ledger" name="ledger" type="text" value="demo" required pattern="[a-z0-9][a-z0-9\\-]{0,62}" spellcheck="false" aria-describedby="ledger-hint">
        <span id="ledger-hint" class="hint">Lowercase letters, digits and dashes.</span>
      </div>
      <div class="field buttons">
        <button type="submit" id="connect">Connect</button>
      </div>
      <div class="field buttons">
        <button type="button" id="forget-key" class="secondary">Forget key and disconnect</button>
      </div>
    </form>
    <p id="connection-state" class="state-line" role="status">Not connected: enter an API key and a ledger.</p>
    <noscript><p class="error">The dashboard needs JavaScript (its own script and uPlot, both served by this Worker).</p></noscript>
    <p id="announce" class="visually-hidden" aria-live="polite" aria-atomic="true"></p>
  </section>

  <section class="wide" aria-labelledby="regions-heading">
    <h2 id="regions-heading">Replicas</h2>
    <p id="regions-summary">Not connected.</p>
    <p id="heads-agree" class="agree"></p>
    <p id="regions-error" class="error" role="alert" hidden></p>
    <div class="table-wrap">
      <table id="regions">
        <caption>Acceptor per region: reachability, latency of the status call, promised ballot, chosen and applied slots, head hash</caption>
        <thead>
          <tr>
            <th scope="col">Region</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Latency (ms)</th>
            <th scope="col">Promised ballot</th>
            <th scope="col" class="num">Chosen through</th>
            <th scope="col" class="num">Applied seq</th>
            <th scope="col">Head hash</th>
          </tr>
        </thead>
        <tbody id="regions-body"></tbody>
      </table>
    </div>
    <p id="regions-updated" class="state-line"></p>
  </section>

  <section aria-labelledby="rate-heading">
    <h2 id="rate-heading">Commit rate</h2>
    <figure>
      <figcaption id="rate-caption">Entries per second, from the head seq between polls (2 s), last 10 minutes</figcaption>
      <div id="rate-chart" class="chart" role="img" aria-labelledby="rate-caption" aria-describedby="rate-summary"></div>
      <p id="rate-summary" class="chart-summary">No commit rate yet: it needs two polls.</p>
    </figure>
  </section>

  <section aria-labelledby="latency-heading">
    <h2 id="latency-heading">Commit latency</h2>
    <figure>
      <figcaption id="latency-caption">p50 (solid) and p99 (dashed) in milliseconds over the last minute's commits, per poll</figcaption>
      <div id="latency-chart" class="chart" role="img" aria-labelledby="latency-caption" aria-describedby="latency-summary"></div>
      <p id="latency-summary" class="chart-summary">No commit in the last minute.</p>
    </figure>
  </section>

  <section class="wide" aria-labelledby="tail-heading">
    <h2 id="tail-heading">Live tail</h2>
    <p id="tail-state" class="state-line">Not connected.</p>
    <p id="tail-error" class="error" role="alert" hidden></p>
    <div class="table-wrap scroll" tabindex="0" role="group" aria-labelledby="tail-caption">
      <table id="tail">
        <caption id="tail-caption">The newest entries first (at most 50; this box scrolls)</caption>
        <thead>
          <tr>
            <th scope="col" class="num">Seq</th>
            <th scope="col">Committed (UTC)</th>
            <th scope="col">Id</th>
            <th scope="col">Account</th>
            <th scope="col">Symbol</th>
            <th scope="col">Side</th>
            <th scope="col" class="num">Quantity</th>
            <th scope="col" class="num">Price</th>
            <th scope="col">Type</th>
          </tr>
        </thead>
        <tbody id="tail-body"></tbody>
      </table>
    </div>
  </section>

  <section class="wide" aria-labelledby="positions-heading">
    <h2 id="positions-heading">Positions</h2>
    <form id="positions-form" class="connect">
      <div class="field">
        <label for="account">Account</label>
        <input id="account" name="account" type="text" pattern="[\\x21-\\x7e]{1,64}" spellcheck="false" aria-describedby="account-hint">
        <span id="account-hint" class="hint">Refreshed every 10 s while connected.</span>
      </div>
      <div class="field buttons">
        <button type="submit" id="refresh-positions">Show positions</button>
      </div>
    </form>
    <p id="positions-state" class="state-line">Enter an account to see its positions.</p>
    <p id="positions-error" class="error" role="alert" hidden></p>
    <div class="table-wrap">
      <table id="positions">
        <caption id="positions-caption">Positions</caption>
        <thead>
          <tr>
            <th scope="col">Symbol</th>
            <th scope="col" class="num">Quantity</th>
            <th scope="col" class="num">Average price</th>
            <th scope="col" class="num">Cost basis</th>
            <th scope="col" class="num">Realized P&amp;L</th>
            <th scope="col" class="num">Fees</th>
            <th scope="col" class="num">Last seq</th>
          </tr>
        </thead>
        <tbody id="positions-body"></tbody>
      </table>
    </div>
  </section>
</main>
<footer>
  <p>Replica status and commit latency come from <code>GET /v1/ledgers/:ledger/status</code> (admin), the tail from <code>/stream</code>, positions from <code>/positions</code>. The API is described at <a href="/docs">/docs</a>.</p>
</footer>
</body>
</html>
`;
}
