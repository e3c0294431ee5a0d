/**
 * Reads under faults: no fault of a replica or of a message may surface as a 500. With messages
 * dropped at random (`PUT /v1/_faults {"drop_rate": ...}`) every read route answers 200 or
 * `503 quorum_unavailable` with Retry-After, and a read's 503 says it is a read (nothing changed, no
 * unknown outcome), with a count of replicas that is true.
 */
import { afterEach, describe, expect, it } from "vitest";
import { read_index_wait_ms, read_timeout_ms } from "../../src/proposer/ledger-service.js";
import { regions, setFaults, status } from "./cluster.js";
import { type ApiResponse, append, expectApiError, fill, get, ledgerPath, uniqueLedger } from "./http.js";

/** The drop rate the issue measured 500s at (7 of 40 `GET .../head`). */
const drop_rate = 0.3;
/** Reads of each route under drops; with ~1 in 6 reads hitting a lost reply, enough to see any 500. */
const reads_per_route = 10;
/** Reads in flight at once (each may wait out a read timeout on a lost message). */
const reads_in_flight_max = 30;
/**
 * The longest one read may take by the service's own bounds: a prepare quorum's states, the wait for
 * the read index, then each replica once.
 */
const read_ms_max = read_timeout_ms + read_index_wait_ms + regions.length * read_timeout_ms;

afterEach(async () => {
  await setFaults({});
});

/** Commits reach the replicas in the background: waits until every replica has applied `seq`. */
async function replicasApplied(ledger: string, seq: number): Promise<void> {
  await expect
    .poll(async () => (await status(ledger)).acceptors.every((a) => a.appliedSeq === seq), {
      timeout: 15_000,
      interval: 50,
    })
    .toBe(true);
}

/** `items` through `concurrency` workers, each taking the next item when it is done with one. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A read's 503: the API's error shape, Retry-After, and a read's own message (no append wording). */
function expectReadUnavailable(res: ApiResponse, what: string): void {
  const body = expectApiError(res, 503, "quorum_unavailable");
  expect(res.headers.get("retry-after"), `${what}: Retry-After`).toMatch(/^[1-9][0-9]*$/);
  expect(body.error.message, what).not.toMatch(/outcome/i);
  expect(body.error.details ?? {}, what).not.toHaveProperty("outcome");
}

describe("reads under message loss", () => {
  const route_count = 9;
  const drop_test_timeout_ms = Math.ceil((route_count * reads_per_route) / reads_in_flight_max) * read_ms_max + 30_000;
  it("every read route answers 200 or 503 with Retry-After, never another 5xx", {
    timeout: drop_test_timeout_ms,
  }, async () => {
    const ledger = uniqueLedger("read-faults");
    await append(ledger, { entries: [fill("rf:1"), fill("rf:2", { symbol: "ABC" }), fill("rf:3")] });
    await replicasApplied(ledger, 3);

    const routes = [
      "entries?limit=10",
      "entries/2",
      "ids/rf:2",
      "head",
      "positions?account=ACC-1",
      "verify",
      "status",
      "head?consistency=local",
      "entries?minSeq=3",
    ];
    expect(routes).toHaveLength(route_count);
    await setFaults({ drop_rate });
    const answers: Array<{ route: string; res: ApiResponse }> = [];
    const reads = routes.flatMap((route) => Array.from({ length: reads_per_route }, () => route));
    await pool(reads, reads_in_flight_max, async (route) => {
      answers.push({ route, res: await get(ledgerPath(ledger, route)) });
    });
    await setFaults({});

    const byStatus = new Map<string, number>();
    for (const { route, res } of answers)
      byStatus.set(`${route} ${res.status}`, (byStatus.get(`${route} ${res.status}`) ?? 0) + 1);
    const summary = [...byStatus].map(([k, n]) => `${k}: ${n}`).sort();
    const unexpected = answers.filter(({ res }) => res.status !== 200 && res.status !== 503);
    expect(
      unexpected.map(({ route, res }) => `${route}: ${res.status} ${res.text.slice(0, 200)}`),
      summary.join(", "),
    ).toEqual([]);
    for (const { route, res } of answers) if (res.status === 503) expectReadUnavailable(res, route);
    // Drops are not an outage: most reads still succeed.
    expect(answers.filter((a) => a.res.status === 200).length, summary.join(", ")).toBeGreaterThan(answers.length / 2);
    // A 200 under drops is still the right answer.
    for (const { route, res } of answers) {
      if (res.status !== 200) continue;
      if (route === "head") expect(res.json).toMatchObject({ seq: 3 });
      if (route === "ids/rf:2") expect(res.json).toMatchObject({ entry: { id: "rf:2", seq: 2 } });
      if (route === "entries?limit=10") expect((res.json as { entries: unknown[] }).entries).toHaveLength(3);
    }
  });

  it("with every replica down a read is a read's 503: no outcome, and no replica counted as answering", async () => {
    const ledger = uniqueLedger("read-down");
    await append(ledger, fill("rd:1"));
    await setFaults({ down: [...regions] });
    for (const route of [
      "head",
      "entries",
      "entries/1",
      "ids/rd:1",
      "positions?account=ACC-1",
      "verify",
      "head?consistency=local",
    ]) {
      const res = await get(ledgerPath(ledger, route));
      expectReadUnavailable(res, route);
      const message = (res.json as { error: { message: string } }).error.message;
      expect(message, route).not.toMatch(/only \d+ of \d+ replicas answered/);
    }
    const lin = await get(ledgerPath(ledger, "head"));
    expect((lin.json as { error: { message: string } }).error.message).toMatch(/no replica answered/);
    // The status page reports the outage itself, as a 200.
    const s = await status(ledger);
    expect(s.acceptors.map((a) => a.reachable)).toEqual([false, false, false]);
  });

  it("with one replica down a linearizable read is served by the others", async () => {
    const ledger = uniqueLedger("read-one-down");
    await append(ledger, fill("ro:1"));
    await replicasApplied(ledger, 1);
    for (const region of regions) {
      await setFaults({ down: [region] });
      for (const route of ["head", "entries", "ids/ro:1", "verify"]) {
        const res = await get(ledgerPath(ledger, route));
        expect(res.status, `${region} down, ${route}: ${res.text}`).toBe(200);
      }
    }
  });
});
