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
import { type Ballot, ballot_zero, ballotsEqual } from "../core/ballot.js";
import { genesis_hash } from "../core/hash.js";
import type { Entry, LedgerHead, LedgerWrites, Position, SlotOutcome } from "../core/ledger-types.js";
import { limits } from "../core/limits.js";
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

/** The tables of `schema`: a ledger whose database holds none of them has never been written. */
const schema_tables = ["meta", "slots", "entries", "superseded", "positions"] as const;

/** Ids bound in one `IN (...)` lookup: Durable Object SQLite allows 100 bound parameters. */
const sql_params_per_lookup = 90;

/**
 * Recently read or written slot records, parsed, with their value's JSON: a slot is accepted, marked
 * chosen and marked applied in quick succession, and a 1,000-entry value is worth parsing and
 * serializing once, not three times. Dropped whole when a transaction rolls back.
 */
const slot_cache_entries_max = 8;
/** ... and at most this many bytes of their values' JSON (a 1,000-entry value is up to 1.8 MB). */
const slot_cache_value_chars_max = 4 * 1024 * 1024;

type SlotRow = { slot: number; ballot: string; value: string; chosen: number; outcome: string | null };

export class SqliteAcceptorStore implements AcceptorStore {
  private readonly sql: SqlStorage;
  private inTransaction = false;
  private readonly slotCache = new Map<number, { record: SlotRecord; valueJson: string }>();
  /** Meta values read or written (a handful of keys: promised, chosen_through, head, settings). */
  private readonly metaCache = new Map<string, unknown>();
  /**
   * Whether the tables exist. They are created by the first write, not by the constructor: a read of
   * a ledger that was never written (any name a read key can type) must not create its storage, so
   * until then every read answers as an empty ledger does, from no table at all.
   */
  private schemaReady: boolean;

  constructor(private readonly storage: SqliteStorage) {
    this.sql = storage.sql;
    this.schemaReady = this.schemaExists();
    // A ledger written before: make sure every table of this version's schema exists (idempotent).
    if (this.schemaReady) this.sql.exec(schema);
  }

