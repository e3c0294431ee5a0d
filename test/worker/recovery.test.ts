/**
 * Acceptor crashes under load (docs/design.md sections 8 and 15: eviction and abort as crashes). Appends keep
 * arriving while an acceptor is evicted or aborted, some of them concurrently with the crash; then
 * every acknowledged receipt must be in the ledger exactly once, at its seq with its hash, the chain
 * must verify on every replica, the replicas must agree, and each acceptor's SQLite state must
 * survive its eviction.
 */
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SqliteAcceptorStore } from "../../src/acceptor/sqlite-store.js";
import { acceptorStub, callJson as call, regions, setFaults, status } from "./cluster.js";
import { type Entry, listAll, type Receipt, uniqueLedger } from "./http.js";
import { convergenceTimeout_ms, measureRoundTrip_ms } from "./timing.js";

function fill(id: string): Record<string, unknown> {
  return { id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "1", price: "10" };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client keeps retrying a request whose outcome is unknown (503), with the same id,
 * as the API asks; this many attempts at most, each after the answer's Retry-After.
 */
const retry_attempts_max = 10;
const retry_after_default_s = 1;

/** Measured once per file (beforeAll): the convergence waits are sized from it. */
let roundTrip_ms = 0;
beforeAll(async () => {
  roundTrip_ms = await measureRoundTrip_ms();
});

/** What the client saw for each request: its receipt (acknowledged) or the status it got instead. */
class Client {
  readonly acknowledged: Receipt[] = [];
  readonly unacknowledged: Array<{ id: string; status: number; body: unknown }> = [];
  /** The last 503's Retry-After. */
  private retryAfter_s = retry_after_default_s;

  constructor(readonly ledger: string) {}

  async append(id: string): Promise<void> {
    let res: { status: number; json: unknown; headers: Headers };
    try {
      res = await call("POST", `/v1/ledgers/${this.ledger}/entries`, fill(id));
    } catch (error) {
      // No response at all (the runtime cancelled the request): as unknown an outcome as a 503.
      this.unacknowledged.push({ id, status: 0, body: String(error) });
      return;
    }
    if (res.status === 503) this.retryAfter_s = Number(res.headers.get("retry-after") ?? retry_after_default_s);
    if (res.status === 201 || res.status === 200) {
      const results = (res.json as { results: Receipt[] }).results;
      expect(results.map((r) => r.id)).toEqual([id]);
      expect(results[0]!.status).toBe(res.status === 201 ? "created" : "exists");
      this.acknowledged.push(results[0]!);
    } else {
      this.unacknowledged.push({ id, status: res.status, body: res.json });
    }
  }

  appendAll(ids: readonly string[]): Promise<void> {
    return Promise.all(ids.map((id) => this.append(id))).then(() => undefined);
  }

  /**
   * Retries every unacknowledged request with its id until it is acknowledged, as a front-end must
   * after an unknown outcome: the acceptors that all crashed at once may still be restarting, so one
   * retry may meet another 503. Each failure must be a 503 that says the outcome is unknown.
   */
  async retryUnacknowledged(): Promise<void> {
    for (let attempt = 0; attempt < retry_attempts_max && this.unacknowledged.length > 0; attempt++) {
      for (const u of this.unacknowledged) {
        expect(u.status, JSON.stringify(u.body)).toBe(503);
        expect(u.body).toMatchObject({ error: { code: "quorum_unavailable", details: { outcome: "unknown" } } });
      }
      if (attempt > 0) await sleep(this.retryAfter_s * 1000);
      for (const id of this.unacknowledged.splice(0).map((u) => u.id)) await this.append(id);
    }
  }
}

/** The requests that got no receipt, one line each, so a failure shows what happened. */
function unacknowledgedSummary(client: Client): string[] {
  return client.unacknowledged.map(
    (u) => `${u.id}: ${u.status} ${(typeof u.body === "string" ? u.body : JSON.stringify(u.body)).slice(0, 160)}`,
  );
}

const idsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

/**
 * The end state every crash scenario must reach: the replicas converge; each acknowledged receipt is
 * present exactly once at its seq with its hash; the chain links and verifies on every replica.
 */
async function expectConsistentLedger(
  ledger: string,
  acknowledged: readonly Receipt[],
  total: number,
): Promise<Entry[]> {
  await expect
    .poll(
      async () => {
        const s = await status(ledger);
        return (
          s.headsAgree &&
          s.acceptors.every((a) => a.reachable && a.appliedSeq === total && a.headHash === s.acceptors[0]!.headHash)
        );
      },
      { timeout: convergenceTimeout_ms(roundTrip_ms), interval: 200 },
    )
    .toBe(true);

  const entries = await listAll(ledger);
  expect(entries).toHaveLength(total);
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  expect(new Set(entries.map((e) => e.id)).size).toBe(total);
  for (const [i, e] of entries.entries())
    if (i > 0) expect(e.prevHash, `prevHash of ${e.seq}`).toBe(entries[i - 1]!.hash);
  for (const r of acknowledged) {
    const found = entries.filter((e) => e.id === r.id);
    expect(found, `entry ${r.id}`).toHaveLength(1);
    expect(found[0]).toMatchObject({ seq: r.seq, hash: r.hash, slot: r.slot });
  }
  for (const region of regions) {
    const verify = await call("GET", `/v1/ledgers/${ledger}/verify?region=${region}`);
    expect(verify.json, region).toMatchObject({
      verified: true,
      complete: true,
      checkedThrough: total,
      head: { seq: total },
    });
  }
  return entries;
}

/**
 * Evicts an acceptor, waking it first: with thrifty Accepts the acceptor outside the accept quorum
 * may have had no message yet, and the platform refuses to evict an object that is not running.
 */
async function evict(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, () => undefined);
  await evictDurableObject(stub);
}

