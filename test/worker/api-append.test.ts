/**
 * POST /v1/ledgers/:ledger/entries through the Worker: receipts, reads after an append, idempotent
 * retries, id conflicts, atomic batches, concurrent appends and the hash chain, busts and corrections.
 */
import { describe, expect, test } from "vitest";
import {
  type ApiResponse,
  type AppendResult,
  append,
  type Entry,
  expectApiError,
  expectAppended,
  expectValidChain,
  fill,
  get,
  head,
  hex64,
  type ListResult,
  ledgerPath,
  listAll,
  type Position,
  post,
  type Receipt,
  rfc3339,
  uniqueLedger,
} from "./http.js";

function expectReceipt(r: Receipt | undefined, id: string, status: Receipt["status"], seq: number): Receipt {
  expect(r).toBeDefined();
  const receipt = r!;
  expect(receipt).toMatchObject({ id, status, seq });
  expect(Object.keys(receipt).sort()).toEqual(["committedAt", "hash", "id", "seq", "slot", "status"]);
  expect(receipt.hash).toMatch(hex64);
  expect(receipt.committedAt).toMatch(rfc3339);
  expect(Number.isNaN(Date.parse(receipt.committedAt))).toBe(false);
  expect(Number.isSafeInteger(receipt.slot) && receipt.slot >= 1).toBe(true);
  return receipt;
}

async function positionsOf(ledger: string, account: string): Promise<Position[]> {
  const res = await get(ledgerPath(ledger, `positions?account=${account}`));
  expect(res.status).toBe(200);
  return (res.json as { positions: Position[] }).positions;
}

async function entryById(ledger: string, id: string): Promise<number> {
  return (await get(ledgerPath(ledger, `ids/${encodeURIComponent(id)}`))).status;
}

describe("one entry", () => {
  test("is committed with a receipt: 201, seq 1, a hash, an RFC 3339 time and a slot", async () => {
    const ledger = uniqueLedger("append-one");
    const entry = fill("venue:exec-1", {
      tradeTime: "2026-01-02T03:04:05.678Z",
      venue: "XNYS",
      metadata: { desk: "a" },
    });
    const res = await post(ledgerPath(ledger, "entries"), entry);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    const body = res.json as AppendResult;
    expect(body.ledger).toBe(ledger);
    expect(body.results).toHaveLength(1);
    expectReceipt(body.results[0], "venue:exec-1", "created", 1);
  });

  test("reads back by seq, by id, in the list, in the head and in positions", async () => {
    const ledger = uniqueLedger("append-read");
    const entry = fill("venue:exec-1", { side: "buy", quantity: "10", price: "100.5", fee: "1.25" });
    const receipt = expectReceipt((await append(ledger, entry)).results[0], "venue:exec-1", "created", 1);

    const expected = {
      ...entry,
      seq: 1,
      slot: receipt.slot,
      committedAt: receipt.committedAt,
      prevHash: "0".repeat(64),
      hash: receipt.hash,
    };
    const bySeq = await get(ledgerPath(ledger, "entries/1"));
    expect(bySeq.status).toBe(200);
    expect(bySeq.json).toEqual({ ledger, entry: expected });

    const byId = await get(ledgerPath(ledger, "ids/venue:exec-1"));
    expect(byId.status).toBe(200);
    expect(byId.json).toEqual({ ledger, entry: expected });

    const list = await get(ledgerPath(ledger, "entries"));
    expect(list.status).toBe(200);
    expect(list.json).toEqual({
      ledger,
      entries: [expected],
      next: null,
      head: { seq: 1, hash: receipt.hash, committedAt: receipt.committedAt },
    });

    const h = await get(ledgerPath(ledger, "head"));
    expect(h.status).toBe(200);
    expect(h.json).toEqual({ ledger, seq: 1, hash: receipt.hash, committedAt: receipt.committedAt });

    expect(await positionsOf(ledger, "ACC-1")).toEqual([
      {
        account: "ACC-1",
        symbol: "XYZ",
        quantity: "10",
        costBasis: "1005",
        averagePrice: "100.5",
        realizedPnl: "-1.25",
        fees: "1.25",
        lastSeq: 1,
      },
    ]);
    await expectValidChain([(bySeq.json as { entry: Entry }).entry]);
  });
});

