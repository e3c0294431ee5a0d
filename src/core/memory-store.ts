/**
 * The in-memory acceptor store: the twin of the SQLite store, for tests and the simulator. A
 * transaction keeps an undo log so that a throw leaves the store exactly as it was, as SQLite's
 * rollback does.
 */
import type { AcceptorStore, SlotRecord } from "./acceptor-store.js";
import { assert } from "./assert.js";
import { type Ballot, ballot_zero } from "./ballot.js";
import { genesis_hash } from "./hash.js";
import { type Entry, type LedgerHead, type LedgerWrites, type Position, positionKey } from "./ledger-types.js";
import { type CoreLimits, limits } from "./limits.js";

export class MemoryAcceptorStore implements AcceptorStore {
  private promisedBallot: Ballot = ballot_zero;
  private chosenThroughSlot = 0;
  private readonly slots = new Map<number, SlotRecord>();
  private readonly entries: Entry[] = []; // entries[seq - 1]
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry[]>();
  private readonly superseded = new Map<string, number>();
  private readonly positions = new Map<string, Position>();
  private headValue: LedgerHead = { seq: 0, hash: genesis_hash, committedAt_ms: 0 };
  private undo: Array<() => void> | undefined;

  /** `storeLimits`: production's unless the simulator turns them down. */
  constructor(private readonly storeLimits: CoreLimits = limits) {}

  transaction<T>(fn: () => T): T {
    assert(this.undo === undefined, "transactions do not nest");
    const undo: Array<() => void> = [];
    this.undo = undo;
    try {
      return fn();
    } catch (error) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw error;
    } finally {
      this.undo = undefined;
    }
  }

  private onUndo(step: () => void): void {
    assert(this.undo !== undefined, "writes happen inside a transaction");
    this.undo.push(step);
  }

  promised(): Ballot {
    return this.promisedBallot;
  }
  setPromised(ballot: Ballot): void {
    const before = this.promisedBallot;
    this.onUndo(() => (this.promisedBallot = before));
    this.promisedBallot = ballot;
  }
  chosenThrough(): number {
    return this.chosenThroughSlot;
  }
  setChosenThrough(slot: number): void {
    const before = this.chosenThroughSlot;
    this.onUndo(() => (this.chosenThroughSlot = before));
    this.chosenThroughSlot = slot;
  }

  slot(slot: number): SlotRecord | undefined {
    return this.slots.get(slot);
  }
  putSlot(record: SlotRecord): void {
    const before = this.slots.get(record.slot);
    this.onUndo(() => (before === undefined ? this.slots.delete(record.slot) : this.slots.set(record.slot, before)));
    this.slots.set(record.slot, record);
  }
  slotsAbove(slot: number, count: number): SlotRecord[] {
    // Scans the slots held above `slot`; the simulator's logs are small, the SQLite store uses an index.
    const found: SlotRecord[] = [];
    for (const [s, r] of this.slots) if (s > slot) found.push(r);
    return found.sort((a, b) => a.slot - b.slot).slice(0, count);
  }

  applyWrites(writes: LedgerWrites): void {
    for (const e of writes.entries) {
      assert(e.seq === this.entries.length + 1, "entries persist densely");
      assert(!this.byId.has(e.id), "an id is applied at most once");
      this.entries.push(e);
      this.byId.set(e.id, e);
      const key = positionKey(e.account, e.symbol);
      const list = this.byKey.get(key) ?? [];
      if (list.length === 0) this.byKey.set(key, list);
      list.push(e);
      this.onUndo(() => {
        this.entries.pop();
        this.byId.delete(e.id);
        list.pop();
      });
    }
    for (const { id, bySeq } of writes.superseded) {
      const before = this.superseded.get(id);
      assert(before === undefined, "an entry is superseded at most once");
      this.superseded.set(id, bySeq);
      this.onUndo(() => this.superseded.delete(id));
    }
    for (const p of writes.positions) {
      const key = positionKey(p.account, p.symbol);
      const before = this.positions.get(key);
      this.positions.set(key, p);
      this.onUndo(() => (before === undefined ? this.positions.delete(key) : this.positions.set(key, before)));
    }
    const headBefore = this.headValue;
    this.headValue = writes.head;
    this.onUndo(() => (this.headValue = headBefore));
  }

  head(): LedgerHead {
    return this.headValue;
  }
  entryById(id: string): Entry | undefined {
    return this.byId.get(id);
  }
  entriesByIds(ids: readonly string[]): Entry[] {
    assert(ids.length <= this.storeLimits.id_lookup_ids_max, "id lookup within its limit");
    const found: Entry[] = [];
    for (const id of new Set(ids)) {
      const e = this.byId.get(id);
      if (e !== undefined) found.push(e);
    }
    return found;
  }
  supersededBy(id: string): number | undefined {
    return this.superseded.get(id);
  }
  position(account: string, symbol: string): Position | undefined {
    return this.positions.get(positionKey(account, symbol));
  }
  entriesOf(account: string, symbol: string): readonly Entry[] {
    return [...(this.byKey.get(positionKey(account, symbol)) ?? [])];
  }
  entryBySeq(seq: number): Entry | undefined {
    return this.entries[seq - 1];
  }
  entriesAfter(afterSeq: number, count: number): Entry[] {
    return this.entries.slice(Math.max(0, afterSeq), Math.max(0, afterSeq) + count);
  }
  positionsOf(account: string): Position[] {
    return [...this.positions.values()]
      .filter((p) => p.account === account)
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }
}
