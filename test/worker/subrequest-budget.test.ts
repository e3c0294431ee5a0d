/**
 * Cloudflare's per-request limits that `wrangler dev` does not enforce (README, Deploy): every
 * Durable Object call is a subrequest of the Worker request it runs in, counted in the transport
 * (src/proposer/request-budget.ts), and a request keeps at most 6 calls open at once.
 *
 * - A call beyond the request's budget is refused before it is sent: the read answers 503, not 500.
 * - Under load (64 concurrent clients appending and reading) on the Free plan's budget of 50, no
 *   request is refused a call and every request completes: the driver hands over before its budget
 *   could run out, and the next request drives on with its own.
 * - With 5 regions and with 7 concurrent calls of one request, no more than 6 are ever in flight at
 *   the Durable Objects, and every call completes.
 *
 * The budget is lowered per request with a test header that only counts with ALLOW_FAULT_INJECTION
 * (set for these tests in bindings.ts), so the Worker's configuration stays as it is.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseLedgerConfig, subrequests_per_request_default, subrequests_per_request_min } from "../../src/config.js";
import { type EntryInput, parseAppendBody } from "../../src/core/entry-schema.js";
import { limits } from "../../src/core/limits.js";
import { LedgerService } from "../../src/proposer/ledger-service.js";
import {
  connections_per_request_max,
  RequestBudget,
  recentBudgets,
  runWithBudget,
  SubrequestBudgetExhaustedError,
  subrequest,
  subrequests_max_header,
  subrequests_used_header,
} from "../../src/proposer/request-budget.js";
import { DurableObjectTransport } from "../../src/proposer/transport.js";
import { type ApiResponse, call, expectApiError, fill, ledgerPath, uniqueLedger } from "./http.js";

/** Workers Free: subrequests per request. */
const free_plan_subrequests = 50;
const clients = 64;
const appends_per_client = 4;
const reads_per_client = 2;

function entry(body: unknown): EntryInput[] {
  const parsed = parseAppendBody(body);
  if (!parsed.success) throw new Error(parsed.error.message);
  return parsed.data;
}

function budgetsOf(ledger: string): RequestBudget[] {
  return recentBudgets().filter((b) => b.label.includes(`/ledgers/${ledger}/`));
}