describe("idempotency", () => {
  test("the same body again returns 200 with status exists and the original receipt", async () => {
    const ledger = uniqueLedger("idem");
    const entry = fill("v:1");
    const first = expectReceipt((await append(ledger, entry)).results[0], "v:1", "created", 1);
    // Another entry in between, so the original receipt is not simply "the head".
    await append(ledger, fill("v:2"));

    const retry = await post(ledgerPath(ledger, "entries"), entry);
    const body = expectAppended(retry, 200);
    expect(body.ledger).toBe(ledger);
    expect(body.results).toEqual([{ ...first, status: "exists" }]);
    expect((await head(ledger)).seq).toBe(2);
  });

  test("the same body with its keys in another order is the same entry", async () => {
    const ledger = uniqueLedger("idem-order");
    const entry = fill("v:1", { venue: "XNAS" });
    const first = (await append(ledger, entry)).results[0]!;
    const reordered = Object.fromEntries(Object.entries(entry).reverse());
    const retry = expectAppended(await post(ledgerPath(ledger, "entries"), reordered), 200);
    expect(retry.results).toEqual([{ ...first, status: "exists" }]);
  });

  test("the same id with a different body is 409 id_conflict and changes nothing", async () => {
    const ledger = uniqueLedger("conflict");
    await append(ledger, fill("v:1", { quantity: "10" }));
    const before = await head(ledger);

    const res = await post(ledgerPath(ledger, "entries"), fill("v:1", { quantity: "11" }));
    const error = expectApiError(res, 409, "id_conflict");
    expect(error.error.details).toEqual({ index: 0, id: "v:1" });

    expect(await head(ledger)).toEqual(before);
    const stored = await get(ledgerPath(ledger, "ids/v:1"));
    expect((stored.json as { entry: Entry }).entry.quantity).toBe("10");
  });

  test("adding an optional field to a known id is a conflict too", async () => {
    const ledger = uniqueLedger("conflict-field");
    await append(ledger, fill("v:1"));
    const res = await post(ledgerPath(ledger, "entries"), fill("v:1", { venue: "XNAS" }));
    expectApiError(res, 409, "id_conflict");
    expect((await head(ledger)).seq).toBe(1);
  });
});

describe("batches", () => {
  test("a batch of 3 is committed atomically with dense seqs", async () => {
    const ledger = uniqueLedger("batch");
    const res = await post(ledgerPath(ledger, "entries"), {
      entries: [fill("b:1"), fill("b:2", { side: "sell" }), fill("b:3")],
    });
    const body = expectAppended(res, 201);
    expect(body.ledger).toBe(ledger);
    expect(body.results).toHaveLength(3);
    const receipts = body.results.map((r, i) => expectReceipt(r, `b:${i + 1}`, "created", i + 1));
    // One request is one batch: it lands in one slot.
    expect(new Set(receipts.map((r) => r.slot)).size).toBe(1);
    expect(new Set(receipts.map((r) => r.hash)).size).toBe(3);
    const entries = await listAll(ledger);
    expect(entries.map((e) => e.id)).toEqual(["b:1", "b:2", "b:3"]);
    expect(entries.map((e) => e.hash)).toEqual(receipts.map((r) => r.hash));
    await expectValidChain(entries);
  });

  test("a batch in which one entry conflicts applies none of it", async () => {
    const ledger = uniqueLedger("batch-conflict");
    await append(ledger, fill("x:1", { quantity: "1" }));
    const before = await head(ledger);

    const res = await post(ledgerPath(ledger, "entries"), {
      entries: [fill("x:2"), fill("x:3"), fill("x:1", { quantity: "2" }), fill("x:4")],
    });
    const error = expectApiError(res, 409, "id_conflict");
    expect(error.error.details).toEqual({ index: 2, id: "x:1" });

    for (const id of ["x:2", "x:3", "x:4"]) expect(await entryById(ledger, id)).toBe(404);
    expect(await head(ledger)).toEqual(before);
    expect((await listAll(ledger)).map((e) => e.id)).toEqual(["x:1"]);
    expect((await positionsOf(ledger, "ACC-1"))[0]?.quantity).toBe("1");
  });

  test("a batch of a known id (same body) and new ids: 201, one exists and the rest created", async () => {
    const ledger = uniqueLedger("batch-mixed");
    const known = fill("m:1");
    const original = (await append(ledger, known)).results[0]!;

    const res = await post(ledgerPath(ledger, "entries"), { entries: [fill("m:2"), known, fill("m:3")] });
    const body = expectAppended(res, 201);
    expect(body.results).toHaveLength(3);
    expectReceipt(body.results[0], "m:2", "created", 2);
    expect(body.results[1]).toEqual({ ...original, status: "exists" });
    expectReceipt(body.results[2], "m:3", "created", 3);
    expect((await head(ledger)).seq).toBe(3);
  });

  test("a batch that only repeats known ids is 200 with every receipt exists", async () => {
    const ledger = uniqueLedger("batch-exists");
    const first = await append(ledger, { entries: [fill("e:1"), fill("e:2")] });
    const again = expectAppended(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("e:2"), fill("e:1")] }),
      200,
    );
    expect(again.results).toEqual([
      { ...first.results[1]!, status: "exists" },
      { ...first.results[0]!, status: "exists" },
    ]);
    expect((await head(ledger)).seq).toBe(2);
  });
});

