/** The positions panel: one account's positions, on demand and every `positions_interval_ms`. */
import type { PositionsResult } from "../../client/index.js";
import { byId, cell, inputById, rowHeader, setText, showError } from "./dom.js";
import { describeError, getJson, ledgerPath } from "./http.js";
import { pause, type Session } from "./session.js";
import { account_storage, storageSet } from "./storage.js";

export const positions_interval_ms = 10_000;
/** The API's account names: 1 to 64 visible ASCII characters. */
export const account_name = /^[\x21-\x7e]{1,64}$/;
const positions_columns = 7;

function renderPositions(result: PositionsResult): void {
  const rows: HTMLTableRowElement[] = [];
  for (const p of result.positions) {
    const tr = document.createElement("tr");
    rowHeader(tr, p.symbol);
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
    td.colSpan = positions_columns;
    td.textContent = `No positions for account ${result.account}.`;
    tr.appendChild(td);
    rows.push(tr);
  }
  byId("positions-body").replaceChildren(...rows);
  const asOf = result.asOf ? ` as of seq ${result.asOf.seq}` : "";
  setText(byId("positions-caption"), `Positions of account ${result.account} on ledger ${result.ledger}${asOf}`);
}

/** Loads the positions of the account in the form, unless a load is already on its way. */
export async function refreshPositions(session: Session): Promise<void> {
  if (session.signal.aborted || session.positionsInFlight) return;
  const state = byId("positions-state");
  const account = inputById("account").value.trim();
  if (account === "") {
    setText(state, "Enter an account to see its positions.");
    return;
  }
  if (!account_name.test(account)) {
    showError("positions", "An account is 1 to 64 visible ASCII characters.");
    return;
  }
  storageSet(localStorage, account_storage, account);
  session.positionsInFlight = true;
  setText(state, `Loading positions of ${account}…`);
  try {
    const result = await getJson<PositionsResult>(
      session,
      ledgerPath(session, `positions?account=${encodeURIComponent(account)}`),
    );
    if (session.signal.aborted) return;
    renderPositions(result);
    showError("positions", "");
    setText(state, `Updated ${new Date().toLocaleTimeString("en-GB")}.`);
  } catch (error) {
    if (session.signal.aborted) return;
    showError("positions", describeError(error, "Positions"));
    setText(state, "");
  } finally {
    session.positionsInFlight = false;
  }
}

export async function pollPositions(session: Session): Promise<void> {
  // Bounded by the session: the loop ends when it stops (a new connection, "Forget", a refused key).
  while (!session.signal.aborted) {
    await refreshPositions(session);
    await pause(positions_interval_ms, session.signal);
  }
}
