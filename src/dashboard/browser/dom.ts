/**
 * The page's elements and the messages shown in it: an error line per panel (role=alert), state
 * lines (role=status), and one polite live region for region state changes (the tables themselves
 * are not live: too chatty).
 */

/** The element with this id; the page is static markup (page.ts), so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

export function inputById(id: string): HTMLInputElement {
  return byId<HTMLInputElement>(id);
}

/** Sets the text only when it changed: a rewrite would make screen readers announce it again. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

let lastAnnouncement = "";

export function announce(text: string): void {
  if (text === lastAnnouncement) return;
  lastAnnouncement = text;
  setText(byId("announce"), text);
}

/** The panels with an error line (`#<panel>-error`). */
export type Panel = "regions" | "tail" | "positions";

/** Shows `text` in the panel's error line, or hides the line when `text` is empty. */
export function showError(panel: Panel, text: string): void {
  const el = byId(`${panel}-error`);
  setText(el, text);
  el.hidden = text === "";
}

/** Appends a cell with this text (and class) to the row. */
export function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

/** A row header cell (`<th scope="row">`). */
export function rowHeader(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const th = document.createElement("th");
  th.scope = "row";
  if (className) th.className = className;
  th.textContent = text;
  row.appendChild(th);
  return th;
}
