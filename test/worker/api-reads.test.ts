/**
 * The read endpoints through the Worker: list pagination, the head, single entries, read-your-writes
 * with `minSeq` and local reads, positions, and the admin pages `status` and `verify`.
 */
import { describe, expect, test } from "vitest";
import {
  append,
  type Entry,
  expectApiError,
  expectValidChain,
  fill,
  genesis_hash,
  get,
  type Head,
  head,
  hex64,
  type ListResult,
  ledgerPath,
  listAll,
  type Position,
  uniqueLedger,
} from "./http.js";

interface AcceptorStatus {
  region: string;
  reachable: boolean;
  latency_ms: number | null;
  promised: string | null;
  chosenThrough: number | null;
  appliedSeq: number | null;
  headHash: string | null;
}

interface StatusBody {
  ledger: string;
  quorum: { acceptors: number; prepare: number; accept: number };
  acceptors: AcceptorStatus[];
  headsAgree: boolean;
  commits: {
    window_s: number;
    commits: number;
    entries: number;
    latency_ms: { p50: number; p90: number; p99: number; max: number } | null;
  };
}

async function status(ledger: string): Promise<StatusBody> {
  const res = await get(ledgerPath(ledger, "status"));
  expect(res.status).toBe(200);
  return res.json as StatusBody;
}

/** Commits reach the replicas in the background; waits (bounded) until every one has applied `seq`. */
async function replicasApplied(ledger: string, seq: number): Promise<StatusBody> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await status(ledger);
    if (s.acceptors.every((a) => a.appliedSeq === seq) || Date.now() > deadline) return s;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function page(res: { status: number; json: unknown }): ListResult {
  expect(res.status).toBe(200);
  return res.json as ListResult;
}

describe("list", () => {
  test("pages with after and limit; next is the last seq of a full page, null at the end", async () => {
    const ledger = uniqueLedger("page");
    const written = await append(ledger, { entries: [1, 2, 3, 4, 5].map((i) => fill(`p:${i}`)) });
    const lastHash = written.results[4]!.hash;

    const first = page(await get(ledgerPath(ledger, "entries?limit=2")));
    expect(first.ledger).toBe(ledger);
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(first.next).toBe(2);
    expect(first.head).toMatchObject({ seq: 5, hash: lastHash });

    const second = page(await get(ledgerPath(ledger, `entries?after=${first.next}&limit=2`)));
    expect(second.entries.map((e) => e.seq)).toEqual([3, 4]);
    expect(second.next).toBe(4);

    const third = page(await get(ledgerPath(ledger, `entries?after=${second.next}&limit=2`)));
    expect(third.entries.map((e) => e.seq)).toEqual([5]);
    expect(third.next).toBeNull();

    const pages = [...first.entries, ...second.entries, ...third.entries];
    expect(pages.map((e) => e.id)).toEqual(["p:1", "p:2", "p:3", "p:4", "p:5"]);
    expect(await expectValidChain(pages)).toBe(lastHash);

    const past = page(await get(ledgerPath(ledger, "entries?after=5")));
    expect(past.entries).toEqual([]);
    expect(past.next).toBeNull();
    expect(past.head.seq).toBe(5);

    const all = page(await get(ledgerPath(ledger, "entries")));
    expect(all.entries).toEqual(pages);
    expect(all.next).toBeNull();
  });

  test("a never-written ledger lists nothing, and its head is seq 0 with the genesis hash", async () => {
    const ledger = uniqueLedger("empty");
    const list = page(await get(ledgerPath(ledger, "entries")));
    expect(list).toEqual({ ledger, entries: [], next: null, head: { seq: 0, hash: genesis_hash, committedAt: null } });

    const h = await get(ledgerPath(ledger, "head"));
    expect(h.status).toBe(200);
    expect(h.json).toEqual({ ledger, seq: 0, hash: genesis_hash, committedAt: null });
  });
});

describe("single entries", () => {
  test("entries/:seq beyond the head is 404 not_found", async () => {
    const ledger = uniqueLedger("beyond");
    await append(ledger, fill("b:1"));
    const res = await get(ledgerPath(ledger, "entries/2"));
    const error = expectApiError(res, 404, "not_found");
    expect(error.error.details).toMatchObject({ head: { seq: 1 } });
    expectApiError(await get(ledgerPath(ledger, "entries/999999")), 404, "not_found");
  });

  test("entries/1 of a never-written ledger is 404 not_found", async () => {
    expectApiError(await get(ledgerPath(uniqueLedger("none"), "entries/1")), 404, "not_found");
  });

  test("ids/:id of an unknown id is 404 not_found", async () => {
    const ledger = uniqueLedger("unknown-id");
    await append(ledger, fill("known:1"));
    expectApiError(await get(ledgerPath(ledger, "ids/unknown:1")), 404, "not_found");
    expect((await get(ledgerPath(ledger, "ids/known:1"))).status).toBe(200);
  });

  test("an id with URL-escaped characters reads back", async () => {
    const ledger = uniqueLedger("escaped-id");
    const id = "venue/X:exec#7?a=b";
    await append(ledger, fill(id));
    const res = await get(ledgerPath(ledger, `ids/${encodeURIComponent(id)}`));
    expect(res.status).toBe(200);
    expect((res.json as { entry: Entry }).entry).toMatchObject({ id, seq: 1 });
  });
});

