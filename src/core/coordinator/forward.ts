/**
 * The Worker's half of the coordinator design (issue #12): every append and every recovery (`sync`)
 * of a ledger goes to the ledger's one coordinator, which runs the proposer; the Worker never
 * proposes. Many Worker isolates, cold or warm, in every colo, then never run phase 1 against each
 * other: the duels that made p99 tens of quorum round trips are gone, and a cold isolate costs
 * nothing but its own first request.
 *
 * When the coordinator cannot be reached, or does not answer within the request's deadline plus
 * `coordinator_answer_margin_ms`, the Worker answers 503 with the outcome unknown. It does NOT fall
 * back to proposing itself: that brings the duels back exactly when the coordinator is slow (each
 * fallback preempts it), and a request the coordinator did commit would come back `exists` instead
 * of `created` (the receipts rule in the README). The front end's retry is a new request.
 *
 * Pure: the link to the coordinator, the clock and the timer come in (`ForwardEnv`); the simulator
 * runs this same code between its Workers and its coordinator.
 */
import type { EntryInput } from "../entry-schema.js";
import type { BatchOutcome } from "../ledger-types.js";
import { limits } from "../limits.js";
import { errorText, QuorumUnavailableError } from "../proposer/errors.js";
import type { ProposerOptions, RequestOptions } from "../proposer/types.js";
import { type AppendAnswer, type SyncAnswer, unwrapAnswer } from "./answer.js";

/**
 * How long a forwarded request waits beyond its deadline for the coordinator's answer: the
 * coordinator answers by the deadline itself, and this covers the round trip to it (322.5 ms at
 * most between two regions of the RTT table) with room for a slow moment.
 */
export const coordinator_answer_margin_ms = 500;

/** The coordinator as a Worker reaches it; each call rejects when the coordinator cannot be reached. */
export interface CoordinatorLink {
  append(entries: readonly EntryInput[], options: RequestOptions): Promise<AppendAnswer>;
  sync(options: RequestOptions): Promise<SyncAnswer>;
}

export interface ForwardEnv {
  /** Resolves after `ms`; the wait for an answer that does not come. */
  sleep(ms: number): Promise<void>;
}

/** What the forward of one request waits for at most: its deadline (the server's whole time) and the margin. */
export function forwardWait_ms(options: RequestOptions): number {
  const deadline_ms = Math.min(options.deadline_ms ?? limits.commit_deadline_ms, limits.commit_deadline_ms);
  return deadline_ms + coordinator_answer_margin_ms;
}

/**
 * Sends one call to the coordinator and waits for its answer at most `forwardWait_ms`. A call that
 * fails or is not answered in time may have been proposed: outcome unknown.
 */
async function forward<T>(env: ForwardEnv, options: RequestOptions, call: () => Promise<T>, what: string): Promise<T> {
  const wait_ms = forwardWait_ms(options);
  let answer: { readonly value: T } | "timed out";
  try {
    answer = await Promise.race([
      call().then((value) => ({ value })),
      env.sleep(wait_ms).then(() => "timed out" as const),
    ]);
  } catch (error) {
    throw new QuorumUnavailableError(`the ledger's coordinator could not be reached for ${what}: ${errorText(error)}`);
  }
  if (answer === "timed out") {
    throw new QuorumUnavailableError(`the ledger's coordinator did not answer ${what} within ${wait_ms} ms`);
  }
  return answer.value;
}

/** An append through the coordinator: its outcome, or the proposer's error (503 / 429) as the Worker's own. */
export async function forwardAppend(
  link: CoordinatorLink,
  env: ForwardEnv,
  entries: readonly EntryInput[],
  options: RequestOptions = {},
): Promise<BatchOutcome> {
  return unwrapAnswer(await forward(env, options, () => link.append(entries, options), "the append"));
}

/** A recovery (`sync`) through the coordinator, for a linearizable read whose index is stuck. */
export async function forwardSync(link: CoordinatorLink, env: ForwardEnv, options: RequestOptions = {}): Promise<void> {
  unwrapAnswer(await forward(env, options, () => link.sync(options), "the recovery"));
}

/**
 * The options of the coordinator's proposer, beside the production defaults: it runs all its requests
 * in one I/O context (a Durable Object), and it is the ledger's sole proposer. The simulator's
 * coordinator takes the same.
 */
export const coordinator_proposer_options = {
  requestsShareOneContext: true,
  recoveryOutlivesRequests: true,
  roundsInFlightMax: limits.coordinator_rounds_in_flight_max,
} as const satisfies ProposerOptions;
