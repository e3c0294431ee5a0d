/**
 * The operators' dashboard in the browser: the entry point of the bundle that the Worker serves as
 * /assets/dashboard.js (scripts/build-dashboard.mjs bundles it; src/dashboard/routes.ts serves it).
 * It reads the v1 API with the key typed into the page (kept in sessionStorage, never sent anywhere
 * but this origin's API):
 * - GET /v1/ledgers/:ledger/status every poll_interval_ms (admin key; one request in flight at most):
 *   per-region acceptor state, head agreement, and the charts' samples (replicas.ts, charts.ts);
 * - GET /v1/ledgers/:ledger/stream (Server-Sent Events, read through fetch because EventSource
 *   cannot send Authorization): the live tail, reconnecting with after=<last seq> (tail.ts);
 * - GET /v1/ledgers/:ledger/positions?account=: on demand and every positions_interval_ms (positions.ts).
 * Every failure is shown in the page; nothing is left to reject unhandled.
 */
import { drawCharts, makeCharts, resetSamples } from "./charts.js";
import { byId, inputById, setText, showError } from "./dom.js";
import { describeError, errorMessage } from "./http.js";
import { account_name, pollPositions, refreshPositions } from "./positions.js";
import { pollStatus, resetReplicas } from "./replicas.js";
import { beginSession, currentSession, type Session, stopSession } from "./session.js";
import { account_storage, key_storage, ledger_storage, storageGet, storageSet } from "./storage.js";
import { tail } from "./tail.js";
import { clearTail } from "./tail-table.js";

/** The API's ledger names. */
const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;

function start(key: string, ledger: string): void {
  const session = beginSession(key, ledger);
  resetSamples();
  resetReplicas();
  drawCharts();
  clearTail();
  for (const panel of ["regions", "tail", "positions"] as const) showError(panel, "");
  setText(byId("regions-summary"), "Waiting for the first status…");
  setText(byId("connection-state"), `Connected to ledger ${ledger}.`);
  // The three loops run until the session stops; each shows its own failures, so a rejection here
  // is a bug in the page, shown rather than left unhandled.
  const run = (task: (s: Session) => Promise<void>) => {
    task(session).catch((error: unknown) => showError("regions", describeError(error, "Dashboard")));
  };
  run(pollStatus);
  run(tail);
  run(pollPositions);
}

function onConnect(event: SubmitEvent): void {
  event.preventDefault();
  const keyInput = inputById("api-key");
  const ledgerInput = inputById("ledger");
  const key = keyInput.value.trim();
  const ledger = ledgerInput.value.trim();
  if (key === "") {
    setText(byId("connection-state"), "Enter an API key.");
    keyInput.focus();
    return;
  }
  if (!ledger_name.test(ledger)) {
    setText(
      byId("connection-state"),
      "A ledger name is lowercase letters, digits and dashes (at most 63), starting with a letter or digit.",
    );
    ledgerInput.focus();
    return;
  }
  storageSet(sessionStorage, key_storage, key);
  storageSet(localStorage, ledger_storage, ledger);
  start(key, ledger);
}

function onForget(): void {
  stopSession();
  storageSet(sessionStorage, key_storage, "");
  inputById("api-key").value = "";
  setText(byId("connection-state"), "Disconnected; the key is forgotten.");
}

function onPositions(event: SubmitEvent): void {
  event.preventDefault();
  const session = currentSession();
  if (session === undefined) {
    setText(byId("positions-state"), "Connect first.");
    return;
  }
  // Its failures are shown in the positions panel; it does not reject.
  void refreshPositions(session);
}

function init(): void {
  makeCharts();
  clearTail();
  const params = new URLSearchParams(location.search);
  const ledger = params.get("ledger") ?? storageGet(localStorage, ledger_storage);
  const account = params.get("account") ?? storageGet(localStorage, account_storage);
  if (ledger_name.test(ledger)) inputById("ledger").value = ledger;
  if (account_name.test(account)) inputById("account").value = account;
  byId("connect-form").addEventListener("submit", onConnect);
  byId("forget-key").addEventListener("click", onForget);
  byId("positions-form").addEventListener("submit", onPositions);
  const key = storageGet(sessionStorage, key_storage);
  if (key !== "") {
    inputById("api-key").value = key;
    start(key, inputById("ledger").value);
  }
}

try {
  init();
} catch (error) {
  const el = document.getElementById("connection-state");
  if (el) el.textContent = `The dashboard failed to start: ${errorMessage(error)}`;
}
