/** The live tail's table: the newest entries first, at most `tail_rows_max` of them. */
import type { Entry } from "../../client/index.js";
import { byId, cell, rowHeader } from "./dom.js";
import { fmtTime } from "./format.js";

const tail_rows_max = 50;
const tail_columns = 9;

/**
 * An entry as the stream sent it: parsed JSON, not validated beyond its seq, so every other field
 * may be missing (and then shows as "–").
 */
export type StreamedEntry = Partial<Entry> & { readonly seq: number };

export function addTailRow(entry: StreamedEntry): void {
  const body = byId<HTMLTableSectionElement>("tail-body");
  body.querySelector("tr.empty")?.remove();
  const tr = document.createElement("tr");
  tr.dataset.seq = String(entry.seq);
  tr.dataset.id = String(entry.id);
  rowHeader(tr, String(entry.seq), "num");
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

export function clearTail(): void {
  const tr = document.createElement("tr");
  tr.className = "empty";
  const td = document.createElement("td");
  td.colSpan = tail_columns;
  td.textContent = "No entries yet.";
  tr.appendChild(td);
  byId("tail-body").replaceChildren(tr);
}
