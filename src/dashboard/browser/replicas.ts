/**
 * The replicas panel: the status poll (one request in flight at most) and the table of acceptors
 * per region, with their reachability, ballot, slots and head hash. The poll also feeds the charts.
 */
import type { HeadResult, LedgerStatus } from "../../client/index.js";
import { recordSample } from "./charts.js";
import { announce, byId, cell, rowHeader, setText, showError } from "./dom.js";
import { fmtNumber, shortBallot, shortHash } from "./format.js";
import { describeError, getJson, HttpError, isFatal, ledgerPath } from "./http.js";
import { pause, type Session, stopOn } from "./session.js";

/** The status is asked for this often (from the start of one request to the start of the next). */
export const poll_interval_ms = 2_000;

/** Each region's reachability at the previous poll: a change is announced. */
const lastReachable = new Map<string, boolean>();

export function resetReplicas(): void {
  lastReachable.clear();
  byId("regions-body").replaceChildren();
}

function renderStatus(session: Session, status: LedgerStatus): void {
  const rows: HTMLTableRowElement[] = [];
  let up = 0;
  for (const a of status.acceptors) {
    const tr = document.createElement("tr");
    tr.dataset.region = a.region;
    tr.dataset.reachable = String(a.reachable);
    rowHeader(tr, a.region);
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
  byId("regions-body").replaceChildren(...rows);
  const total = status.acceptors.length;
  const q = status.quorum;
  const quorumText = q ? ` Quorums: prepare ${q.prepare} of ${q.acceptors}, accept ${q.accept} of ${q.acceptors}.` : "";
  setText(byId("regions-summary"), `${up} of ${total} replicas reachable.${quorumText}`);
  const agree = byId("heads-agree");
  agree.className = status.headsAgree ? "agree yes" : "agree no";
  setText(
    agree,
    status.headsAgree
      ? "Head hashes agree: every reachable replica at the same seq holds the same hash."
      : "Head hashes DISAGREE: replicas at the same seq hold different hashes.",
  );
  setText(byId("regions-updated"), `Updated ${new Date().toLocaleTimeString("en-GB")} (ledger ${session.ledger}).`);
}

/** The highest applied seq among the reachable replicas, or null when none answered. */
function headSeqOf(status: LedgerStatus): number | null {
  let seq: number | null = null;
  for (const a of status.acceptors)
    if (a.reachable && typeof a.appliedSeq === "number") seq = Math.max(seq ?? 0, a.appliedSeq);
  return seq;
}

/** Polls the status (or, for a key without the admin scope, the head) with one request in flight. */
export async function pollStatus(session: Session): Promise<void> {
  let statusAllowed = true;
  // Bounded by the session: the loop ends when it stops (a new connection, "Forget", a refused key).
  while (!session.signal.aborted) {
    const started = performance.now();
    try {
      if (statusAllowed) {
        const status = await getJson<LedgerStatus>(session, ledgerPath(session, "status"));
        renderStatus(session, status);
        recordSample(headSeqOf(status), status.commits);
      } else {
        const head = await getJson<HeadResult>(session, ledgerPath(session, "head"));
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
    await pause(Math.max(0, poll_interval_ms - (performance.now() - started)), session.signal);
  }
}