/** Evicts every acceptor of the ledger, then reads each one's SQLite state back in a new instance. */
async function expectStateSurvivesEviction(ledger: string, entries: readonly Entry[]): Promise<void> {
  for (const region of regions) await evict(acceptorStub(ledger, region));
  for (const region of regions) {
    const stored = await runInDurableObject(acceptorStub(ledger, region), (_instance, state) => {
      const store = new SqliteAcceptorStore(state.storage);
      return { entries: store.entriesAfter(0, 100_000), head: store.head(), chosenThrough: store.chosenThrough() };
    });
    expect(stored.entries, region).toEqual(entries);
    expect(stored.head, region).toMatchObject({ seq: entries.length, hash: entries.at(-1)!.hash });
    expect(stored.chosenThrough, region).toBeGreaterThanOrEqual(entries.at(-1)!.slot);
  }
}

afterEach(async () => {
  await setFaults({});
});

/**
 * Appends `n` entries one after another; before every `every`-th one starts, `crash` is started
 * without waiting, so it lands while that append is in flight (at a varying point of its round).
 */
async function appendThroughCrashes(
  client: Client,
  prefix: string,
  n: number,
  every: number,
  crash: (k: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % every !== every - 1) {
      await client.append(`${prefix}:${i}`);
      continue;
    }
    const appended = client.append(`${prefix}:${i}`);
    await sleep(i % 7); // 0 to 6 ms into the append
    await crash(i);
    await appended;
  }
}

describe("an acceptor crashes while an append is in flight", () => {
  it("evicted (each region in turn): every append is acknowledged, kept once, and survives eviction", async () => {
    const ledger = uniqueLedger("rec-evict-seq");
    const client = new Client(ledger);
    await appendThroughCrashes(client, "e", 24, 3, (k) => evict(acceptorStub(ledger, regions[k % 3]!)));
    // One acceptor down at a time leaves a quorum: nothing may fail.
    expect(unacknowledgedSummary(client)).toEqual([]);
    expect(client.acknowledged).toHaveLength(24);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, 24);
    await expectStateSurvivesEviction(ledger, entries);
  });

  it("aborted by ctx.abort() (each region in turn): every append is acknowledged, kept once, and survives", async () => {
    const ledger = uniqueLedger("rec-abort-seq");
    const client = new Client(ledger);
    await appendThroughCrashes(client, "a", 24, 3, async (k) => {
      await expect(
        runInDurableObject(acceptorStub(ledger, regions[k % 3]!), (_instance, state) => {
          state.abort("crash injected by recovery.test.ts");
        }),
      ).rejects.toThrow(/crash injected/);
    });
    expect(unacknowledgedSummary(client)).toEqual([]);
    expect(client.acknowledged).toHaveLength(24);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, 24);
    await expectStateSurvivesEviction(ledger, entries);
  });

  it("all acceptors aborted at once, again and again: every append ends acknowledged exactly once (a 503 is retried with its id)", async () => {
    const ledger = uniqueLedger("rec-abortall-seq");
    const client = new Client(ledger);
    await appendThroughCrashes(client, "x", 18, 3, () => abortAllDurableObjects());
    await client.retryUnacknowledged();
    expect(unacknowledgedSummary(client)).toEqual([]);
    expect(client.acknowledged).toHaveLength(18);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, 18);
    await expectStateSurvivesEviction(ledger, entries);
  });
});

