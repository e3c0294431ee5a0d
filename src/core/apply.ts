/**
 * The ledger's apply step: turns one chosen slot into entries, receipts, positions and a new head.
 * It is a pure function of the ledger so far and the slot's value, so every replica that applies the
 * same chosen log gets the same bytes. It reads through a `LedgerView` and returns its writes; the
 * acceptor's store persists them in the same transaction that marks the slot applied. The same
 * function, run on an overlay and thrown away, predicts a slot's outcome for the Accepted reply.
 */
import { assert } from "./assert.js";
import { canonicalJson } from "./canonical-json.js";
import { decimal } from "./decimal.js";
import type { EntryInput } from "./entry-schema.js";
import { entryHash } from "./hash.js";
import {
  type BatchOutcome,
  type BatchRejection,
  type Entry,
  type LedgerHead,
  type LedgerView,
  type LedgerWrites,
  type Position,
  positionKey,
  type Receipt,
  type SlotOutcome,
  server_fields,
} from "./ledger-types.js";
import { limits } from "./limits.js";
import { countsAsFill, foldFill, type PositionState, recomputePosition, stateOf, toPosition } from "./positions.js";
import type { SlotValue } from "./slot-value.js";

/** The largest time a JavaScript Date holds (year 275760); ISO formatting fails beyond it. */
const max_time_ms = 8.64e15;

/** A view with pending writes on top of another view. */
export class LedgerOverlay implements LedgerView {
  private headValue: LedgerHead;
  private readonly entries: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry[]>();
  private readonly supersededMap = new Map<string, number>();
  /** Positions written here, as exact running totals: formatted once, when read or written out. */
  private readonly positions = new Map<string, { account: string; symbol: string; state: PositionState }>();
  /** Base entries looked up in bulk by `prefetchIds`: the entry, or null where the base has none. */
  private readonly known = new Map<string, Entry | null>();

  constructor(private readonly base: LedgerView) {
    this.headValue = base.head();
  }

  head(): LedgerHead {
    return this.headValue;
  }
  entryById(id: string): Entry | undefined {
    const mine = this.byId.get(id);
    if (mine !== undefined) return mine;
    const known = this.known.get(id);
    return known === undefined ? this.base.entryById(id) : (known ?? undefined);
  }
  entriesByIds(ids: readonly string[]): Entry[] {
    const found: Entry[] = [];
    const rest: string[] = [];
    for (const id of new Set(ids)) {
      const e = this.byId.get(id) ?? this.known.get(id);
      if (e === undefined) rest.push(id);
      else if (e !== null) found.push(e);
    }
    return rest.length === 0 ? found : [...found, ...this.base.entriesByIds(rest)];
  }
  /**
   * Looks these ids up in the base in one call and remembers the answers, misses included: the
   * idempotency and reference checks of a 1,000-entry slot then cost one query, not 1,000.
   * The base must not change while this overlay is in use (it never does: writes go to the overlay).
   */
  prefetchIds(ids: readonly string[]): void {
    const wanted = [...new Set(ids)].filter((id) => !this.byId.has(id) && !this.known.has(id));
    for (let i = 0; i < wanted.length; i += limits.id_lookup_ids_max) {
      const chunk = wanted.slice(i, i + limits.id_lookup_ids_max);
      for (const id of chunk) this.known.set(id, null);
      for (const e of this.base.entriesByIds(chunk)) this.known.set(e.id, e);
    }
  }
  supersededBy(id: string): number | undefined {
    return this.supersededMap.get(id) ?? this.base.supersededBy(id);
  }
  position(account: string, symbol: string): Position | undefined {
    const mine = this.positions.get(positionKey(account, symbol));
    return mine === undefined ? this.base.position(account, symbol) : toPosition(account, symbol, mine.state);
  }
  /** The exact running totals of (account, symbol), without formatting them. */
  positionState(account: string, symbol: string): PositionState {
    const mine = this.positions.get(positionKey(account, symbol));
    if (mine !== undefined) return mine.state;
    return this.base instanceof LedgerOverlay
      ? this.base.positionState(account, symbol)
      : stateOf(this.base.position(account, symbol));
  }
  entriesOf(account: string, symbol: string): readonly Entry[] {
    const mine = this.byKey.get(positionKey(account, symbol));
    const theirs = this.base.entriesOf(account, symbol);
    return mine === undefined ? theirs : [...theirs, ...mine];
  }

