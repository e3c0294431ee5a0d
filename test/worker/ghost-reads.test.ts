/**
 * Reads must not create storage. Any name a read-only key can type is a ledger: 300 reads of
 * never-written names used to create 900 SQLite databases (one per acceptor), because the acceptor
 * created its schema in its constructor. A read of a ledger that was never written answers as an
 * empty ledger (seq 0, genesis hash) and leaves its acceptors without a single table.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { acceptorStub, regions } from "./cluster.js";
import { append, expectApiError, fill, genesis_hash, get, ledgerPath, listAll, uniqueLedger } from "./http.js";

/** The tables (and indexes) in an acceptor's SQLite database, besides SQLite's and the platform's own. */
async function storedTables(
  ledger: string,
  region: (typeof regions)[number],
): Promise<{ names: string[]; bytes: number }> {
  return runInDurableObject(acceptorStub(ledger, region), (_instance, state) => ({
    names: state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
      )
      .toArray()
      .map((r) => r.name),
    bytes: state.storage.sql.databaseSize,
  }));
}

/** Every read route, as a read-only key calls it. */
const read_routes = [
  "entries",
  "entries?consistency=local",
  "entries?minSeq=1",
  "entries/1",
  "ids/never:1",
  "head",
  "head?consistency=local",
  "positions?account=ACC-1",
  "verify",
  "status",
] as const;

describe("reads of a ledger that was never written", () => {
  it("answer as an empty ledger and create no table on any acceptor", async () => {
    const ghosts = Array.from({ length: 3 }, () => uniqueLedger("ghost"));
    for (const ledger of ghosts) {
      for (const route of read_routes) {
        const res = await get(ledgerPath(ledger, route), "test-read");
        if (route === "entries/1" || route === "ids/never:1") {
          expectApiError(res, 404, "not_found");
          continue;
        }
        // status and verify need the admin scope: the read-only key is refused before any replica is called.
        if (route === "status" || route === "verify") {
          expect(res.status, `${route}: ${res.text}`).toBe(403);
          const admin = await get(ledgerPath(ledger, route), "test-all");
          expect(admin.status, `${route}: ${admin.text}`).toBe(200);
          continue;
        }
        expect(res.status, `${route}: ${res.text}`).toBe(200);
      }
      expect((await get(ledgerPath(ledger, "head"), "test-read")).json).toEqual({
        ledger,
        seq: 0,
        hash: genesis_hash,
        committedAt: null,
      });
      expect((await get(ledgerPath(ledger, "entries"), "test-read")).json).toMatchObject({
        entries: [],
        next: null,
        head: { seq: 0 },
      });
    }
    for (const ledger of ghosts) {
      for (const region of regions)
        expect((await storedTables(ledger, region)).names, `${ledger}:${region}`).toEqual([]);
    }
  });

  it("a ledger first read, then written: the write creates the storage and reads see it", async () => {
    const ledger = uniqueLedger("ghost-then-written");
    expect((await get(ledgerPath(ledger, "head"), "test-read")).json).toMatchObject({ seq: 0 });
    for (const region of regions) expect((await storedTables(ledger, region)).names).toEqual([]);

    const receipt = (await append(ledger, fill("g:1"))).results[0]!;
    expect(receipt).toMatchObject({ status: "created", seq: 1 });
    expect((await listAll(ledger)).map((e) => e.id)).toEqual(["g:1"]);
    const written = await storedTables(ledger, "enam");
    expect(written.names).toEqual(expect.arrayContaining(["entries", "meta", "positions", "slots", "superseded"]));
    expect((await append(ledger, fill("g:2"))).results[0]).toMatchObject({ status: "created", seq: 2 });
  });
});
