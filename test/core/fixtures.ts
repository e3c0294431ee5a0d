/**
 * Small builders shared by the core tests. Not a test file: it registers nothing.
 */
import type { AcceptorStore } from "../../src/core/acceptor-store.js";
import { applySlot } from "../../src/core/apply.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { Entry, SlotOutcome } from "../../src/core/ledger-types.js";
import type { SlotValue } from "../../src/core/slot-value.js";

/** A valid minimal trade, with fields overridden. */
export function trade(id: string, overrides: Partial<EntryInput> = {}): EntryInput {
  return { id, account: "ACC-1", symbol: "AAPL", side: "buy", quantity: "10", price: "100", ...overrides };
}

/** An append slot value holding the given client batches. */
export function appendValue(proposedAt_ms: number, ...batches: EntryInput[][]): SlotValue {
  return { kind: "append", proposedAt_ms, batches };
}

/** Applies a chosen slot onto the store and persists its writes, as the acceptor does. */
export function applyAndPersist(store: AcceptorStore, slot: number, value: SlotValue): SlotOutcome {
  const { outcome, writes } = applySlot(store, slot, value);
  store.transaction(() => store.applyWrites(writes));
  return outcome;
}

/** Every entry the store holds, in seq order. */
export function allEntries(store: AcceptorStore): Entry[] {
  return store.entriesAfter(0, 1_000_000);
}

/** An entry with server fields, for the pure position functions (hash fields are not checked there). */
export function fillEntry(
  seq: number,
  side: "buy" | "sell",
  quantity: string,
  price: string,
  extra: Partial<Entry> = {},
): Entry {
  return {
    id: `f${seq}`,
    account: "ACC-1",
    symbol: "AAPL",
    side,
    quantity,
    price,
    seq,
    slot: seq,
    committedAt: "2026-01-01T00:00:00.000Z",
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
    ...extra,
  };
}

/** Sorts object keys in a pseudo-random order derived from `seed`, recursively (values unchanged). */
export function shuffleKeys(value: unknown, seed: number): unknown {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32: deterministic, so a failing case replays from fast-check's seed.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      Object.defineProperty(out, k, {
        value: walk((v as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return walk(value);
}