/** A response's status, or the error that took its place (the runtime cancelling a hung request, say). */
function outcomeOf(r: PromiseSettledResult<ApiResponse>): number | string {
  return r.status === "fulfilled" ? r.value.status : String(r.reason);
}

describe("concurrency", () => {
  test("two concurrent appends both commit, and the ledger keeps serving afterwards", async () => {
    const ledger = uniqueLedger("pair");
    const settled = await Promise.allSettled([
      post(ledgerPath(ledger, "entries"), fill("c:1")),
      post(ledgerPath(ledger, "entries"), fill("c:2")),
    ]);
    expect(settled.map(outcomeOf)).toEqual([201, 201]);
    const later = await Promise.allSettled([post(ledgerPath(ledger, "entries"), fill("c:3"))]);
    expect(later.map(outcomeOf)).toEqual([201]);
    const h = await Promise.allSettled([get(ledgerPath(ledger, "head"))]);
    expect(h.map(outcomeOf)).toEqual([200]);
    expect((h[0] as PromiseFulfilledResult<ApiResponse>).value.json).toMatchObject({ seq: 3 });
  });

  test("40 parallel appends all commit once each, with seqs 1..40 and a valid hash chain", async () => {
    const ledger = uniqueLedger("parallel");
    const n = 40;
    const ids = Array.from({ length: n }, (_, i) => `p:${i}`);
    const settled = await Promise.allSettled(
      ids.map((id, i) =>
        post(ledgerPath(ledger, "entries"), fill(id, { side: i % 2 === 0 ? "buy" : "sell", quantity: String(i + 1) })),
      ),
    );
    expect(settled.map(outcomeOf)).toEqual(ids.map(() => 201));
    const responses = settled.map((r) => (r as PromiseFulfilledResult<ApiResponse>).value);
    const receipts = responses.map((res, i) => {
      const body = expectAppended(res, 201);
      expect(body.results).toHaveLength(1);
      expect(body.results[0]).toMatchObject({ id: ids[i], status: "created" });
      return body.results[0]!;
    });
    expect(receipts.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));

    const list = await get(ledgerPath(ledger, "entries?limit=1000"));
    expect(list.status).toBe(200);
    const body = list.json as ListResult;
    expect(body.entries).toHaveLength(n);
    expect(body.head.seq).toBe(n);
    const bySeq = new Map(receipts.map((r) => [r.seq, r]));
    for (const e of body.entries) {
      const r = bySeq.get(e.seq)!;
      expect({ id: e.id, hash: e.hash, slot: e.slot, committedAt: e.committedAt }).toEqual({
        id: r.id,
        hash: r.hash,
        slot: r.slot,
        committedAt: r.committedAt,
      });
    }
    // committedAt never decreases along the ledger.
    const times = body.entries.map((e) => Date.parse(e.committedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const last = await expectValidChain(body.entries);
    expect(body.head.hash).toBe(last);

    // A second round of the same 40 requests, also in parallel: every one is `exists`, nothing new.
    const retries = await Promise.all(
      ids.map((id, i) =>
        post(ledgerPath(ledger, "entries"), fill(id, { side: i % 2 === 0 ? "buy" : "sell", quantity: String(i + 1) })),
      ),
    );
    retries.forEach((res, i) => {
      const again = expectAppended(res, 200);
      expect(again.results).toEqual([{ ...receipts[i]!, status: "exists" }]);
    });
    expect((await head(ledger)).seq).toBe(n);
  });
});

describe("busts and corrections", () => {
  test("a bust removes its fill from the position; a correction replaces its fill", async () => {
    const ledger = uniqueLedger("bust");
    await append(ledger, {
      entries: [fill("f:1", { quantity: "10", price: "100" }), fill("f:2", { quantity: "5", price: "110" })],
    });
    expect(await positionsOf(ledger, "ACC-1")).toEqual([
      {
        account: "ACC-1",
        symbol: "XYZ",
        quantity: "15",
        costBasis: "1550",
        averagePrice: "103.333333333333",
        realizedPnl: "0",
        fees: "0",
        lastSeq: 2,
      },
    ]);

    const bust = await append(
      ledger,
      fill("f:1-bust", { quantity: "10", price: "100", execType: "bust", refId: "f:1" }),
    );
    expect(bust.results[0]).toMatchObject({ id: "f:1-bust", status: "created", seq: 3 });
    expect(await positionsOf(ledger, "ACC-1")).toEqual([
      {
        account: "ACC-1",
        symbol: "XYZ",
        quantity: "5",
        costBasis: "550",
        averagePrice: "110",
        realizedPnl: "0",
        fees: "0",
        lastSeq: 3,
      },
    ]);

    const correction = await append(
      ledger,
      fill("f:2-corr", { quantity: "4", price: "111", execType: "correction", refId: "f:2" }),
    );
    expect(correction.results[0]).toMatchObject({ id: "f:2-corr", status: "created", seq: 4 });
    expect(await positionsOf(ledger, "ACC-1")).toEqual([
      {
        account: "ACC-1",
        symbol: "XYZ",
        quantity: "4",
        costBasis: "444",
        averagePrice: "111",
        realizedPnl: "0",
        fees: "0",
        lastSeq: 4,
      },
    ]);
    await expectValidChain(await listAll(ledger));
  });

  test("a bust of an unknown refId is 409 invalid_reference and changes nothing", async () => {
    const ledger = uniqueLedger("bust-unknown");
    await append(ledger, fill("f:1"));
    const before = await head(ledger);
    const positions = await positionsOf(ledger, "ACC-1");

    const res = await post(ledgerPath(ledger, "entries"), fill("bust:1", { execType: "bust", refId: "no-such-fill" }));
    const error = expectApiError(res, 409, "invalid_reference");
    expect(error.error.details).toEqual({ index: 0, id: "bust:1" });

    expect(await head(ledger)).toEqual(before);
    expect(await entryById(ledger, "bust:1")).toBe(404);
    expect(await positionsOf(ledger, "ACC-1")).toEqual(positions);
  });

  test("a second bust of the same fill is 409 invalid_reference", async () => {
    const ledger = uniqueLedger("bust-twice");
    await append(ledger, fill("f:1"));
    await append(ledger, fill("f:1-bust", { execType: "bust", refId: "f:1" }));
    const before = await head(ledger);
    const res = await post(ledgerPath(ledger, "entries"), fill("f:1-bust-again", { execType: "bust", refId: "f:1" }));
    expectApiError(res, 409, "invalid_reference");
    expect(await head(ledger)).toEqual(before);
  });

  test("a bust of a fill of another account is 409 invalid_reference", async () => {
    const ledger = uniqueLedger("bust-other");
    await append(ledger, fill("f:1", { account: "ACC-1" }));
    const res = await post(
      ledgerPath(ledger, "entries"),
      fill("f:1-bust", { account: "ACC-2", execType: "bust", refId: "f:1" }),
    );
    expectApiError(res, 409, "invalid_reference");
    expect((await head(ledger)).seq).toBe(1);
  });

  test("a batch that fills and busts in one request applies both", async () => {
    const ledger = uniqueLedger("bust-batch");
    const res = await post(ledgerPath(ledger, "entries"), {
      entries: [fill("f:1", { quantity: "3" }), fill("f:1-bust", { quantity: "3", execType: "bust", refId: "f:1" })],
    });
    const body = expectAppended(res, 201);
    expect(body.results.map((r) => r.seq)).toEqual([1, 2]);
    const positions = await positionsOf(ledger, "ACC-1");
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ quantity: "0", costBasis: "0", lastSeq: 2 });
  });
});