/** Polls `check` until it holds; the bound is generous, the wait ends as soon as it holds. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeout_ms: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - started > timeout_ms) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a request's subrequest budget", () => {
  it("refuses the call that would exceed it: the read answers 503 quorum_unavailable, never 500", async () => {
    const ledger = uniqueLedger("budget-refuse");
    const created = await call("POST", ledgerPath(ledger, "entries"), { body: fill("r1") });
    expect(created.status, created.text).toBe(201);
    // A linearizable read asks 3 replicas for the read index, then reads one: 2 is not enough.
    const res = await call("GET", ledgerPath(ledger, "head"), { headers: { [subrequests_max_header]: "2" } });
    expectApiError(res, 503, "quorum_unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get(subrequests_used_header)).toBe("2");
    const [budget] = budgetsOf(ledger).filter((b) => b.label.endsWith("/head"));
    expect(budget?.snapshot(1000)).toMatchObject({ subrequests: 2, subrequestsMax: 2 });
    expect(budget!.refused).toBeGreaterThanOrEqual(1);
  });

  it("the refusal is a QuorumUnavailableError that says why, thrown before anything is sent", async () => {
    const budget = new RequestBudget(1);
    let sent = 0;
    const send = () => {
      sent++;
      return Promise.resolve("ok");
    };
    const transport = new DurableObjectTransport(env.ACCEPTOR, uniqueLedger("budget-unit"), parseLedgerConfig({}));
    await runWithBudget(budget, async () => {
      await expect(transport.call("enam", send)).resolves.toBe("ok");
      await expect(transport.call("enam", send)).rejects.toBeInstanceOf(SubrequestBudgetExhaustedError);
    });
    expect(sent).toBe(1);
    expect(budget.snapshot(1000)).toMatchObject({ subrequests: 1, refused: 1, inFlight: 0 });
  });

  it(
    `under ${clients} concurrent clients appending and reading with the Free plan's ${free_plan_subrequests}, ` +
      "no request is refused a call and every request completes",
    async () => {
      const ledger = uniqueLedger("budget-load");
      const headers = { [subrequests_max_header]: String(free_plan_subrequests) };
      const answers: ApiResponse[] = [];
      const client = async (c: number) => {
        for (let i = 0; i < appends_per_client; i++) {
          answers.push(await call("POST", ledgerPath(ledger, "entries"), { body: fill(`c${c}:${i}`), headers }));
          if (i < reads_per_client) {
            const read = i % 2 === 0 ? "head" : `entries?after=0&limit=1000`;
            answers.push(await call("GET", ledgerPath(ledger, read), { headers }));
          }
        }
      };
      await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));

      const statuses = answers.map((a) => a.status);
      expect(
        answers.filter((a) => a.status >= 300).map((a) => a.text),
        "every request completes",
      ).toEqual([]);
      expect(statuses.filter((s) => s === 201)).toHaveLength(clients * appends_per_client);

      // Work a request left in waitUntil (background commits) spends its budget too: wait for the
      // replicas to hold every entry, and for no call of these requests to be in flight, then check.
      const total = clients * appends_per_client;
      await until(
        "every replica to apply every entry",
        async () => {
          const s = await call("GET", ledgerPath(ledger, "status"));
          const acceptors = (s.json as { acceptors: Array<{ appliedSeq: number | null }> }).acceptors;
          return acceptors.every((a) => a.appliedSeq === total);
        },
        30_000,
      );
      const budgets = budgetsOf(ledger).filter((b) => !b.label.endsWith("/status"));
      await until("no call in flight", () => budgets.every((b) => b.inFlight === 0), 10_000);
      expect(budgets.length).toBe(answers.length);
      const over = budgets
        .map((b) => b.snapshot(free_plan_subrequests))
        .filter((b) => b.subrequests > free_plan_subrequests || b.refused > 0);
      expect(over, "requests that spent more than the budget or were refused a call").toEqual([]);
      // Every slot took at least an Accept to each of an accept quorum (2 of 3): the calls were counted.
      const slots = new Set(
        answers.flatMap((a) =>
          a.status === 201 ? (a.json as { results: Array<{ slot: number }> }).results.map((r) => r.slot) : [],
        ),
      );
      expect(budgets.reduce((sum, b) => sum + b.subrequests, 0)).toBeGreaterThanOrEqual(2 * slots.size);
      expect(Math.max(...budgets.map((b) => b.inFlightPeak))).toBeLessThanOrEqual(connections_per_request_max);
      // A round's bound (round_quorum_calls_max quorum calls, plus commits) exceeds 50: a driver
      // runs its first round on what it has and then hands the queue to a waiting request.
      const stats = await call("GET", `/v1/_bench/stats?ledger=${ledger}`);
      expect((stats.json as { stats: { budget_handovers: number } }).stats.budget_handovers).toBeGreaterThan(0);
    },
  );
});

/**
 * The acceptor namespace, wrapped so that every RPC on a stub counts as one call in flight until it
 * settles: what the Durable Objects see, independently of the transport's own counters.
 */
function countingNamespace(inner: typeof env.ACCEPTOR) {
  const seen = { inFlight: 0, peak: 0, calls: 0 };
  const namespace = {
    getByName(name: string, options?: DurableObjectNamespaceGetDurableObjectOptions) {
      const stub = inner.getByName(name, options);
      return new Proxy(stub, {
        get(target, prop) {
          const methods = target as unknown as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>;
          const value = methods[prop];
          if (typeof value !== "function" || prop === "then") return value;
          return async (...args: unknown[]) => {
            seen.calls++;
            seen.inFlight++;
            seen.peak = Math.max(seen.peak, seen.inFlight);
            try {
              // Called on the stub itself: an RPC stub treats any property (even `apply`) as a method.
              return await methods[prop]!(...args);
            } finally {
              seen.inFlight--;
            }
          };
        },
      });
    },
  } as unknown as typeof env.ACCEPTOR;
  return { namespace, seen };
}