  setHead(head: LedgerHead): void {
    this.headValue = head;
  }
  addEntry(e: Entry): void {
    assert(e.seq === this.headValue.seq + 1, "entries are appended at the next seq");
    this.entries.push(e);
    this.byId.set(e.id, e);
    const key = positionKey(e.account, e.symbol);
    const list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, [e]);
    else list.push(e);
    this.headValue = { ...this.headValue, seq: e.seq, hash: e.hash };
  }
  supersede(id: string, bySeq: number): void {
    this.supersededMap.set(id, bySeq);
  }
  putPosition(p: Position): void {
    this.putPositionState(p.account, p.symbol, stateOf(p));
  }
  putPositionState(account: string, symbol: string, state: PositionState): void {
    this.positions.set(positionKey(account, symbol), { account, symbol, state });
  }

  /** Moves this overlay's writes onto `parent`, whose view this overlay was built on. */
  mergeInto(parent: LedgerOverlay): void {
    for (const e of this.entries) parent.addEntry(e);
    for (const [id, bySeq] of this.supersededMap) parent.supersede(id, bySeq);
    for (const p of this.positions.values()) parent.putPositionState(p.account, p.symbol, p.state);
    parent.setHead(this.headValue);
  }

  writes(): LedgerWrites {
    return {
      entries: this.entries,
      superseded: [...this.supersededMap].map(([id, bySeq]) => ({ id, bySeq })),
      positions: [...this.positions.values()].map((p) => toPosition(p.account, p.symbol, p.state)),
      head: this.headValue,
    };
  }
}

/** The client's fields of a stored entry: what idempotency compares. */
export function clientFieldsOf(e: Entry): EntryInput {
  const copy: Record<string, unknown> = { ...e };
  for (const f of server_fields) delete copy[f];
  return copy as EntryInput;
}

export function receiptOf(e: Entry, status: Receipt["status"]): Receipt {
  return { id: e.id, status, seq: e.seq, hash: e.hash, committedAt: e.committedAt, slot: e.slot };
}

function referenceProblem(view: LedgerView, e: EntryInput): string | undefined {
  if (e.refId === undefined) return undefined;
  const target = view.entryById(e.refId);
  if (target === undefined) return `refId ${e.refId} is not in the ledger`;
  if (target.account !== e.account || target.symbol !== e.symbol) {
    return `refId ${e.refId} is a fill of ${target.account}/${target.symbol}, not ${e.account}/${e.symbol}`;
  }
  if (target.execType === "bust") return `refId ${e.refId} is a bust; a bust cannot be busted or corrected`;
  const by = view.supersededBy(e.refId);
  if (by !== undefined) return `refId ${e.refId} was already busted or corrected by seq ${by}`;
  return undefined;
}

/** The fields a bust must repeat from the fill it cancels: what the desk and the venue agreed on. */
export const bust_matched_fields = ["side", "quantity", "price"] as const;

/**
 * The fields in which a bust contradicts the fill it cancels (`target`), in `bust_matched_fields`
 * order; empty for anything but a bust. A bust removes its fill whatever it says, so a bust that
 * says something else (another side, quantity or price) is a mistake a desk wants to hear about,
 * not a silent removal of another trade than the one it meant. Quantities and prices compare as
 * numbers ("10" and "10.00" agree). A correction may change them all: that is what it is for.
 */
export function bustMismatch(target: Entry, e: EntryInput): Array<(typeof bust_matched_fields)[number]> {
  if (e.execType !== "bust") return [];
  const differs = {
    side: target.side !== e.side,
    quantity: !decimal(target.quantity).eq(decimal(e.quantity)),
    price: !decimal(target.price).eq(decimal(e.price)),
  };
  return bust_matched_fields.filter((f) => differs[f]);
}

