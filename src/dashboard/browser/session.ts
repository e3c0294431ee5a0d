/**
 * The session: one key and ledger at a time. Connecting again stops the previous session first;
 * every loop of a session ends when its signal aborts.
 */
import { sleep } from "../../client/retry.js";
import { byId, setText } from "./dom.js";
import { type Connection, HttpError } from "./http.js";

export interface Session extends Connection {
  readonly controller: AbortController;
  /** A positions request is on its way (the button and the timer do not send a second one). */
  positionsInFlight: boolean;
}

let current: Session | undefined;

export function currentSession(): Session | undefined {
  return current;
}

/** Stops the current session (if any) and makes a new one current. */
export function beginSession(key: string, ledger: string): Session {
  stopSession();
  const controller = new AbortController();
  current = { key, ledger, controller, signal: controller.signal, positionsInFlight: false };
  return current;
}

export function stopSession(): void {
  if (current === undefined) return;
  current.controller.abort();
  current = undefined;
  setText(byId("regions-summary"), "Not connected.");
  setText(byId("tail-state"), "Not connected.");
}

/** Called by a loop that met a fatal error: a refused key ends the session (a missing scope does not). */
export function stopOn(session: Session, error: unknown): void {
  if (current !== session) return;
  if (error instanceof HttpError && error.status === 401) {
    setText(byId("connection-state"), "Disconnected: the API key was not accepted.");
    stopSession();
  }
}

/** Waits `ms`, or less when the session stops (the SDK's sleep, which rejects on abort, made quiet). */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch {
    // aborted: the caller's loop sees the signal and ends
  }
}
