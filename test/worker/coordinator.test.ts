/**
 * The coordinator design (issue #12, src/coordinator/): the Worker forwards every append to the
 * ledger's coordinator Durable Object and proposes nothing itself; many Worker isolates, cold ones
 * included, then share one proposer (one phase 1, not one per isolate); an unreachable coordinator
 * is a 503 that applied nothing, never a fallback; a forwarded append costs the Worker request one
 * subrequest; a deployment without the coordinator binding is told so (500 server_misconfigured).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/proposer/app.js";
import { coordinatorServices } from "../../src/proposer/coordinator-services.js";
import { subrequests_used_header } from "../../src/proposer/request-budget.js";
import { services } from "../../src/proposer/routes/app-env.js";
import { setFaults } from "./cluster.js";
import {
  authHeader,
  call,
  expectApiError,
  expectAppended,
  expectValidChain,
  fill,
  ledgerPath,
  listAll,
  origin,
  post,
  uniqueLedger,
} from "./http.js";

/** Cold Worker isolates in turn: each appends once, then is dropped (as the platform evicts isolates). */
const cold_isolates = 6;

afterEach(async () => {
  await setFaults({});
  const res = await call("PUT", "/v1/_bench/mode", { body: { classic: false } });
  expect(res.status, res.text).toBe(200);
});

function appendOne(ledger: string, id: string) {
  return post(ledgerPath(ledger, "entries"), fill(id));
}

describe("the Worker forwards", () => {
  it("an append to the ledger's coordinator, which proposes it; the Worker runs no proposer", async () => {
    const ledger = uniqueLedger("coord-forward");
    expectAppended(await appendOne(ledger, "f-1"), 201);
    const worker = services.peek(ledger);
    expect(worker?.proposing.kind).toBe("forward");
    expect(() => worker?.proposer).toThrow(/runs no proposer/);
    const coordinator = coordinatorServices.peek(ledger);
    expect(coordinator?.proposing.kind).toBe("direct");
    expect(coordinator?.proposer.stats.requests_committed).toBe(1);
  });

  it("with one subrequest of the Worker's request: the coordinator's calls are its own", async () => {
    const ledger = uniqueLedger("coord-budget");
    const res = await appendOne(ledger, "b-1");
    expectAppended(res, 201);
    expect(res.headers.get(subrequests_used_header)).toBe("1");
  });

  it("from many cold Worker isolates to one proposer: one phase 1 in all", async () => {
    const ledger = uniqueLedger("coord-cold");
    for (let i = 0; i < cold_isolates; i++) {
      expectAppended(await appendOne(ledger, `c-${i}`), 201);
      services.clear(); // the next request is a new, cold isolate's
    }
    const stats = coordinatorServices.peek(ledger)!.proposer.stats;
    expect(stats.requests_committed).toBe(cold_isolates);
    expect(stats.phase1_runs).toBe(1);
    await expectValidChain(await listAll(ledger));
  });

  it("the status page's commits from the coordinator, whichever isolate asks", async () => {
    const ledger = uniqueLedger("coord-status");
    expectAppended(await appendOne(ledger, "s-1"), 201);
    services.clear();
    const res = await call("GET", ledgerPath(ledger, "status"));
    expect(res.status, res.text).toBe(200);
    expect((res.json as { commits: { commits: number } }).commits.commits).toBe(1);
  });
});

describe("an unreachable coordinator", () => {
  it("is a 503 with the outcome unknown that applied nothing; the next append after it heals commits", async () => {
    const ledger = uniqueLedger("coord-down");
    expectAppended(await appendOne(ledger, "d-1"), 201);
    await setFaults({ coordinator_down: true });
    const down = await appendOne(ledger, "d-2");
    const error = expectApiError(down, 503, "quorum_unavailable");
    expect(error.error.message).toMatch(/coordinator could not be reached/);
    expect(down.headers.get("retry-after")).toBe("1");
    await setFaults({});
    const entries = await listAll(ledger);
    expect(entries.map((e) => e.id)).toEqual(["d-1"]);
    const healed = expectAppended(await appendOne(ledger, "d-2"), 201);
    expect(healed.results[0]?.seq).toBe(2);
  });
});

/** One append through the production app run with `bindings` instead of the test's. */
async function appendWith(bindings: Env, ledger: string, id: string): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(
    new Request(`${origin}${ledgerPath(ledger, "entries")}`, {
      method: "POST",
      headers: { ...authHeader("test-all"), "content-type": "application/json" },
      body: JSON.stringify(fill(id)),
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("a deployment without a Durable Object binding", () => {
  it.each([
    ["COORDINATOR", /the Durable Object binding COORDINATOR is missing/],
    ["ACCEPTOR", /the Durable Object binding ACCEPTOR is missing/],
  ] as const)("without %s: 500 server_misconfigured naming it, nothing applied", async (binding, message) => {
    const ledger = uniqueLedger(`unbound-${binding.toLowerCase()}`);
    const unbound: Partial<Env> = { ...env };
    delete unbound[binding];
    const response = await appendWith(unbound as Env, ledger, "u-1");
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "server_misconfigured", message } });
    expect(await listAll(ledger)).toEqual([]);
  });

  it("the bench's direct design needs no COORDINATOR: it proposes from the Worker", async () => {
    const res = await call("PUT", "/v1/_bench/mode", { body: { classic: false, design: "direct" } });
    expect(res.status, res.text).toBe(200);
    const ledger = uniqueLedger("unbound-direct");
    const unbound: Partial<Env> = { ...env };
    delete unbound.COORDINATOR;
    const response = await appendWith(unbound as Env, ledger, "u-1");
    expect(response.status).toBe(201);
    expect((await listAll(ledger)).map((e) => e.id)).toEqual(["u-1"]);
  });
});

describe("the bench's old design (direct), for comparison", () => {
  it("has every cold isolate run phase 1 of its own", async () => {
    const res = await call("PUT", "/v1/_bench/mode", { body: { classic: false, design: "direct" } });
    expect(res.status, res.text).toBe(200);
    const ledger = uniqueLedger("coord-direct");
    let phase1 = 0;
    for (let i = 0; i < 3; i++) {
      expectAppended(await appendOne(ledger, `x-${i}`), 201);
      phase1 += services.peek(ledger)!.proposer.stats.phase1_runs;
      services.clear();
    }
    expect(phase1).toBe(3);
    expect(coordinatorServices.peek(ledger)).toBeUndefined();
  });
});
