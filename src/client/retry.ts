/**
 * Retry timing: full-jitter exponential backoff (a random delay between 0 and a ceiling that doubles
 * per attempt up to a cap), so that clients that failed together do not retry together. A server's
 * `Retry-After` is honoured as a floor, but never beyond the cap: the caller's bound on waiting wins.
 */

export interface RetryPolicy {
  /** Requests sent at most, the first included (1 = never retry). */
  readonly attempts_max: number;
  /** The ceiling of the first backoff; it doubles per attempt. */
  readonly base_ms: number;
  /** No single wait is longer than this, whatever the attempt or the server's Retry-After. */
  readonly cap_ms: number;
}

/**
 * About 2 + 4 + 5 + 5 + 5 seconds of waiting at most over six attempts: long enough to ride out a
 * leader change or a region's brief outage, short enough that a caller is not left hanging.
 */
export const default_retry: RetryPolicy = { attempts_max: 6, base_ms: 250, cap_ms: 5_000 };

/** A policy may not ask for more than this: every loop of the client has a bound. */
export const retry_attempts_max = 100;
export const retry_cap_ms_max = 10 * 60_000;

export function checkRetryPolicy(p: RetryPolicy): RetryPolicy {
  const whole = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  if (!whole(p.attempts_max, 1, retry_attempts_max))
    throw new RangeError(`retry.attempts_max must be a whole number from 1 to ${retry_attempts_max}`);
  if (!whole(p.base_ms, 0, retry_cap_ms_max))
    throw new RangeError(`retry.base_ms must be a whole number from 0 to ${retry_cap_ms_max}`);
  if (!whole(p.cap_ms, p.base_ms, retry_cap_ms_max))
    throw new RangeError(`retry.cap_ms must be a whole number from base_ms to ${retry_cap_ms_max}`);
  return p;
}

/**
 * The wait before retry number `retry` (1 for the first retry): uniform in [0, min(cap, base * 2^(retry-1))],
 * and at least the server's Retry-After when it sent one, both capped at `cap_ms`.
 */
export function backoffDelay_ms(
  policy: RetryPolicy,
  retry: number,
  retryAfter_ms: number | undefined,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 30); // 2^30 already exceeds any cap; no overflow to Infinity
  const ceiling_ms = Math.min(policy.cap_ms, policy.base_ms * 2 ** exponent);
  const jittered_ms = Math.floor(random() * ceiling_ms);
  const floor_ms = retryAfter_ms === undefined ? 0 : Math.min(policy.cap_ms, retryAfter_ms);
  return Math.max(jittered_ms, floor_ms);
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter_ms(header: string | null, now_ms: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^[0-9]{1,9}$/.test(value)) return Number(value) * 1000;
  const at_ms = Date.parse(value);
  return Number.isNaN(at_ms) ? undefined : Math.max(0, at_ms - now_ms);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Aborts `signal` alone (not the signals it follows). */
  readonly abort: (reason?: unknown) => void;
  /** Removes the listeners and the timer. */
  readonly dispose: () => void;
}

/**
 * One AbortSignal that aborts when any of `signals` does, or after `timeout_ms`. `dispose` removes
 * the listeners and the timer, so that a finished request leaves nothing behind (no timer keeping a
 * Node process alive, no listener piling up on a long-lived signal).
 */
export function linkedSignal(signals: ReadonlyArray<AbortSignal | undefined>, timeout_ms?: number): LinkedSignal {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  const dispose = () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  for (const s of signals) {
    if (s === undefined) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => s.removeEventListener("abort", onAbort));
  }
  if (timeout_ms !== undefined && !controller.signal.aborted) {
    const timer = setTimeout(
      () => controller.abort(new DOMException(`timed out after ${timeout_ms} ms`, "TimeoutError")),
      timeout_ms,
    );
    cleanups.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, abort: (reason?: unknown) => controller.abort(reason), dispose };
}
