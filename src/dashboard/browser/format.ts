/** Numbers, times, ballots and hashes as the tables and summaries show them ("–" for none). */

const hash_chars_shown = 12;

export function fmtNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtSpan(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${fmtNumber(seconds / 60, 1)} min`;
}

/** The time of day (UTC, as the server writes it) of an RFC 3339 timestamp. */
export function fmtTime(iso: unknown): string {
  if (typeof iso !== "string") return "–";
  const m = /T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)/.exec(iso);
  return m?.[1] ?? iso;
}

/** "round.proposerId" with the proposer id cut to its first characters (the full one is the cell's title). */
export function shortBallot(ballot: string | null): string {
  if (typeof ballot !== "string") return "–";
  const dot = ballot.indexOf(".");
  return dot < 0 || ballot.length - dot - 1 <= 8 ? ballot : `${ballot.slice(0, dot + 9)}…`;
}

export function shortHash(hash: string | null): string {
  return typeof hash === "string" ? hash.slice(0, hash_chars_shown) : "–";
}
