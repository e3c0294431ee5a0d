// The operators' dashboard, in the browser (served by the Worker as /assets/dashboard.js; see
// routes.ts). Plain modern JavaScript, no build step. It reads the v1 API with the key typed into
// the page (kept in sessionStorage, never sent anywhere but this origin's API):
// - GET /v1/ledgers/:ledger/status every poll_interval_ms (admin key; one request in flight at most):
//   per-region acceptor state, head agreement, and the charts' samples;
// - GET /v1/ledgers/:ledger/stream (Server-Sent Events, read through fetch because EventSource
//   cannot send Authorization): the live tail, reconnecting with after=<last seq>;
// - GET /v1/ledgers/:ledger/positions?account=: on demand and every positions_interval_ms.
// Every failure is shown in the page; nothing is left to reject unhandled.
"use strict";

(() => {
  const poll_interval_ms = 2_000;
  const request_timeout_ms = 5_000;
  const positions_interval_ms = 10_000;
  /** Points kept per chart series: 300 polls of 2 s, the last ten minutes. */
  const chart_points_max = 300;
  const tail_rows_max = 50;
  /** The tail starts this many entries below the head. */
  const tail_backfill_entries = 20;
  const reconnect_delay_ms_min = 500;
  const reconnect_delay_ms_max = 15_000;
  /** No byte for this long (heartbeats come every 15 s) and the stream is dropped and reopened. */
  const stream_idle_ms_max = 45_000;
  /** One event's text may not grow beyond this (a list page of 1,000 entries is far below). */
  const sse_buffer_chars_max = 8 * 1024 * 1024;
  const hash_chars_shown = 12;

  const key_storage = "quorum-ledger.dashboard.key";
  const ledger_storage = "quorum-ledger.dashboard.ledger";
  const account_storage = "quorum-ledger.dashboard.account";
  const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;
  const account_name = /^[\x21-\x7e]{1,64}$/;

  const $ = (id) => {
    const el = document.getElementById(id);
    if (el === null) throw new Error(`the page has no #${id}`);
    return el;
  };

  // ---- storage (sessionStorage for the key; the names are not secret) ----

  function storageGet(storage, name) {
    try {
      return storage.getItem(name) ?? "";
    } catch {
      return ""; // storage disabled
    }
  }

  function storageSet(storage, name, value) {
    try {
      if (value === "") storage.removeItem(name);
      else storage.setItem(name, value);
    } catch {
      // storage disabled or full: the page still works for this visit
    }
  }

  // ---- HTTP ----

  class HttpError extends Error {
    constructor(status, code, message) {
      super(message);
      this.name = "HttpError";
      this.status = status;
      this.code = code;
    }
  }

  async function httpErrorOf(res) {
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const body = JSON.parse(await res.text());
      if (body && typeof body.error === "object" && body.error !== null) {
        code = String(body.error.code ?? code);
        message = String(body.error.message ?? message);
      }
    } catch {
      // not JSON: keep the status line
    }
    return new HttpError(res.status, code, message);
  }

  function withTimeout(signal, timeout_ms) {
    return AbortSignal.any([signal, AbortSignal.timeout(timeout_ms)]);
  }

  async function getJson(session, path, signal = session.signal) {
    const res = await fetch(path, {
      headers: { authorization: `Bearer ${session.key}`, accept: "application/json" },
      cache: "no-store",
      signal: withTimeout(signal, request_timeout_ms),
    });
    if (!res.ok) throw await httpErrorOf(res);
    return res.json();
  }

  function ledgerPath(session, rest) {
    return `/v1/ledgers/${encodeURIComponent(session.ledger)}/${rest}`;
  }

  /** What went wrong, for a person: the key, the scope, the network or the service. */
  function describeError(error, what) {
    if (error instanceof HttpError) {
      if (error.status === 401) return `${what}: the API key was not accepted (401 ${error.code}). Check the key and connect again.`;
      if (error.status === 403) return `${what}: this key may not do that on this ledger (403 ${error.code}: ${error.message})`;
      if (error.status === 503) return `${what}: no quorum of replicas answered (503 ${error.code}); retrying.`;
      if (error.status === 429) return `${what}: the Worker is overloaded (429); retrying.`;
      return `${what}: ${error.status} ${error.code}: ${error.message}`;
    }
    if (error && error.name === "TimeoutError") return `${what}: no answer within ${request_timeout_ms / 1000} s; retrying.`;
    if (error instanceof TypeError) return `${what}: the network request failed (${error.message}); retrying.`;
    return `${what}: ${error && error.message ? error.message : String(error)}`;
  }

  function isFatal(error) {
    return error instanceof HttpError && (error.status === 400 || error.status === 401 || error.status === 403);
  }

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** The next reconnect delay: doubled, capped, with jitter so that many pages do not come back at once. */
  function nextDelay(delay_ms) {
    return Math.min(reconnect_delay_ms_max, delay_ms * 2);
  }
  function jittered(delay_ms) {
    return Math.round(delay_ms / 2 + Math.random() * (delay_ms / 2));
  }

  // ---- messages: an error line per panel (role=alert), the connection line (role=status), and one
  // polite live region for region state changes (the tables themselves are not live: too chatty) ----

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  const announcer = () => $("announce");
  let lastAnnouncement = "";
  function announce(text) {
    if (text === lastAnnouncement) return;
    lastAnnouncement = text;
    setText(announcer(), text);
  }

  function showError(panel, text) {
    const el = $(`${panel}-error`);
    setText(el, text);
    el.hidden = text === "";
  }

  // ---- formatting ----

  function fmtNumber(value, digits = 0) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  }

  function fmtSpan(seconds) {
    return seconds < 120 ? `${Math.round(seconds)} s` : `${fmtNumber(seconds / 60, 1)} min`;
  }

  function fmtTime(iso) {
    if (typeof iso !== "string") return "–";
    const m = /T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)/.exec(iso);
    return m ? m[1] : iso;
  }

  /** "round.proposerId" with the proposer id cut to its first characters (the full one is the cell's title). */
  function shortBallot(ballot) {
    if (typeof ballot !== "string") return "–";
    const dot = ballot.indexOf(".");
    return dot < 0 || ballot.length - dot - 1 <= 8 ? ballot : `${ballot.slice(0, dot + 9)}…`;
  }

  function shortHash(hash) {
    return typeof hash === "string" ? hash.slice(0, hash_chars_shown) : "–";
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  // ---- charts (uPlot, global from /assets/uplot.js) ----

  const samples = { t: [], rate: [], p50: [], p99: [] };
  let lastHead; // { t_s, seq } of the previous poll, for the commit rate

  function pushSample(t_s, rate, p50, p99) {
    samples.t.push(t_s);
    samples.rate.push(rate);
    samples.p50.push(p50);
    samples.p99.push(p99);
    if (samples.t.length > chart_points_max) {
      for (const series of Object.values(samples)) series.shift();
    }
  }

  function resetSamples() {
    for (const series of Object.values(samples)) series.length = 0;
    lastHead = undefined;
  }

  const charts = [];
  function makeChart(elementId, series, yLabel) {
    const el = $(elementId);
    if (typeof window.uPlot !== "function") {
      setText(el, "The chart library did not load.");
      return undefined;
    }
    const axis = { stroke: "#1b1f24", grid: { stroke: "#e3e6ea", width: 1 }, ticks: { stroke: "#c9ced6", width: 1 } };
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max === null ? 1 : max * 1.1)] } },
      series: [{ label: "time" }, ...series],
      axes: [axis, { ...axis, label: yLabel, size: 56 }],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const chart = new window.uPlot(opts, [samples.t, ...series.map(() => [])], el);
    charts.push({ chart, el });
    return chart;
  }

  let rateChart;
  let latencyChart;

  function drawCharts() {
    if (rateChart) rateChart.setData([samples.t, samples.rate]);
    if (latencyChart) latencyChart.setData([samples.t, samples.p50, samples.p99]);
  }

  function summarizeCharts(commits) {
    const rates = samples.rate.filter((v) => v !== null);
    const latest = rates.at(-1);
    setText(
      $("rate-summary"),
      rates.length === 0
        ? "No commit rate yet: it needs two polls."
        : `Latest ${fmtNumber(latest, 1)} entries/s; peak ${fmtNumber(Math.max(...rates), 1)} entries/s over the last ${fmtSpan(samples.t.at(-1) - samples.t[0])}.`,
    );
    if (commits === undefined) return; // this poll failed: the last summary stands
    const l = commits === null ? null : commits.latency_ms;
    setText(
      $("latency-summary"),
      commits === null
        ? "Commit latency comes with the replica status, which needs a key with the admin scope."
        : l
          ? `Over the last ${commits.window_s} s: ${commits.commits} commits of ${commits.entries} entries; latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms.`
          : "No commit by this Worker isolate in the last minute.",
    );
  }

  function observeChartWidths() {
    if (typeof ResizeObserver !== "function") return;
    let frame = 0;
    const resize = () => {
      frame = 0;
      for (const { chart, el } of charts) {
        const width = Math.max(200, el.clientWidth);
        if (width !== chart.width) chart.setSize({ width, height: chart.height });
      }
    };
    const observer = new ResizeObserver(() => {
      if (frame === 0) frame = requestAnimationFrame(resize);
    });
    for (const { el } of charts) observer.observe(el);
  }

  // ---- replicas ----

  const lastReachable = new Map();

  function renderStatus(session, status) {
    const body = $("regions-body");
    const rows = [];
    let up = 0;
    for (const a of status.acceptors) {
      const tr = document.createElement("tr");
      tr.dataset.region = a.region;
      tr.dataset.reachable = String(a.reachable);
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = a.region;
      tr.appendChild(th);
      const state = cell(tr, "");
      const badge = document.createElement("span");
      badge.className = a.reachable ? "badge up" : "badge down";
      badge.textContent = a.reachable ? "✓ reachable" : "✕ DOWN";
      state.appendChild(badge);
      if (!a.reachable && a.error) {
        const why = document.createElement("span");
        why.className = "why";
        why.textContent = ` ${a.error}`;
        state.appendChild(why);
      }
      cell(tr, a.latency_ms === null ? "–" : fmtNumber(a.latency_ms), "num");
      const promised = cell(tr, shortBallot(a.promised), "mono");
      if (a.promised) promised.title = a.promised;
      cell(tr, fmtNumber(a.chosenThrough), "num");
      cell(tr, fmtNumber(a.appliedSeq), "num");
      const hash = cell(tr, shortHash(a.headHash), "mono");
      if (a.headHash) hash.title = a.headHash;
      rows.push(tr);
      if (a.reachable) up += 1;
      const before = lastReachable.get(a.region);
      if (before !== undefined && before !== a.reachable) {
        announce(a.reachable ? `Region ${a.region} is reachable again.` : `Region ${a.region} is DOWN.`);
      }
      lastReachable.set(a.region, a.reachable);
    }
    body.replaceChildren(...rows);
    const total = status.acceptors.length;
    const q = status.quorum;
    const quorumText = q ? ` Quorums: prepare ${q.prepare} of ${q.acceptors}, accept ${q.accept} of ${q.acceptors}.` : "";
    setText($("regions-summary"), `${up} of ${total} replicas reachable.${quorumText}`);
    const agree = $("heads-agree");
    agree.className = status.headsAgree ? "agree yes" : "agree no";
    setText(
      agree,
      status.headsAgree
        ? "Head hashes agree: every reachable replica at the same seq holds the same hash."
        : "Head hashes DISAGREE: replicas at the same seq hold different hashes.",
    );
    setText($("regions-updated"), `Updated ${new Date().toLocaleTimeString("en-GB")} (ledger ${session.ledger}).`);
  }

  function headSeqOf(status) {
    let seq = null;
    for (const a of status.acceptors) if (a.reachable && typeof a.appliedSeq === "number") seq = Math.max(seq ?? 0, a.appliedSeq);
    return seq;
  }

  function recordSample(seq, commits) {
    const t_s = Date.now() / 1000;
    let rate = null;
    if (seq !== null) {
      if (lastHead !== undefined && seq >= lastHead.seq && t_s > lastHead.t_s) rate = (seq - lastHead.seq) / (t_s - lastHead.t_s);
      lastHead = { t_s, seq };
    }
    const l = commits ? commits.latency_ms : null;
    pushSample(t_s, rate, l ? l.p50 : null, l ? l.p99 : null);
    drawCharts();
    summarizeCharts(commits);
  }

  /** Polls the status (or, for a key without the admin scope, the head) with one request in flight. */
  async function pollStatus(session) {
    let statusAllowed = true;
    while (!session.signal.aborted) {
      const started = performance.now();
      try {
        if (statusAllowed) {
          const status = await getJson(session, ledgerPath(session, "status"));
          renderStatus(session, status);
          recordSample(headSeqOf(status), status.commits);
        } else {
          const head = await getJson(session, ledgerPath(session, "head"));
          recordSample(head.seq, null);
        }
        if (statusAllowed) showError("regions", "");
      } catch (error) {
        if (session.signal.aborted) return;
        if (error instanceof HttpError && error.status === 403 && statusAllowed) {
          statusAllowed = false; // the charts go on from the head; the table needs an admin key
          showError("regions", describeError(error, "Replica status needs a key with the admin scope"));
          continue;
        }
        showError("regions", describeError(error, "Replica status"));
        if (isFatal(error)) {
          stopOn(session, error);
          return;
        }
        recordSample(null, undefined); // a gap in the charts
      }
      await sleep(Math.max(0, poll_interval_ms - (performance.now() - started)), session.signal);
    }
  }

  // ---- live tail ----

  /** Server-Sent Events from a fetch body: yields { event, data, id } per dispatched event. */
  async function* sseEvents(body, onBytes) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = "";
    let data = [];
    let id;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        onBytes();
        buffer += value;
        if (buffer.length > sse_buffer_chars_max) throw new Error("an event exceeded the size limit");
        for (;;) {
          const at = buffer.search(/[\r\n]/);
          if (at < 0) break;
          if (buffer[at] === "\r" && at === buffer.length - 1) break; // maybe the \r of a \r\n split across chunks
          const line = buffer.slice(0, at);
          buffer = buffer.slice(buffer[at] === "\r" && buffer[at + 1] === "\n" ? at + 2 : at + 1);
          if (line === "") {
            if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
            event = "";
            data = [];
            continue;
          }
          if (line.startsWith(":")) continue; // a comment
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
          else if (field === "id") id = text;
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  function addTailRow(entry) {
    const body = $("tail-body");
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    const tr = document.createElement("tr");
    tr.dataset.seq = String(entry.seq);
    tr.dataset.id = String(entry.id);
    const th = document.createElement("th");
    th.scope = "row";
    th.className = "num";
    th.textContent = String(entry.seq);
    tr.appendChild(th);
    cell(tr, fmtTime(entry.committedAt), "mono");
    cell(tr, String(entry.id), "mono wrap");
    cell(tr, String(entry.account ?? "–"));
    cell(tr, String(entry.symbol ?? "–"));
    cell(tr, String(entry.side ?? "–"));
    cell(tr, String(entry.quantity ?? "–"), "num");
    cell(tr, String(entry.price ?? "–"), "num");
    cell(tr, String(entry.execType ?? "fill"));
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > tail_rows_max) body.deleteRow(-1);
  }

  function clearTail() {
    const body = $("tail-body");
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = document.createElement("td");
    td.colSpan = 9;
    td.textContent = "No entries yet.";
    tr.appendChild(td);
    body.replaceChildren(tr);
  }

  async function tail(session) {
    let after;
    let delay_ms = reconnect_delay_ms_min;
    while (!session.signal.aborted) {
      const connection = new AbortController();
      const stop = () => connection.abort();
      session.signal.addEventListener("abort", stop, { once: true });
      let idle;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => connection.abort(new DOMException("no data from the stream", "TimeoutError")), stream_idle_ms_max);
      };
      try {
        if (after === undefined) {
          const head = await getJson(session, ledgerPath(session, "head"));
          after = Math.max(0, head.seq - tail_backfill_entries);
        }
        setText($("tail-state"), `Connecting from seq ${after}…`);
        touch();
        const res = await fetch(ledgerPath(session, `stream?after=${after}`), {
          headers: { authorization: `Bearer ${session.key}`, accept: "text/event-stream" },
          cache: "no-store",
          signal: connection.signal,
        });
        if (!res.ok) throw await httpErrorOf(res);
        setText($("tail-state"), `Live from seq ${after}.`);
        showError("tail", "");
        let events = 0;
        for await (const ev of sseEvents(res.body, touch)) {
          events++;
          if (ev.event === "entry") {
            const entry = JSON.parse(ev.data);
            if (typeof entry.seq === "number" && entry.seq > after) {
              after = entry.seq;
              addTailRow(entry);
              setText($("tail-state"), `Live. Last entry seq ${after}, committed ${fmtTime(entry.committedAt)} UTC.`);
            }
            delay_ms = reconnect_delay_ms_min;
          } else if (ev.event === "heartbeat") {
            setText($("tail-state"), `Live. Last entry seq ${after}; idle, heartbeat at ${new Date().toLocaleTimeString("en-GB")}.`);
            delay_ms = reconnect_delay_ms_min;
          }
        }
        // The server ends a stream after a few minutes: reconnect at once, from the last seq. A stream
        // that ended without a single event (the server could not read a replica) is a failure: back
        // off, or every open page would hammer the Worker.
        if (events === 0) throw new Error("the stream ended without an event");
        setText($("tail-state"), `The stream ended; reconnecting from seq ${after}.`);
      } catch (error) {
        if (session.signal.aborted) return;
        if (isFatal(error)) {
          showError("tail", describeError(error, "Live tail"));
          setText($("tail-state"), "Stopped.");
          stopOn(session, error);
          return;
        }
        const reason = connection.signal.aborted ? "no data for too long" : describeError(error, "Live tail");
        showError("tail", `${reason}. Reconnecting in about ${Math.ceil(delay_ms / 1000)} s.`);
        setText($("tail-state"), after === undefined ? "Disconnected." : `Disconnected after seq ${after}.`);
        await sleep(jittered(delay_ms), session.signal);
        delay_ms = nextDelay(delay_ms);
      } finally {
        clearTimeout(idle);
        session.signal.removeEventListener("abort", stop);
        connection.abort();
      }
    }
  }

  // ---- positions ----

  let positionsInFlight = false;

  function renderPositions(result) {
    const body = $("positions-body");
    const rows = [];
    for (const p of result.positions) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = p.symbol;
      tr.appendChild(th);
      cell(tr, p.quantity, "num");
      cell(tr, p.averagePrice, "num");
      cell(tr, p.costBasis, "num");
      cell(tr, p.realizedPnl, "num");
      cell(tr, p.fees, "num");
      cell(tr, String(p.lastSeq), "num");
      rows.push(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 7;
      td.textContent = `No positions for account ${result.account}.`;
      tr.appendChild(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    const asOf = result.asOf ? ` as of seq ${result.asOf.seq}` : "";
    setText($("positions-caption"), `Positions of account ${result.account} on ledger ${result.ledger}${asOf}`);
  }

  async function refreshPositions(session) {
    if (session.signal.aborted || positionsInFlight) return;
    const account = $("account").value.trim();
    if (account === "") {
      setText($("positions-state"), "Enter an account to see its positions.");
      return;
    }
    if (!account_name.test(account)) {
      showError("positions", "An account is 1 to 64 visible ASCII characters.");
      return;
    }
    storageSet(localStorage, account_storage, account);
    positionsInFlight = true;
    setText($("positions-state"), `Loading positions of ${account}…`);
    try {
      const result = await getJson(session, ledgerPath(session, `positions?account=${encodeURIComponent(account)}`));
      if (session.signal.aborted) return;
      renderPositions(result);
      showError("positions", "");
      setText($("positions-state"), `Updated ${new Date().toLocaleTimeString("en-GB")}.`);
    } catch (error) {
      if (session.signal.aborted) return;
      showError("positions", describeError(error, "Positions"));
      setText($("positions-state"), "");
    } finally {
      positionsInFlight = false;
    }
  }

  async function pollPositions(session) {
    while (!session.signal.aborted) {
      await refreshPositions(session);
      await sleep(positions_interval_ms, session.signal);
    }
  }

  // ---- the session: one key and ledger at a time ----

  let current; // { key, ledger, controller, signal }

  function stopSession() {
    if (current === undefined) return;
    current.controller.abort();
    current = undefined;
    positionsInFlight = false;
    setText($("regions-summary"), "Not connected.");
    setText($("tail-state"), "Not connected.");
  }

  function stopOn(session, error) {
    if (current !== session) return;
    if (error instanceof HttpError && error.status === 401) {
      setText($("connection-state"), "Disconnected: the API key was not accepted.");
      stopSession();
    }
  }

  function start(key, ledger) {
    stopSession();
    const controller = new AbortController();
    const session = { key, ledger, controller, signal: controller.signal };
    current = session;
    resetSamples();
    lastReachable.clear();
    drawCharts();
    clearTail();
    for (const panel of ["regions", "tail", "positions"]) showError(panel, "");
    $("regions-body").replaceChildren();
    setText($("regions-summary"), "Waiting for the first status…");
    setText($("connection-state"), `Connected to ledger ${ledger}.`);
    const run = (task) => task(session).catch((error) => showError("regions", describeError(error, "Dashboard")));
    run(pollStatus);
    run(tail);
    run(pollPositions);
  }

  function onConnect(event) {
    event.preventDefault();
    const key = $("api-key").value.trim();
    const ledger = $("ledger").value.trim();
    if (key === "") {
      setText($("connection-state"), "Enter an API key.");
      $("api-key").focus();
      return;
    }
    if (!ledger_name.test(ledger)) {
      setText($("connection-state"), "A ledger name is lowercase letters, digits and dashes (at most 63), starting with a letter or digit.");
      $("ledger").focus();
      return;
    }
    storageSet(sessionStorage, key_storage, key);
    storageSet(localStorage, ledger_storage, ledger);
    start(key, ledger);
  }

  function onForget() {
    stopSession();
    storageSet(sessionStorage, key_storage, "");
    $("api-key").value = "";
    setText($("connection-state"), "Disconnected; the key is forgotten.");
  }

  function onPositions(event) {
    event.preventDefault();
    if (current === undefined) {
      setText($("positions-state"), "Connect first.");
      return;
    }
    refreshPositions(current);
  }

  function init() {
    rateChart = makeChart("rate-chart", [{ label: "entries/s", stroke: "#1a56db", width: 2, fill: "rgba(26, 86, 219, 0.08)" }], "entries/s");
    latencyChart = makeChart(
      "latency-chart",
      [
        { label: "p50 ms", stroke: "#0b7a3e", width: 2 },
        { label: "p99 ms", stroke: "#b3261e", width: 2, dash: [6, 3] },
      ],
      "ms",
    );
    observeChartWidths();
    clearTail();
    const params = new URLSearchParams(location.search);
    const ledger = params.get("ledger") ?? storageGet(localStorage, ledger_storage);
    const account = params.get("account") ?? storageGet(localStorage, account_storage);
    if (ledger_name.test(ledger)) $("ledger").value = ledger;
    if (account_name.test(account)) $("account").value = account;
    $("connect-form").addEventListener("submit", onConnect);
    $("forget-key").addEventListener("click", onForget);
    $("positions-form").addEventListener("submit", onPositions);
    const key = storageGet(sessionStorage, key_storage);
    if (key !== "") {
      $("api-key").value = key;
      start(key, $("ledger").value);
    }
  }

  try {
    init();
  } catch (error) {
    const el = document.getElementById("connection-state");
    if (el) el.textContent = `The dashboard failed to start: ${error && error.message ? error.message : String(error)}`;
  }
})();
