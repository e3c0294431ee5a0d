/** The errors a proposer's callers see, and the internal ones that end one attempt. */

/**
 * No quorum in time. Outcome unknown when the request was proposed (it may still be chosen by a
 * later recovery); when it was not (`outcomeUnknown` false), nothing of it was applied. Either way,
 * retrying the same ids is safe. The message says why, without advice (the API adds that).
 */
export class QuorumUnavailableError extends Error {
  override name = "QuorumUnavailableError";
  readonly outcomeUnknown: boolean;
  constructor(message: string, options: { proposed?: boolean } = {}) {
    super(message);
    this.outcomeUnknown = options.proposed ?? true;
  }
}

/** The proposer's queue is full; nothing was proposed. */
export class ProposerOverloadedError extends Error {
  override name = "ProposerOverloadedError";
}

/** Why one attempt failed; the caller backs off and tries again. */
export class AttemptFailed extends Error {
  override name = "AttemptFailed";
}

/** The group round has made its `round_quorum_calls_max` quorum calls: no further attempt. */
export class GroupRoundCallsSpent extends AttemptFailed {
  override name = "GroupRoundCallsSpent";
}

/** Characters of an acceptor call's error that a 503's message quotes. */
const error_text_chars_max = 120;

/** An acceptor call's error as a 503's message quotes it, cut to `error_text_chars_max`. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > error_text_chars_max ? `${text.slice(0, error_text_chars_max)}...` : text;
}
