/**
 * The shared AcceptorStore suite (the one the in-memory store passes) against `SqliteAcceptorStore`
 * on a real Durable Object's SQLite storage, inside workerd.
 *
 * Storage can only be touched from inside its own object's context, so each test body runs inside
 * `runInDurableObject` of a fresh `LedgerAcceptor` (unique name). A test that needs two or three
 * independent stores (an acceptor and its peers) gets them in that one object: the first store runs
 * on the storage exactly as the Durable Object does; each further one runs on a view of the same
 * SQLite database whose table names carry a prefix, so the stores share nothing.
 */

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SqliteAcceptorStore, type SqliteStorage } from "../../src/acceptor/sqlite-store.js";
import { noop_value, type SlotValue } from "../../src/core/slot-value.js";
import { acceptorStoreSuite } from "../core/acceptor-store-suite.js";
import { trade } from "../core/fixtures.js";

/** Every table and index the store creates; a view renames each of them. */
const schema_names = ["meta", "slots", "entries", "entries_by_position", "superseded", "positions"] as const;
const name_pattern = new RegExp(`\\b(${schema_names.join("|")})\\b`, "g");

/**
 * The same SQLite database with every schema name prefixed: a second, independent store in the same
 * Durable Object. A schema object this list does not know fails loudly rather than being shared.
 */
function prefixedStorage(storage: DurableObjectStorage, prefix: string): SqliteStorage {
  const sql = storage.sql;
  const rename = (query: string): string => {
    for (const m of query.matchAll(/\bCREATE\s+(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\w+)/gi)) {
      if (!(schema_names as readonly string[]).includes(m[1]!)) {
        throw new Error(`the store creates ${m[1]}: add it to schema_names in test/worker/sqlite-store.test.ts`);
      }
    }
    return query.replace(name_pattern, `${prefix}$1`);
  };
  const view: SqlStorage = {
    exec: <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) =>
      sql.exec<T>(rename(query), ...bindings),
    get databaseSize() {
      return sql.databaseSize;
    },
    Cursor: sql.Cursor,
    Statement: sql.Statement,
  };
  return { sql: view, transactionSync: (fn) => storage.transactionSync(fn) };
}

/** The storage of the object the current test body runs in, and how many stores it handed out. */
let current: { storage: DurableObjectStorage; made: number } | undefined;

function makeStore(): SqliteAcceptorStore {
  if (current === undefined) throw new Error("makeStore is called outside a test body");
  const n = current.made++;
  return new SqliteAcceptorStore(n === 0 ? current.storage : prefixedStorage(current.storage, `peer${n}_`));
}

async function inFreshObject(body: () => void): Promise<void> {
  const stub = env.ACCEPTOR.getByName(`store-suite-${crypto.randomUUID()}`);
  await runInDurableObject(stub, (_instance, state) => {
    current = { storage: state.storage, made: 0 };
    try {
      body();
    } finally {
      current = undefined;
    }
  });
}

acceptorStoreSuite("SqliteAcceptorStore", makeStore, inFreshObject);