describe("SUBREQUESTS_PER_REQUEST_MAX at startup", () => {
  it("is refused below what one commit round of the configured regions needs, and accepted from there", () => {
    const round_calls_per_region = limits.round_quorum_calls_min + limits.round_background_messages_per_acceptor;
    for (const regions of ["enam,wnam,weur", "enam,wnam,weur,apac,sam"]) {
      const floor = round_calls_per_region * regions.split(",").length;
      const at = (budget: number) => () =>
        parseLedgerConfig({ ACCEPTOR_REGIONS: regions, SUBREQUESTS_PER_REQUEST_MAX: String(budget) });
      // With 3 or 5 regions the round's floor is below the fixed minimum, so only the minimum refuses;
      // the round floor decides from 7 regions on, which needs a seventh location hint (region-rtt.ts).
      expect(at(subrequests_per_request_min - 1)).toThrow(/at least/);
      expect(at(Math.max(floor, subrequests_per_request_min))().subrequestsPerRequestMax).toBe(
        Math.max(floor, subrequests_per_request_min),
      );
    }
    expect(parseLedgerConfig({}).subrequestsPerRequestMax).toBe(subrequests_per_request_default);
    expect(() => parseLedgerConfig({ SUBREQUESTS_PER_REQUEST_MAX: "lots" })).toThrow(/whole number/);
  });
});

describe("simultaneous connections per request", () => {
  it(`with 5 regions, a request's appends and fanned-out reads keep at most ${connections_per_request_max} calls in flight`, async () => {
    const config = parseLedgerConfig({ ACCEPTOR_REGIONS: "enam,wnam,weur,apac,sam" });
    const { namespace, seen } = countingNamespace(env.ACCEPTOR);
    const service = new LedgerService(uniqueLedger("budget-conn5"), config, namespace);
    const budget = new RequestBudget();
    const work = runWithBudget(budget, () =>
      Promise.all([
        ...Array.from({ length: 8 }, (_, i) => service.proposer.append(entry(fill(`k${i}`)))),
        ...Array.from({ length: 4 }, () =>
          service.read({ mode: "linearizable" }, async (stub) => ({ state: await stub.readState() })),
        ),
      ]),
    );
    const results = await work;
    expect(results).toHaveLength(12);
    expect(seen.calls).toBeGreaterThan(connections_per_request_max);
    expect(seen.peak).toBeLessThanOrEqual(connections_per_request_max);
    expect(budget.inFlightPeak).toBe(seen.peak);
  });

  it(`7 calls of one request at once (a 7-region fan-out): at most ${connections_per_request_max} in flight, the 7th waits and completes`, async () => {
    const config = parseLedgerConfig({ ACCEPTOR_REGIONS: "enam,wnam,weur,apac,sam" });
    const { namespace, seen } = countingNamespace(env.ACCEPTOR);
    const transport = new DurableObjectTransport(namespace, uniqueLedger("budget-conn7"), config);
    const seven = ["enam", "wnam", "weur", "apac", "oc", "sam", "enam"] as const;
    const budget = new RequestBudget();
    const states = await runWithBudget(budget, () =>
      Promise.all(seven.map((region) => transport.call(region, (stub) => stub.readState()))),
    );
    expect(states).toHaveLength(7);
    expect(seen).toMatchObject({ calls: 7, inFlight: 0 });
    expect(seen.peak).toBe(connections_per_request_max);
    expect(budget.snapshot(1000)).toMatchObject({ subrequests: 7, queued: 1, inFlight: 0 });
  });

  it("a slow region's piled-up calls hold at most its share of the connections: the other regions' calls are not queued behind them", async () => {
    const budget = new RequestBudget();
    const regions = 3;
    const slow: Array<() => void> = [];
    const started: string[] = [];
    const callTo = (region: string) =>
      subrequest(
        1000,
        () =>
          new Promise<string>((resolve) => {
            started.push(region);
            if (region === "weur") slow.push(() => resolve(region));
            else resolve(region);
          }),
        { key: region, destinations: regions },
      );
    await runWithBudget(budget, async () => {
      // Six calls to a region that does not answer (Commits, re-sent Accepts, read polls pile up).
      const stuck = Array.from({ length: 6 }, () => callTo("weur"));
      // The next quorum's calls to the healthy regions get connections at once.
      await expect(Promise.all([callTo("enam"), callTo("wnam")])).resolves.toEqual(["enam", "wnam"]);
      expect(started.filter((r) => r === "weur")).toHaveLength(budget.keyMax(regions));
      expect(budget.snapshot(1000)).toMatchObject({ inFlight: budget.keyMax(regions) });
      // The slow region's own calls go on one after another as its connections free up.
      while (slow.length > 0) {
        slow.shift()!();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await expect(Promise.all(stuck)).resolves.toHaveLength(6);
    });
    expect(budget.snapshot(1000)).toMatchObject({ inFlight: 0, subrequests: 8 });
    expect(budget.inFlightPeak).toBeLessThanOrEqual(connections_per_request_max);
  });
});
