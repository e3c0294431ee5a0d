/** The SSE text a stream writes: entry events (formatted once per entry, shared by every subscriber) and heartbeats. */
import type { Entry, LedgerHead } from "../../core/ledger-types.js";

/** An entry as the hub keeps it: its seq and its SSE event, formatted once for every subscriber. */
export interface TailEntry {
  readonly seq: number;
  readonly sse: string;
}

export function sseOf(e: Entry): TailEntry {
  // The same lines Hono's writeSSE writes; an entry's JSON has no line break.
  return { seq: e.seq, sse: `event: entry\ndata: ${JSON.stringify(e)}\nid: ${e.seq}\n\n` };
}

export function heartbeatOf(head: LedgerHead | undefined): string {
  const h = head ?? { seq: 0, hash: "0".repeat(64), committedAt_ms: 0 };
  const body = {
    head: { seq: h.seq, hash: h.hash, committedAt: h.seq === 0 ? null : new Date(h.committedAt_ms).toISOString() },
  };
  return `event: heartbeat\ndata: ${JSON.stringify(body)}\n\n`;
}
