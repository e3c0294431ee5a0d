/**
 * What the ledger's coordinator answers a forwarded request with: plain data, because it crosses a
 * Durable Object RPC (structured clone), which keeps an error's message but not its class. The
 * coordinator side turns its proposer's outcome or error into an answer; the Worker side
 * (`forward.ts`) turns the answer back into the same outcome or error, so the routes answer a
 * forwarded append exactly as they answered one proposed in the Worker.
 */
import type { BatchOutcome } from "../ledger-types.js";
import { ProposerOverloadedError, QuorumUnavailableError } from "../proposer/errors.js";

export type CoordinatorAnswer<T> =
  | { readonly kind: "done"; readonly value: T }
  | { readonly kind: "unavailable"; readonly message: string; readonly outcomeUnknown: boolean }
  | { readonly kind: "overloaded"; readonly message: string };

export type AppendAnswer = CoordinatorAnswer<BatchOutcome>;
export type SyncAnswer = CoordinatorAnswer<null>;

/**
 * The coordinator's answer for one piece of its proposer's work. The proposer's two answerable
 * errors become answers; anything else is a bug and is thrown, so that the caller sees a failed
 * call (503, outcome unknown), never a made-up outcome.
 */
export async function answerOf<T>(work: Promise<T>): Promise<CoordinatorAnswer<T>> {
  try {
    return { kind: "done", value: await work };
  } catch (error) {
    if (error instanceof QuorumUnavailableError) {
      return { kind: "unavailable", message: error.message, outcomeUnknown: error.outcomeUnknown };
    }
    if (error instanceof ProposerOverloadedError) return { kind: "overloaded", message: error.message };
    throw error;
  }
}

/** The value of an answer, or the proposer error it stands for (thrown). */
export function unwrapAnswer<T>(answer: CoordinatorAnswer<T>): T {
  switch (answer.kind) {
    case "done":
      return answer.value;
    case "unavailable":
      throw new QuorumUnavailableError(answer.message, { proposed: answer.outcomeUnknown });
    case "overloaded":
      throw new ProposerOverloadedError(answer.message);
  }
}
