/**
 * Cloudflare's per-request platform limits, which `wrangler dev` does not enforce, applied by the
 * Worker itself (see the README's Deploy section):
 * - subrequests: every Durable Object call is one; Workers Free allows 50 per request, Workers Paid
 *   10,000 by default. The limit counts everything a request does, its `waitUntil` work included,
 *   so the count follows the request's async context (AsyncLocalStorage, `nodejs_als`), not a call
 *   stack: the proposer's drive loop runs in the context of the request that started it.
 * - simultaneous outgoing connections: 6 per request on every plan; beyond that the platform queues
 *   them. Keeping the calls of one request within 6 here makes that queue ours (measurable, FIFO).
 *
 * A call beyond the budget is refused with `SubrequestBudgetExhaustedError` (a
 * `QuorumUnavailableError`: 503, outcome unknown) before it is made, rather than letting the platform
 * throw an error the app cannot tell from a failed acceptor. The driver hands over before a round
 * could spend the rest (`ProposerEnv.subrequestsLeft`), so that refusal is a last line, not the plan.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Env as HonoEnv, MiddlewareHandler } from "hono";
import { assert } from "../core/assert.js";
import { QuorumUnavailableError } from "../core/proposer/index.js";

/** Cloudflare: simultaneous outgoing connections per request, every plan. */
export const connections_per_request_max = 6;
/** Budgets kept for inspection when fault injection is on (tests, bench); the oldest is dropped. */
export const budget_log_requests_max = 4096;
/**
 * Local testing only (ALLOW_FAULT_INJECTION): a request may lower its own subrequest budget below
 * the configured one with this header, so that a test runs the hand-over without a second Worker
 * configuration. It never raises the budget.
 */
export const subrequests_max_header = "x-debug-subrequests-max";
/**
 * Local testing only: the request's connection limit, from 1 to `debug_connections_max`, so that the
 * bench can measure what keeping to `connections_per_request_max` costs against no queue at all.
 */
export const connections_max_header = "x-debug-connections-max";
export const debug_connections_max = 64;
/** Local testing only: the subrequests the request had made when its response was sent. */
export const subrequests_used_header = "x-debug-subrequests";
/** Local testing only: the most calls it had open at once, and how many had to wait for a connection. */
export const connections_peak_header = "x-debug-connections-peak";
export const connections_queued_header = "x-debug-connections-queued";

/** The call would exceed the request's subrequest budget; nothing was sent. Outcome unknown for an append. */
export class SubrequestBudgetExhaustedError extends QuorumUnavailableError {
  override name = "SubrequestBudgetExhaustedError";
}

/** One Worker request's use of its platform limits. */
export class RequestBudget {
  /** Subrequests sent (a refused call is not one: it is counted in `refused`). */
  subrequests = 0;
  /** Calls refused because the budget was spent. */
  refused = 0;
  inFlight = 0;
  inFlightPeak = 0;
  /** Calls that had to wait for a connection, and how long they waited in total. */
  queued = 0;
  queuedWait_ms = 0;
  /**
   * Calls waiting for a connection, oldest first. Bounded by the subrequest budget: a call spends
   * its subrequest before it may wait, so at most `subrequestsMax` calls are ever queued.
   */
  private readonly waiting: Array<{ readonly key: string; readonly keyMax: number; readonly resume: () => void }> = [];
  /** Connections held per destination (acceptor region). */
  private readonly inFlightByKey = new Map<string, number>();

  constructor(
    /** Lowered for this request only (tests); the configured budget applies otherwise. */
    readonly subrequestsMaxOverride: number | undefined = undefined,
    readonly connectionsMax: number = connections_per_request_max,
    readonly label = "",
  ) {
    assert(Number.isInteger(connectionsMax) && connectionsMax >= 1, "a request may open at least one connection");
  }

  /** The budget in force given the configured one: the lower of the two. */
  max(configured: number): number {
    return this.subrequestsMaxOverride === undefined ? configured : Math.min(configured, this.subrequestsMaxOverride);
  }

  left(configured: number): number {
    return Math.max(0, this.max(configured) - this.subrequests);
  }

  /** Spends one subrequest, or refuses the call (nothing sent) when none is left. */
  spend(configured: number): void {
    const max = this.max(configured);
    if (this.subrequests >= max) {
      this.refused++;
      throw new SubrequestBudgetExhaustedError(
        `this request has made its ${max} subrequests (SUBREQUESTS_PER_REQUEST_MAX); the call was not sent`,
      );
    }
    this.subrequests++;
  }

  /**
   * The connections one destination may hold of a request's `connectionsMax` when the request talks
   * to `destinations` of them: a slow region whose calls pile up (each holds its connection until it
   * answers) must not take the connections the healthy regions' next quorum needs. With 3 regions a
   * region holds at most 2 of 6, with 5 at most 2 (4 left for the other four).
   */
  keyMax(destinations: number): number {
    return Math.max(1, Math.ceil(this.connectionsMax / Math.max(1, destinations)));
  }