describe("SqliteAcceptorStore: the harness itself", () => {
  it("gives each test a fresh object, and the stores of one test share nothing", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      await inFreshObject(() => {
        const [a, b] = [makeStore(), makeStore()];
        expect(a.chosenThrough()).toBe(0);
        expect(b.chosenThrough()).toBe(0);
        a.transaction(() => {
          a.setChosenThrough(5);
          a.putSetting("x", i);
        });
        b.transaction(() =>
          b.putSlot({ slot: 1, ballot: { round: 1, proposerId: "p" }, value: noop_value, chosen: false }),
        );
        expect(a.chosenThrough()).toBe(5);
        expect(b.chosenThrough()).toBe(0);
        expect(a.slot(1)).toBeUndefined();
        expect(b.slot(1)).toMatchObject({ slot: 1, chosen: false });
        seen.push(JSON.stringify(a.getSetting("x")));
      });
    }
    expect(seen).toEqual(["0", "1"]);
  });

  it("a store's state survives the object's eviction (a new store on the same storage reads it back)", async () => {
    const name = `store-suite-${crypto.randomUUID()}`;
    const value: SlotValue = { kind: "append", proposedAt_ms: 1_000, batches: [[trade("e1")]] };
    await runInDurableObject(env.ACCEPTOR.getByName(name), (_i, state) => {
      const store = new SqliteAcceptorStore(state.storage);
      store.transaction(() => {
        store.setPromised({ round: 4, proposerId: "p" });
        store.putSlot({ slot: 1, ballot: { round: 4, proposerId: "p" }, value, chosen: false });
      });
    });
    await evictDurableObject(env.ACCEPTOR.getByName(name));
    const after = await runInDurableObject(env.ACCEPTOR.getByName(name), (_i, state) => {
      const store = new SqliteAcceptorStore(state.storage);
      return { promised: store.promised(), slot: store.slot(1) };
    });
    expect(after).toEqual({
      promised: { round: 4, proposerId: "p" },
      slot: { slot: 1, ballot: { round: 4, proposerId: "p" }, value, chosen: false },
    });
  });
});

describe("SqliteAcceptorStore: a ledger that was never written has no storage", () => {
  const tables = (storage: DurableObjectStorage) =>
    storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .toArray()
      .map((r) => r.name)
      .sort();

  it("reads answer as an empty ledger without creating a table; the first write creates them", async () => {
    await runInDurableObject(env.ACCEPTOR.getByName(`store-lazy-${crypto.randomUUID()}`), (_i, state) => {
      const store = new SqliteAcceptorStore(state.storage);
      expect(store.chosenThrough()).toBe(0);
      expect(store.promised()).toEqual({ round: 0, proposerId: "" });
      expect(store.head().seq).toBe(0);
      expect(store.highestSlot()).toBe(0);
      expect(store.slot(1)).toBeUndefined();
      expect(store.slotsAbove(0, 10)).toEqual([]);
      expect(store.entriesAfter(0, 10)).toEqual([]);
      expect(store.entryBySeq(1)).toBeUndefined();
      expect(store.entryById("x")).toBeUndefined();
      expect(store.entriesByIds(["x", "y"])).toEqual([]);
      expect(store.supersededBy("x")).toBeUndefined();
      expect(store.position("A", "S")).toBeUndefined();
      expect(store.positionsOf("A")).toEqual([]);
      expect(store.getSetting("identity")).toBeUndefined();
      expect(tables(state.storage)).toEqual([]);

      store.transaction(() => store.setPromised({ round: 3, proposerId: "p" }));
      expect(tables(state.storage)).toEqual(["entries", "meta", "positions", "slots", "superseded"]);
      // A new store on the same storage (the object after an eviction) finds the tables and the state.
      expect(new SqliteAcceptorStore(state.storage).promised()).toEqual({ round: 3, proposerId: "p" });
    });
  });

  it("a first write that rolls back leaves the store readable, and the next write works", async () => {
    await runInDurableObject(env.ACCEPTOR.getByName(`store-lazy-${crypto.randomUUID()}`), (_i, state) => {
      const store = new SqliteAcceptorStore(state.storage);
      expect(() =>
        store.transaction(() => {
          store.setChosenThrough(1);
          throw new Error("rolled back on purpose");
        }),
      ).toThrow(/on purpose/);
      expect(store.chosenThrough()).toBe(0);
      expect(store.slotsAbove(0, 1)).toEqual([]);
      store.transaction(() =>
        store.putSlot({ slot: 1, ballot: { round: 1, proposerId: "p" }, value: noop_value, chosen: false }),
      );
      expect(store.slot(1)).toMatchObject({ slot: 1, chosen: false });
      expect(store.highestSlot()).toBe(1);
    });
  });
});
