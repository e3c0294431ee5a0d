/**
 * Replication through the Worker's own fetch, with the fault transport as outages (docs/design.md sections
 * 6 and 8): a minority down still commits and reads; a majority down is 503 quorum_unavailable with
 * an unknown outcome, and retrying the same ids after healing commits exactly once; a lagging
 * acceptor catches up, through the gap the next commit shows it, or after a restart without new
 * writes. Faults are per isolate: every test resets them.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { acceptorStub, callJson as call, type Region, regions, type Status, setFaults, status } from "./cluster.js";
import { type Entry, listAll, type Receipt, uniqueLedger } from "./http.js";
import { convergenceTimeout_ms, measureRoundTrip_ms } from "./timing.js";

/** Measured once per file: the convergence waits are sized from it, not fixed (a busy machine is slow). */
let roundTrip_ms = 0;
beforeAll(async () => {
  roundTrip_ms = await measureRoundTrip_ms();
});

function fill(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "3", price: "101.25", ...overrides };
}

async function appendOk(ledger: string, body: unknown, expected_status: 200 | 201 = 201): Promise<Receipt[]> {
  const res = await call("POST", `/v1/ledgers/${ledger}/entries`, body);
  expect({ status: res.status, body: res.json }).toMatchObject({ status: expected_status });
  return (res.json as { results: Receipt[] }).results;
}

/** One acceptor's whole applied ledger, read from its own SQLite storage. */
function replicaEntries(ledger: string, region: Region): Promise<Entry[]> {
  return runInDurableObject(
    acceptorStub(ledger, region),
    (instance) => instance.readEntries(0, 1000).entries as unknown as Entry[],
  );
}

/** Every acceptor reachable, at the same applied seq with the same head hash. */
function converged(s: Status, seq: number): boolean {
  return (
    s.headsAgree &&
    s.acceptors.length === regions.length &&
    s.acceptors.every((a) => a.reachable && a.appliedSeq === seq && a.headHash === s.acceptors[0]!.headHash)
  );
}

/** Each receipt is in the ledger exactly once, at its seq, with its hash; ids are unique; seqs are dense. */
function expectReceiptsInLedger(entries: readonly Entry[], receipts: readonly Receipt[]): void {
  const ids = entries.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  for (const r of receipts) {
    const found = entries.filter((e) => e.id === r.id);
    expect(found, `entry ${r.id}`).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: r.id, seq: r.seq, hash: r.hash, slot: r.slot });
  }
}

afterEach(async () => {
  await setFaults({});
});

describe("one region of three down", () => {
  it("appends still commit (201) and every read works", async () => {
    const ledger = uniqueLedger("repl-minority");
    await setFaults({ down: ["weur"] });
    const receipts: Receipt[] = [];
    for (let i = 1; i <= 4; i++) receipts.push(...(await appendOk(ledger, fill(`m:${i}`))));
    receipts.push(
      ...(await appendOk(ledger, { entries: [fill("m:5"), fill("m:6", { side: "sell", quantity: "1" })] })),
    );
    expect(receipts.map((r) => [r.id, r.status, r.seq])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [`m:${n}`, "created", n]),
    );

    const entries = await listAll(ledger);
    expect(entries.map((e) => e.id)).toEqual(receipts.map((r) => r.id));
    expectReceiptsInLedger(entries, receipts);
    for (const r of receipts) {
      const byId = await call("GET", `/v1/ledgers/${ledger}/ids/${encodeURIComponent(r.id)}`);
      expect(byId.status).toBe(200);
      expect((byId.json as { entry: Entry }).entry).toMatchObject({ id: r.id, seq: r.seq, hash: r.hash });
    }
    const bySeq = await call("GET", `/v1/ledgers/${ledger}/entries/6`);
    expect((bySeq.json as { entry: Entry }).entry).toMatchObject({ id: "m:6", hash: receipts[5]!.hash });
    const head = await call("GET", `/v1/ledgers/${ledger}/head`);
    expect(head.json).toMatchObject({ seq: 6, hash: receipts[5]!.hash });
    const positions = await call("GET", `/v1/ledgers/${ledger}/positions?account=ACC-1`);
    expect(positions.json).toMatchObject({ positions: [{ symbol: "XYZ", quantity: "14" }] });
    const local = await call("GET", `/v1/ledgers/${ledger}/entries?consistency=local&minSeq=6`);
    expect((local.json as { entries: Entry[] }).entries.map((e) => e.id)).toEqual(receipts.map((r) => r.id));
    const verify = await call("GET", `/v1/ledgers/${ledger}/verify?region=enam`);
    expect(verify.json).toMatchObject({ verified: true, complete: true, checkedThrough: 6 });

    const s = await status(ledger);
    expect(s.acceptors.find((a) => a.region === "weur")).toMatchObject({ reachable: false, appliedSeq: null });
    expect(
      s.acceptors
        .filter((a) => a.reachable)
        .map((a) => a.region)
        .sort(),
    ).toEqual(["enam", "wnam"]);
    expect(s.headsAgree).toBe(true);
    // The partitioned acceptor heard nothing.
    expect(await replicaEntries(ledger, "weur")).toEqual([]);
  });
});