  /**
   * Waits for one of the request's connections, within the share of `key` (`keyMax`); oldest first
   * among the waiters that may take one. Pair with `release(key)`.
   */
  async acquire(key = "", keyMax = this.connectionsMax, now_ms: () => number = Date.now): Promise<void> {
    if (this.inFlight < this.connectionsMax && (this.inFlightByKey.get(key) ?? 0) < keyMax) {
      this.take(key);
      return;
    }
    const since = now_ms();
    this.queued++;
    // `release` hands a freed connection straight to the oldest waiter that may take it (`take` runs there).
    await new Promise<void>((resume) => this.waiting.push({ key, keyMax, resume }));
    this.queuedWait_ms += now_ms() - since;
  }

  release(key = ""): void {
    const held = this.inFlightByKey.get(key) ?? 0;
    assert(this.inFlight > 0 && held > 0, "a connection is released only after it was acquired");
    this.inFlight--;
    if (held === 1) this.inFlightByKey.delete(key);
    else this.inFlightByKey.set(key, held - 1);
    const i = this.waiting.findIndex((w) => (this.inFlightByKey.get(w.key) ?? 0) < w.keyMax);
    if (i >= 0) {
      const [next] = this.waiting.splice(i, 1);
      this.take(next!.key);
      next!.resume();
    }
  }

  private take(key: string): void {
    this.inFlight++;
    this.inFlightByKey.set(key, (this.inFlightByKey.get(key) ?? 0) + 1);
    assert(this.inFlight <= this.connectionsMax, "a request never has more connections open than its limit");
    this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlight);
  }

  snapshot(configured: number) {
    return {
      label: this.label,
      subrequests: this.subrequests,
      subrequestsMax: this.max(configured),
      refused: this.refused,
      inFlight: this.inFlight,
      inFlightPeak: this.inFlightPeak,
      connectionsMax: this.connectionsMax,
      queued: this.queued,
      queuedWait_ms: this.queuedWait_ms,
    };
  }
}

const storage = new AsyncLocalStorage<RequestBudget>();
const log: RequestBudget[] = [];

/** The budget of the request whose async context this code runs in; undefined outside any request. */
export function currentRequestBudget(): RequestBudget | undefined {
  return storage.getStore();
}

/** Runs `work` as (part of) a request with `budget`: everything it starts, later work included, spends it. */
export function runWithBudget<T>(budget: RequestBudget, work: () => T): T {
  return storage.run(budget, work);
}

/** The subrequests the current request may still make under `configured` (all of it outside a request). */
export function subrequestsLeft(configured: number): number {
  return currentRequestBudget()?.left(configured) ?? configured;
}

/**
 * Makes one subrequest for the current request: spends it (or refuses the call), waits for a
 * connection within the share of its destination (one of `destinations`), and holds it until `call`
 * settles. Outside a request context it just calls.
 */
export async function subrequest<R>(
  configured: number,
  call: () => Promise<R>,
  destination: { readonly key: string; readonly destinations: number } = { key: "", destinations: 1 },
): Promise<R> {
  const budget = currentRequestBudget();
  if (budget === undefined) return call();
  budget.spend(configured);
  await budget.acquire(destination.key, budget.keyMax(destination.destinations));
  try {
    return await call();
  } finally {
    budget.release(destination.key);
  }
}

/** Budgets of recent requests (only recorded with fault injection on), oldest first. */
export function recentBudgets(): readonly RequestBudget[] {
  return log;
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,7}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Hono middleware: gives every request its own budget, in force for everything the request starts.
 * With fault injection on (`debug(c)`) it also honours the test headers, answers with the
 * subrequests counted so far, and logs the budget for `recentBudgets()`. `debug` is asked lazily and
 * a failure to answer (a misconfigured Worker) counts as off: the route itself reports that.
 */
export function requestBudget<E extends HonoEnv>(debug: (c: Context<E>) => boolean): MiddlewareHandler<E> {
  return async (c, next) => {
    let testing = false;
    try {
      testing = debug(c);
    } catch {
      testing = false;
    }
    const budget = testing
      ? new RequestBudget(
          positiveInteger(c.req.header(subrequests_max_header)),
          Math.min(
            debug_connections_max,
            positiveInteger(c.req.header(connections_max_header)) ?? connections_per_request_max,
          ),
          `${c.req.method} ${c.req.path}`,
        )
      : new RequestBudget();
    if (testing) {
      log.push(budget);
      if (log.length > budget_log_requests_max) log.shift();
    }
    await runWithBudget(budget, next);
    if (testing) {
      c.header(subrequests_used_header, String(budget.subrequests));
      c.header(connections_peak_header, String(budget.inFlightPeak));
      c.header(connections_queued_header, String(budget.queued));
    }
  };
}