function applyBatch(
  view: LedgerOverlay,
  batch: readonly EntryInput[],
  slot: number,
  committedAt: string,
): { outcome: BatchOutcome; overlay?: LedgerOverlay } {
  const overlay = new LedgerOverlay(view);
  const receipts: Receipt[] = [];
  const reject = (rejection: BatchRejection) => ({ outcome: { kind: "rejected", rejection } as const });
  for (const [index, input] of batch.entries()) {
    const existing = overlay.entryById(input.id);
    if (existing !== undefined) {
      if (canonicalJson(clientFieldsOf(existing)) !== canonicalJson(input)) {
        return reject({
          code: "id_conflict",
          index,
          id: input.id,
          message: `id ${input.id} is already in the ledger at seq ${existing.seq} with a different body`,
        });
      }
      receipts.push(receiptOf(existing, "exists"));
      continue;
    }
    const problem = referenceProblem(overlay, input);
    if (problem !== undefined) return reject({ code: "invalid_reference", index, id: input.id, message: problem });
    const target = input.refId === undefined ? undefined : overlay.entryById(input.refId);
    const mismatched = target === undefined ? [] : bustMismatch(target, input);
    if (mismatched.length > 0) {
      const theirs = mismatched.map((f) => `${f} ${target![f]}`).join(", ");
      const ours = mismatched.map((f) => `${f} ${input[f]}`).join(", ");
      return reject({
        code: "bust_mismatch",
        index,
        id: input.id,
        fields: mismatched,
        message: `bust ${input.id} must repeat the fill it cancels: ${input.refId} has ${theirs}, the bust says ${ours}`,
      });
    }

    const head = overlay.head();
    const unhashed = { ...input, seq: head.seq + 1, slot, committedAt, prevHash: head.hash };
    const entry: Entry = { ...unhashed, hash: entryHash(head.hash, unhashed) };
    overlay.addEntry(entry);
    if (entry.refId !== undefined) {
      overlay.supersede(entry.refId, entry.seq);
      const isSuperseded = (id: string) => overlay.supersededBy(id) !== undefined;
      overlay.putPosition(
        recomputePosition(entry.account, entry.symbol, overlay.entriesOf(entry.account, entry.symbol), isSuperseded),
      );
    } else {
      assert(countsAsFill(entry), "only a bust has no fill, and a bust has a refId");
      overlay.putPositionState(
        entry.account,
        entry.symbol,
        foldFill(overlay.positionState(entry.account, entry.symbol), entry),
      );
    }
    receipts.push(receiptOf(entry, "created"));
  }
  return { outcome: { kind: "applied", receipts }, overlay };
}

/**
 * Applies the value chosen for `slot` onto `overlay` (which must hold every slot before it).
 * Batches apply in order, each atomically: a batch with a conflicting id, a bad reference or a bust
 * that contradicts its fill applies nothing and is reported as rejected; the others are unaffected.
 */
export function applySlotOnto(overlay: LedgerOverlay, slot: number, value: SlotValue): SlotOutcome {
  if (value.kind === "noop") return { slot, batches: [] };
  assert(
    Number.isSafeInteger(value.proposedAt_ms) && value.proposedAt_ms >= 0 && value.proposedAt_ms <= max_time_ms,
    `proposedAt_ms out of range: ${value.proposedAt_ms}`,
  );
  const head = overlay.head();
  const committedAt_ms = Math.max(head.committedAt_ms, value.proposedAt_ms);
  const committedAt = new Date(committedAt_ms).toISOString();
  const batches: BatchOutcome[] = [];
  const ids: string[] = [];
  for (const batch of value.batches) {
    for (const e of batch) {
      ids.push(e.id);
      if (e.refId !== undefined) ids.push(e.refId);
    }
  }
  overlay.prefetchIds(ids);
  for (const batch of value.batches) {
    const result = applyBatch(overlay, batch, slot, committedAt);
    batches.push(result.outcome);
    result.overlay?.mergeInto(overlay);
  }
  // The head's time is that of its last entry: a slot that added none (all `exists`, or rejected)
  // leaves it alone, so `GET /head` agrees with the entry at head.seq.
  if (overlay.head().seq > head.seq) overlay.setHead({ ...overlay.head(), committedAt_ms });
  return { slot, batches };
}

/** Applies one chosen slot on top of `view` and returns its outcome and the writes to persist. */
export function applySlot(
  view: LedgerView,
  slot: number,
  value: SlotValue,
): { outcome: SlotOutcome; writes: LedgerWrites } {
  const overlay = new LedgerOverlay(view);
  const outcome = applySlotOnto(overlay, slot, value);
  return { outcome, writes: overlay.writes() };
}