describe("GET /verify with a region down", () => {
  it("asked for the down region's replica: 503 quorum_unavailable as JSON with Retry-After, not a 500", async () => {
    const ledger = uniqueLedger("repl-verify-down");
    await appendOk(ledger, fill("v:1"));
    await setFaults({ down: ["weur"] });
    const res = await call("GET", `/v1/ledgers/${ledger}/verify?region=weur`);
    expect({ status: res.status, body: res.json }).toMatchObject({
      status: 503,
      body: { error: { code: "quorum_unavailable" } },
    });
    expect(res.headers.get("retry-after")).not.toBeNull();
  });

  it("a replica that never answers (every call lost): 503 after a bounded wait, as reads do, never a hung request", async () => {
    const ledger = uniqueLedger("repl-verify-lost");
    await appendOk(ledger, fill("v:1"));
    await setFaults({ drop_rate: 1 });
    const started = Date.now();
    const res = await call("GET", `/v1/ledgers/${ledger}/verify?region=enam`);
    expect({ status: res.status, body: res.json }).toMatchObject({
      status: 503,
      body: { error: { code: "quorum_unavailable" } },
    });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("without a region, when the nearest replica is down, verifies on a reachable one", async () => {
    const ledger = uniqueLedger("repl-verify-nearest");
    await appendOk(ledger, fill("v:1"));
    // Make weur the nearest replica as the Worker measures latency (status probes every region), then take it down.
    await setFaults({ delay_ms: { enam: 60, wnam: 60 } });
    for (let i = 0; i < 3; i++) await status(ledger);
    await setFaults({ down: ["weur"] });
    const res = await call("GET", `/v1/ledgers/${ledger}/verify`);
    expect({ status: res.status, body: res.json }).toMatchObject({
      status: 200,
      body: { verified: true, complete: true, checkedThrough: 1 },
    });
    expect(["enam", "wnam"]).toContain((res.json as { region: string }).region);
  });
});

describe("two regions of three down", () => {
  it("answers 503 quorum_unavailable with Retry-After and an unknown outcome; the same request after healing commits exactly once", async () => {
    const ledger = uniqueLedger("repl-majority");
    // A warm proposer (cached leadership), so the failed request reaches the one live acceptor's Accept.
    const first = await appendOk(ledger, fill("q:0"));
    const request = {
      entries: [fill("q:1"), fill("q:2", { symbol: "ABC" }), fill("q:3", { side: "sell", quantity: "2" })],
    };

    await setFaults({ down: ["wnam", "weur"] });
    const failed = await call("POST", `/v1/ledgers/${ledger}/entries`, request);
    expect(failed.status, JSON.stringify(failed.json)).toBe(503);
    expect(failed.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    const retryAfter = failed.headers.get("retry-after");
    expect(retryAfter).not.toBeNull();
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const error = (failed.json as { error: { code: string; message: string; details?: { outcome?: string } } }).error;
    expect(error.code).toBe("quorum_unavailable");
    expect(error.details?.outcome).toBe("unknown");
    expect(error.message).toMatch(/outcome is unknown/i);
    // A read without a quorum cannot be linearizable either.
    const read = await call("GET", `/v1/ledgers/${ledger}/head`);
    expect(read.status).toBe(503);
    expect(read.json).toMatchObject({ error: { code: "quorum_unavailable" } });

    await setFaults({});
    const retried = await call("POST", `/v1/ledgers/${ledger}/entries`, request);
    expect([200, 201], JSON.stringify(retried.json)).toContain(retried.status);
    const receipts = (retried.json as { results: Receipt[] }).results;
    expect(receipts.map((r) => r.id)).toEqual(["q:1", "q:2", "q:3"]);
    expect(receipts.map((r) => r.seq)).toEqual([2, 3, 4]);
    // All created by the retry (201), or all already chosen from the failed attempt (200): never a mix.
    expect(new Set(receipts.map((r) => r.status)).size).toBe(1);
    expect(retried.status).toBe(receipts[0]!.status === "created" ? 201 : 200);

    const entries = await listAll(ledger);
    expect(entries.map((e) => e.id)).toEqual(["q:0", "q:1", "q:2", "q:3"]);
    expectReceiptsInLedger(entries, [...first, ...receipts]);
    for (const r of receipts) {
      const byId = await call("GET", `/v1/ledgers/${ledger}/ids/${encodeURIComponent(r.id)}`);
      expect(byId.status).toBe(200);
      expect((byId.json as { entry: Entry }).entry).toMatchObject({ id: r.id, seq: r.seq, hash: r.hash });
    }

    // Once more: the original receipts, nothing new.
    const again = await appendOk(ledger, request, 200);
    expect(again).toEqual(receipts.map((r) => ({ ...r, status: "exists" })));
    expect((await listAll(ledger)).map((e) => e.id)).toEqual(["q:0", "q:1", "q:2", "q:3"]);
    await expect
      .poll(async () => converged(await status(ledger), 4), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 100,
      })
      .toBe(true);
  });
});

describe("an unknown outcome that was chosen after all", () => {
  it("a retry gets the failed request's original receipts (200, exists) when recovery finishes its slot", async () => {
    const ledger = uniqueLedger("repl-unknown");
    await appendOk(ledger, fill("u:0")); // warm: the next request goes straight to Accept
    const request = { entries: [fill("u:1"), fill("u:2", { account: "ACC-2" })] };

    // Only enam hears the Accept: it holds the request's value in slot 2, not chosen.
    await setFaults({ down: ["wnam", "weur"] });
    const failed = await call("POST", `/v1/ledgers/${ledger}/entries`, request);
    expect(failed.status, JSON.stringify(failed.json)).toBe(503);
    expect(failed.json).toMatchObject({ error: { code: "quorum_unavailable", details: { outcome: "unknown" } } });
    const held = await runInDurableObject(acceptorStub(ledger, "enam"), (instance) => instance.readState());
    expect(held).toMatchObject({ chosenThrough: 1, highestSlot: 2 });

    // Any prepare quorum now includes enam, so phase 1 must recover that value into slot 2.
    await setFaults({ down: ["weur"] });
    const retried = await appendOk(ledger, request, 200);
    expect(retried.map((r) => [r.id, r.status, r.seq, r.slot])).toEqual([
      ["u:1", "exists", 2, 2],
      ["u:2", "exists", 3, 2],
    ]);
    const entries = await listAll(ledger);
    expect(entries.map((e) => e.id)).toEqual(["u:0", "u:1", "u:2"]);
    expectReceiptsInLedger(entries, retried);

    await setFaults({});
    const last = await appendOk(ledger, fill("u:3"));
    expect(last[0]).toMatchObject({ status: "created", seq: 4 });
    await expect
      .poll(async () => converged(await status(ledger), 4), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 200,
      })
      .toBe(true);
  });
});

describe("a lagging acceptor", () => {
  it("catches up once healed: the next append's commit shows it the gap, its alarm fetches the rest", async () => {
    const ledger = uniqueLedger("repl-gap");
    const receipts = await appendOk(ledger, fill("g:0"));
    await expect
      .poll(async () => converged(await status(ledger), 1), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 100,
      })
      .toBe(true);

    await setFaults({ down: ["wnam"] });
    const n = 8;
    for (let i = 1; i <= n; i++) receipts.push(...(await appendOk(ledger, fill(`g:${i}`))));
    const behind = await runInDurableObject(acceptorStub(ledger, "wnam"), (instance) => instance.readState());
    expect(behind.head.seq).toBe(1);

    await setFaults({});
    receipts.push(...(await appendOk(ledger, fill("g:last"))));
    const total = n + 2;
    // Nothing but status probes from here on: the commit's gap armed wnam's alarm, which fires by itself.
    await expect
      .poll(async () => converged(await status(ledger), total), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 200,
      })
      .toBe(true);

    const ledgerEntries = await listAll(ledger);
    expectReceiptsInLedger(ledgerEntries, receipts);
    for (const region of regions) expect(await replicaEntries(ledger, region), region).toEqual(ledgerEntries);
    const verify = await call("GET", `/v1/ledgers/${ledger}/verify?region=wnam`);
    expect(verify.json).toMatchObject({ verified: true, complete: true, checkedThrough: total });
  });

  it("with no new writes converges after a restart: its alarm asks the peers", async () => {
    const ledger = uniqueLedger("repl-idle");
    const receipts = await appendOk(ledger, fill("i:0"));
    await expect
      .poll(async () => converged(await status(ledger), 1), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 100,
      })
      .toBe(true);

    await setFaults({ down: ["wnam"] });
    const n = 6;
    for (let i = 1; i <= n; i++) receipts.push(...(await appendOk(ledger, fill(`i:${i}`))));
    // The last slot's commit reaches enam and weur in the background (it lingers briefly in case an
    // Accept can carry it): wait for it while wnam is still cut off, so wnam misses it too.
    await expect
      .poll(async () => (await status(ledger)).acceptors.filter((a) => a.region !== "wnam").map((a) => a.appliedSeq), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 50,
      })
      .toEqual([n + 1, n + 1]);
    await setFaults({});

    await expect
      .poll(async () => (await status(ledger)).acceptors.map((a) => [a.region, a.appliedSeq]), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 50,
      })
      .toEqual([
        ["enam", n + 1],
        ["wnam", 1],
        ["weur", n + 1],
      ]);
    // A restart (the object was running: the status probe just reached it). No write follows.
    const wnam = acceptorStub(ledger, "wnam");
    await evictDurableObject(wnam);
    // The restarted acceptor schedules a probe of its peers; run it now rather than waiting for it.
    expect(await runDurableObjectAlarm(wnam)).toBe(true);
    const caughtUp = await runInDurableObject(wnam, (instance) => instance.readState());
    expect(caughtUp.head.seq).toBe(n + 1);
    expect(caughtUp.chosenThrough).toBe(n + 1);

    const s2 = await status(ledger);
    expect(converged(s2, n + 1), JSON.stringify(s2)).toBe(true);
    const ledgerEntries = await listAll(ledger);
    expectReceiptsInLedger(ledgerEntries, receipts);
    expect(await replicaEntries(ledger, "wnam")).toEqual(ledgerEntries);
  });

  it("with no new writes converges after a restart without help: the alarm fires by itself", async () => {
    const ledger = uniqueLedger("repl-idle-auto");
    const receipts = await appendOk(ledger, fill("a:0"));
    await expect
      .poll(async () => converged(await status(ledger), 1), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 100,
      })
      .toBe(true);

    await setFaults({ down: ["weur"] });
    for (let i = 1; i <= 3; i++) receipts.push(...(await appendOk(ledger, fill(`a:${i}`))));
    // Heal only once the last commit has reached the others, so that weur misses it too.
    await expect
      .poll(async () => (await status(ledger)).acceptors.filter((a) => a.region !== "weur").map((a) => a.appliedSeq), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 50,
      })
      .toEqual([4, 4]);
    await setFaults({});
    await evictDurableObject(acceptorStub(ledger, "weur"));
    // Only status probes from here on: the first restarts the object, its alarm does the rest.
    await expect
      .poll(async () => converged(await status(ledger), 4), {
        timeout: convergenceTimeout_ms(roundTrip_ms),
        interval: 250,
      })
      .toBe(true);
    expect(await replicaEntries(ledger, "weur")).toEqual(await listAll(ledger));
    expectReceiptsInLedger(await listAll(ledger), receipts);
  });
});