describe("an acceptor crashes mid-stream of concurrent appends", () => {
  it("control, no crash: eight concurrent appends are all acknowledged", async () => {
    const ledger = uniqueLedger("rec-concurrent");
    const client = new Client(ledger);
    await client.append("pre");
    await client.appendAll(idsOf("c", 8));
    await client.append("after");
    expect(unacknowledgedSummary(client)).toEqual([]);
    await expectConsistentLedger(ledger, client.acknowledged, 10);
  });

  it("evicted, one region after another, during bursts of concurrent appends: every append is acknowledged and kept once", async () => {
    const ledger = uniqueLedger("rec-evict");
    const client = new Client(ledger);
    for (const id of idsOf("pre", 4)) await client.append(id);
    for (const region of regions) {
      const inFlight = client.appendAll(idsOf(`${region}-burst`, 8));
      await sleep(5);
      await evict(acceptorStub(ledger, region));
      await inFlight;
      for (const id of idsOf(`${region}-after`, 2)) await client.append(id);
    }
    // One acceptor down at a time leaves a quorum: nothing may fail.
    expect(unacknowledgedSummary(client)).toEqual([]);
    const total = 4 + regions.length * 10;
    expect(client.acknowledged).toHaveLength(total);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, total);
    await expectStateSurvivesEviction(ledger, entries);
  });

  it("aborted (ctx.abort) during bursts of concurrent appends: every append is acknowledged and kept once", async () => {
    const ledger = uniqueLedger("rec-abort");
    const client = new Client(ledger);
    for (const id of idsOf("pre", 3)) await client.append(id);
    for (const [round, region] of (["enam", "wnam", "enam"] as const).entries()) {
      const inFlight = client.appendAll(idsOf(`${region}-${round}`, 8));
      await sleep(5);
      await expect(
        runInDurableObject(acceptorStub(ledger, region), (_instance, state) => {
          state.abort("crash injected by recovery.test.ts");
        }),
      ).rejects.toThrow(/crash injected/);
      await inFlight;
      await client.append(`${region}-${round}-after`);
    }
    expect(unacknowledgedSummary(client)).toEqual([]);
    const total = 3 + 3 * 9;
    expect(client.acknowledged).toHaveLength(total);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, total);
    await expectStateSurvivesEviction(ledger, entries);
  });

  it("all acceptors aborted at once during bursts of concurrent appends: retried requests commit exactly once", async () => {
    const ledger = uniqueLedger("rec-abort-all");
    const client = new Client(ledger);
    for (const id of idsOf("pre", 3)) await client.append(id);
    for (let round = 0; round < 2; round++) {
      const inFlight = client.appendAll(idsOf(`all-${round}`, 10));
      await sleep(5);
      await abortAllDurableObjects();
      await inFlight;
    }
    // A request that failed has an unknown outcome (503): the client retries it with the same id.
    await client.retryUnacknowledged();
    expect(unacknowledgedSummary(client)).toEqual([]);
    await client.append("after");
    const total = 3 + 2 * 10 + 1;
    expect(client.acknowledged).toHaveLength(total);
    const entries = await expectConsistentLedger(ledger, client.acknowledged, total);
    await expectStateSurvivesEviction(ledger, entries);
  });
});