  /** True when any table of the schema exists (read-only: a query of sqlite_master). */
  private schemaExists(): boolean {
    const names = schema_tables.map((t) => `'${t}'`).join(", ");
    return (
      this.sql
        .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${names})`)
        .one().n > 0
    );
  }

  /** Creates the tables before the first write. */
  private ensureSchema(): void {
    if (this.schemaReady) return;
    this.sql.exec(schema);
    this.schemaReady = true;
  }

  transaction<T>(fn: () => T): T {
    assert(!this.inTransaction, "transactions do not nest");
    this.inTransaction = true;
    try {
      return this.storage.transactionSync(fn);
    } catch (error) {
      // The rolled-back writes may be in them, and the tables too when this transaction created them.
      this.slotCache.clear();
      this.metaCache.clear();
      this.schemaReady = this.schemaExists();
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  private meta<T>(key: string, fallback: T): T {
    if (!this.schemaReady) return fallback;
    if (this.metaCache.has(key)) return (this.metaCache.get(key) as T | undefined) ?? fallback;
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    const value = row === undefined ? undefined : (JSON.parse(row.value) as T);
    this.metaCache.set(key, value);
    return value ?? fallback;
  }

  private setMeta(key: string, value: unknown): void {
    this.ensureSchema();
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
    this.metaCache.set(key, value); // after the write: a failed write caches nothing
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
    const cached = this.slotCache.get(slot);
    if (cached !== undefined) return cached.record;
    if (!this.schemaReady) return undefined;
    const row = this.sql.exec<SlotRow>("SELECT * FROM slots WHERE slot = ?", slot).toArray()[0];
    if (row === undefined) return undefined;
    const record = this.toRecord(row);
    this.remember(record, row.value);
    return record;
  }
  putSlot(record: SlotRecord): void {
    this.ensureSchema();
    const cached = this.slotCache.get(record.slot);
    const outcomeJson = record.outcome === undefined ? null : JSON.stringify(record.outcome);
    if (
      cached !== undefined &&
      cached.record.value === record.value &&
      ballotsEqual(cached.record.ballot, record.ballot)
    ) {
      // Same value at the same ballot: only the chosen mark or the outcome changes.
      this.sql.exec(
        "UPDATE slots SET chosen = ?, outcome = ? WHERE slot = ?",
        record.chosen ? 1 : 0,
        outcomeJson,
        record.slot,
      );
      this.remember(record, cached.valueJson);
      return;
    }
    const valueJson = JSON.stringify(record.value);
    this.sql.exec(
      `INSERT INTO slots (slot, ballot, value, chosen, outcome) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (slot) DO UPDATE SET ballot = excluded.ballot, value = excluded.value,
         chosen = excluded.chosen, outcome = excluded.outcome`,
      record.slot,
      JSON.stringify(record.ballot),
      valueJson,
      record.chosen ? 1 : 0,
      outcomeJson,
    );
    this.remember(record, valueJson);
  }

  private remember(record: SlotRecord, valueJson: string): void {
    this.slotCache.delete(record.slot);
    this.slotCache.set(record.slot, { record, valueJson });
    let chars = 0;
    for (const c of this.slotCache.values()) chars += c.valueJson.length;
    while (
      this.slotCache.size > slot_cache_entries_max ||
      (this.slotCache.size > 1 && chars > slot_cache_value_chars_max)
    ) {
      const [oldest, entry] = this.slotCache.entries().next().value!;
      chars -= entry.valueJson.length;
      this.slotCache.delete(oldest);
    }
  }
  /** The highest slot held, chosen or not (0 when none): what a linearizable read must wait for. */
  highestSlot(): number {
    if (!this.schemaReady) return 0;
    return this.sql.exec<{ s: number | null }>("SELECT MAX(slot) AS s FROM slots").one().s ?? 0;
  }
  slotsAbove(slot: number, count: number): SlotRecord[] {
    if (!this.schemaReady) return [];
    return this.sql
      .exec<SlotRow>("SELECT * FROM slots WHERE slot > ? ORDER BY slot LIMIT ?", slot, count)
      .toArray()
      .map((r) => this.toRecord(r));
  }

  applyWrites(writes: LedgerWrites): void {
    this.ensureSchema();
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
    if (!this.schemaReady) return [];
    return this.sql
      .exec<{ body: string }>(query, ...bindings)
      .toArray()
      .map((r) => JSON.parse(r.body) as Entry);
  }

  entryById(id: string): Entry | undefined {
    return this.entries("SELECT body FROM entries WHERE id = ?", id)[0];
  }
  entriesByIds(ids: readonly string[]): Entry[] {
    assert(ids.length <= limits.id_lookup_ids_max, "id lookup within its limit");
    const unique = [...new Set(ids)];
    const found: Entry[] = [];
    // Durable Object SQLite binds at most 100 parameters per statement.
    for (let i = 0; i < unique.length; i += sql_params_per_lookup) {
      const chunk = unique.slice(i, i + sql_params_per_lookup);
      found.push(...this.entries(`SELECT body FROM entries WHERE id IN (${chunk.map(() => "?").join(",")})`, ...chunk));
    }
    return found;
  }
  supersededBy(id: string): number | undefined {
    if (!this.schemaReady) return undefined;
    return this.sql.exec<{ by_seq: number }>("SELECT by_seq FROM superseded WHERE id = ?", id).toArray()[0]?.by_seq;
  }
  position(account: string, symbol: string): Position | undefined {
    if (!this.schemaReady) return undefined;
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
    if (!this.schemaReady) return [];
    return this.sql
      .exec<{ body: string }>("SELECT body FROM positions WHERE account = ? ORDER BY symbol", account)
      .toArray()
      .map((r) => JSON.parse(r.body) as Position);
  }
}
