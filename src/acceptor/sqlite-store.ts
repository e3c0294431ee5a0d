/**
 * The acceptor's durable state in the Durable Object's SQLite storage. It implements the same
 * `AcceptorStore` interface as the in-memory store and passes the same shared suite. All writes for
 * one message run inside `transactionSync`, so they commit together or not at all, and the Durable
 * Object's output gate holds the reply until they are durable.
 *
 * SQLite limits respected: one row per entry (no multi-row statements, so never near 100 bound
 * parameters or 100 KB statements), and a slot's value is bounded by `slot_value_bytes_max`, under
 * the 2 MB row limit.
 */
import type { AcceptorStore, SlotRecord } from "../core/acceptor-store.js";
import { assert } from "../core/assert.js";
import { ballot_zero, type Ballot } from "../core/ballot.js";
import { genesis_hash } from "../core/hash.js";
import type { Entry, LedgerHead, LedgerWrites, Position, SlotOutcome } from "../core/ledger-types.js";
import type { SlotValue } from "../core/slot-value.js";

/** The part of `DurableObjectStorage` the store needs (so a test can hand it any SQLite-backed storage). */
export interface SqliteStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(fn: () => T): T;
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
  slot INTEGER PRIMARY KEY,
  ballot TEXT NOT NULL,
  value TEXT NOT NULL,
  chosen INTEGER NOT NULL,
  outcome TEXT
);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  symbol TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_position ON entries (account, symbol, seq);
CREATE TABLE IF NOT EXISTS superseded (id TEXT PRIMARY KEY, by_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
  account TEXT NOT NULL,
  symbol TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (account, symbol)
);
`;

type SlotRow = { slot: number; ballot: string; value: string; chosen: number; outcome: string | null };

export class SqliteAcceptorStore implements AcceptorStore {
  private readonly sql: SqlStorage;
  private inTransaction = false;

  constructor(private readonly storage: SqliteStorage) {
    this.sql = storage.sql;
    this.sql.exec(schema);
  }

  transaction<T>(fn: () => T): T {
    assert(!this.inTransaction, "transactions do not nest");
    this.inTransaction = true;
    try {
      return this.storage.transactionSync(fn);
    } finally {
      this.inTransaction = false;
    }
  }

  private meta<T>(key: string, fallback: T): T {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row === undefined ? fallback : (JSON.parse(row.value) as T);
  }

  private setMeta(key: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }

  /** Free-form settings kept beside the protocol state (the acceptor's identity). */
  getSetting<T>(key: string): T | undefined {
    return this.meta<T | undefined>(`setting:${key}`, undefined);
  }
  putSetting(key: string, value: unknown): void {
    this.setMeta(`setting:${key}`, value);
  }

  promised(): Ballot {
    return this.meta("promised", ballot_zero);
  }
  setPromised(ballot: Ballot): void {
    this.setMeta("promised", ballot);
  }
  chosenThrough(): number {
    return this.meta("chosen_through", 0);
  }
  setChosenThrough(slot: number): void {
    this.setMeta("chosen_through", slot);
  }

  private toRecord(row: SlotRow): SlotRecord {
    const record = {
      slot: row.slot,
      ballot: JSON.parse(row.ballot) as Ballot,
      value: JSON.parse(row.value) as SlotValue,
      chosen: row.chosen === 1,
    };
    return row.outcome === null ? record : { ...record, outcome: JSON.parse(row.outcome) as SlotOutcome };
  }

  slot(slot: number): SlotRecord | undefined {
    const row = this.sql.exec<SlotRow>("SELECT * FROM slots WHERE slot = ?", slot).toArray()[0];
    return row === undefined ? undefined : this.toRecord(row);
  }
  putSlot(record: SlotRecord): void {
    this.sql.exec(
      `INSERT INTO slots (slot, ballot, value, chosen, outcome) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (slot) DO UPDATE SET ballot = excluded.ballot, value = excluded.value,
         chosen = excluded.chosen, outcome = excluded.outcome`,
      record.slot,
      JSON.stringify(record.ballot),
      JSON.stringify(record.value),
      record.chosen ? 1 : 0,
      record.outcome === undefined ? null : JSON.stringify(record.outcome),
    );
  }
  /** The highest slot held, chosen or not (0 when none): what a linearizable read must wait for. */
  highestSlot(): number {
    return this.sql.exec<{ s: number | null }>("SELECT MAX(slot) AS s FROM slots").one().s ?? 0;
  }
  slotsAbove(slot: number, count: number): SlotRecord[] {
    return this.sql
      .exec<SlotRow>("SELECT * FROM slots WHERE slot > ? ORDER BY slot LIMIT ?", slot, count)
      .toArray()
      .map((r) => this.toRecord(r));
  }

  applyWrites(writes: LedgerWrites): void {
    for (const e of writes.entries) {
      this.sql.exec(
        "INSERT INTO entries (seq, id, account, symbol, body) VALUES (?, ?, ?, ?, ?)",
        e.seq,
        e.id,
        e.account,
        e.symbol,
        JSON.stringify(e),
      );
    }
    for (const { id, bySeq } of writes.superseded) {
      this.sql.exec("INSERT INTO superseded (id, by_seq) VALUES (?, ?)", id, bySeq);
    }
    for (const p of writes.positions) {
      this.sql.exec(
        `INSERT INTO positions (account, symbol, body) VALUES (?, ?, ?)
         ON CONFLICT (account, symbol) DO UPDATE SET body = excluded.body`,
        p.account,
        p.symbol,
        JSON.stringify(p),
      );
    }
    this.setMeta("head", writes.head);
  }

  head(): LedgerHead {
    return this.meta<LedgerHead>("head", { seq: 0, hash: genesis_hash, committedAt_ms: 0 });
  }

  private entries(query: string, ...bindings: unknown[]): Entry[] {
    return this.sql
      .exec<{ body: string }>(query, ...bindings)
      .toArray()
      .map((r) => JSON.parse(r.body) as Entry);
  }

  entryById(id: string): Entry | undefined {
    return this.entries("SELECT body FROM entries WHERE id = ?", id)[0];
  }
  supersededBy(id: string): number | undefined {
    return this.sql.exec<{ by_seq: number }>("SELECT by_seq FROM superseded WHERE id = ?", id).toArray()[0]?.by_seq;
  }
  position(account: string, symbol: string): Position | undefined {
    const row = this.sql
      .exec<{ body: string }>("SELECT body FROM positions WHERE account = ? AND symbol = ?", account, symbol)
      .toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.body) as Position);
  }
  entriesOf(account: string, symbol: string): readonly Entry[] {
    return this.entries("SELECT body FROM entries WHERE account = ? AND symbol = ? ORDER BY seq", account, symbol);
  }
  entryBySeq(seq: number): Entry | undefined {
    return this.entries("SELECT body FROM entries WHERE seq = ?", seq)[0];
  }
  entriesAfter(afterSeq: number, count: number): Entry[] {
    return this.entries("SELECT body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, count);
  }
  positionsOf(account: string): Position[] {
    return this.sql
      .exec<{ body: string }>("SELECT body FROM positions WHERE account = ? ORDER BY symbol", account)
      .toArray()
      .map((r) => JSON.parse(r.body) as Position);
  }
}