describe("consistency", () => {
  test("minSeq reads include the entry just written (read-your-writes)", async () => {
    const ledger = uniqueLedger("ryw");
    await append(ledger, fill("r:1"));
    const receipt = (await append(ledger, fill("r:2", { symbol: "ABC" }))).results[0]!;
    const seq = receipt.seq;
    expect(seq).toBe(2);

    const one = await get(ledgerPath(ledger, `entries/${seq}?minSeq=${seq}`));
    expect(one.status).toBe(200);
    expect((one.json as { entry: Entry }).entry).toMatchObject({ id: "r:2", hash: receipt.hash });

    const byId = await get(ledgerPath(ledger, `ids/r:2?minSeq=${seq}`));
    expect(byId.status).toBe(200);
    expect((byId.json as { entry: Entry }).entry).toMatchObject({ seq, hash: receipt.hash });

    const list = page(await get(ledgerPath(ledger, `entries?minSeq=${seq}`)));
    expect(list.entries.map((e) => e.id)).toEqual(["r:1", "r:2"]);

    const h = await get(ledgerPath(ledger, `head?minSeq=${seq}`));
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ seq, hash: receipt.hash, committedAt: receipt.committedAt });

    const positions = await get(ledgerPath(ledger, `positions?account=ACC-1&minSeq=${seq}`));
    expect(positions.status).toBe(200);
    expect((positions.json as { positions: Position[] }).positions.map((p) => p.symbol)).toEqual(["ABC", "XYZ"]);
  });

  test("consistency=local reads a replica, which holds the entry once the commit has reached it", async () => {
    const ledger = uniqueLedger("local");
    const receipt = (await append(ledger, fill("l:1"))).results[0]!;
    expect((await replicasApplied(ledger, 1)).acceptors.map((a) => a.appliedSeq)).toEqual([1, 1, 1]);

    const one = await get(ledgerPath(ledger, "entries/1?consistency=local"));
    expect(one.status).toBe(200);
    expect((one.json as { entry: Entry }).entry).toMatchObject({ id: "l:1", hash: receipt.hash });
    const byId = await get(ledgerPath(ledger, "ids/l:1?consistency=local"));
    expect(byId.status).toBe(200);
    const list = page(await get(ledgerPath(ledger, "entries?consistency=local")));
    expect(list.entries.map((e) => e.id)).toEqual(["l:1"]);
    const h = await get(ledgerPath(ledger, "head?consistency=local"));
    expect(h.json).toMatchObject({ seq: 1, hash: receipt.hash });
    // Linearizable, spelled out, is the default.
    const lin = await get(ledgerPath(ledger, "head?consistency=linearizable"));
    expect(lin.json).toMatchObject({ seq: 1, hash: receipt.hash });
  });
});

describe("positions", () => {
  test("lists one account's positions by symbol, as decimal strings", async () => {
    const ledger = uniqueLedger("positions");
    await append(ledger, {
      entries: [
        fill("t:1", { account: "ACC-P", symbol: "AAA", side: "buy", quantity: "10", price: "100.25", fee: "0.5" }),
        fill("t:2", { account: "ACC-P", symbol: "AAA", side: "sell", quantity: "4", price: "101" }),
        fill("t:3", { account: "ACC-P", symbol: "BBB", side: "sell", quantity: "3", price: "50" }),
        fill("t:4", { account: "ACC-Q", symbol: "AAA", side: "buy", quantity: "1", price: "1" }),
      ],
    });
    const res = await get(ledgerPath(ledger, "positions?account=ACC-P"));
    expect(res.status).toBe(200);
    const body = res.json as { ledger: string; account: string; positions: Position[]; asOf: Head };
    expect(body.ledger).toBe(ledger);
    expect(body.account).toBe("ACC-P");
    expect(body.asOf).toMatchObject({ seq: 4 });
    expect(body.positions).toEqual([
      {
        account: "ACC-P",
        symbol: "AAA",
        quantity: "6",
        costBasis: "601.5",
        averagePrice: "100.25",
        realizedPnl: "2.5",
        fees: "0.5",
        lastSeq: 2,
      },
      {
        account: "ACC-P",
        symbol: "BBB",
        quantity: "-3",
        costBasis: "-150",
        averagePrice: "50",
        realizedPnl: "0",
        fees: "0",
        lastSeq: 3,
      },
    ]);
    for (const p of body.positions) {
      for (const field of ["quantity", "costBasis", "averagePrice", "realizedPnl", "fees"] as const) {
        expect(typeof p[field]).toBe("string");
      }
    }

    const none = await get(ledgerPath(ledger, "positions?account=NOBODY"));
    expect(none.status).toBe(200);
    expect((none.json as { positions: Position[] }).positions).toEqual([]);
  });
});

describe("admin pages", () => {
  test("status lists the three acceptors, reachable, with their applied heads, and the heads agree", async () => {
    const ledger = uniqueLedger("status");
    const written = await append(ledger, { entries: [fill("s:1"), fill("s:2"), fill("s:3")] });
    const last = written.results[2]!;
    const s = await replicasApplied(ledger, 3);
    expect(s.ledger).toBe(ledger);
    expect(s.quorum).toEqual({ acceptors: 3, prepare: 2, accept: 2 });
    expect(s.headsAgree).toBe(true);
    expect(s.acceptors.map((a) => a.region).sort()).toEqual(["enam", "weur", "wnam"]);
    for (const a of s.acceptors) {
      expect(a).toMatchObject({ reachable: true, appliedSeq: 3, headHash: last.hash });
      expect(a.chosenThrough).toBeGreaterThanOrEqual(last.slot);
      expect(typeof a.latency_ms).toBe("number");
      expect(a.promised).toMatch(/^\d+\.\S+$/);
    }
    // This isolate's proposer committed the one slot of the batch, and times it.
    expect(s.commits).toMatchObject({ window_s: 60, commits: 1, entries: 3 });
    expect(s.commits.latency_ms!.p50).toBeGreaterThanOrEqual(0);
    expect(s.commits.latency_ms!.p99).toBeGreaterThanOrEqual(s.commits.latency_ms!.p50);
  });

  test("status of a never-written ledger: every acceptor reachable at seq 0", async () => {
    const s = await status(uniqueLedger("status-empty"));
    expect(s.headsAgree).toBe(true);
    expect(s.acceptors).toHaveLength(3);
    for (const a of s.acceptors)
      expect(a).toMatchObject({ reachable: true, chosenThrough: 0, appliedSeq: 0, headHash: genesis_hash });
    expect(s.commits).toEqual({ window_s: 60, commits: 0, entries: 0, latency_ms: null });
  });

  test("verify recomputes the whole chain on a replica: verified, complete, through the head", async () => {
    const ledger = uniqueLedger("verify");
    await append(ledger, { entries: [fill("v:1"), fill("v:2")] });
    await append(ledger, fill("v:3", { side: "sell", quantity: "1" }));
    const h = await head(ledger);
    expect(h.seq).toBe(3);
    await replicasApplied(ledger, 3);

    const res = await get(ledgerPath(ledger, "verify"));
    expect(res.status).toBe(200);
    const body = res.json as {
      ledger: string;
      region: string;
      verified: boolean;
      checkedThrough: number;
      head: Head;
      complete: boolean;
    };
    expect(body).toMatchObject({
      ledger,
      verified: true,
      checkedThrough: 3,
      complete: true,
      head: { seq: 3, hash: h.hash },
    });
    expect(["enam", "wnam", "weur"]).toContain(body.region);
    expect(body).not.toHaveProperty("brokenAt");

    for (const region of ["enam", "wnam", "weur"]) {
      const r = await get(ledgerPath(ledger, `verify?region=${region}`));
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ region, verified: true, checkedThrough: 3, complete: true });
    }
    // And the client's own recomputation agrees with the head the server reports.
    expect(await expectValidChain(await listAll(ledger))).toBe(h.hash);
    expect(h.hash).toMatch(hex64);
  });

  test("verify of a never-written ledger checks nothing and is complete", async () => {
    const ledger = uniqueLedger("verify-empty");
    const res = await get(ledgerPath(ledger, "verify"));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ledger, verified: true, checkedThrough: 0, complete: true, head: { seq: 0 } });
  });

  test("verify of a region that holds no replica is 400", async () => {
    const ledger = uniqueLedger("verify-region");
    expectApiError(await get(ledgerPath(ledger, "verify?region=apac")), 400, "invalid_request");
    expectApiError(await get(ledgerPath(ledger, "verify?region=mars")), 400, "invalid_request");
  });
});
