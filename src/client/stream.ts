/**
 * `GET /v1/ledgers/:ledger/stream` as an AsyncIterable of entries that survives disconnects.
 *
 * The server replays the entries after `after`, then sends new ones live, and ends every stream after
 * 5 minutes. This iterator reconnects after an end or a failure with `?after=<last seq yielded>` and
 * `Last-Event-ID`, so the entries it yields are exactly seq after+1, after+2, ... with no gap and no
 * duplicate (checked for every entry, not assumed), and, when verification is on, each entry's hash
 * and its link to the one before, across reconnects. Failed connections in a row are bounded; the
 * wait between them is jittered exponential backoff.
 */
import { genesis_hash, verifyEntries } from "./chain.js";
import {
  ChainVerificationError,
  isRecord,
  NetworkError,
  QuorumLedgerError,
  StreamProtocolError,
  UnexpectedResponseError,
} from "./errors.js";
import { backoffDelay_ms, linkedSignal, type RetryPolicy, sleep } from "./retry.js";
import { type SseEvent, SseParser } from "./sse.js";
import type { Entry } from "./types.js";

/** Connections in a row that deliver nothing before the iterator gives up. */
export const stream_reconnect_attempts_max = 10;
/**
 * The server sends a heartbeat every 15 s when idle: three missed heartbeats mean the connection is
 * dead even if no error says so (a half-open TCP connection), and the iterator reconnects.
 */
export const stream_idle_timeout_ms = 45_000;
/**
 * The server ends a stream after 5 minutes; a connection still open after this long is cut by the
 * client and reopened, so that a server that never ends one cannot keep a connection forever.
 */
export const stream_connection_ms_max = 6 * 60_000;

/** What the iterator needs from the client: one connection attempt, one lookup, the settings. */
export interface StreamTransport {
  /** One GET of the stream after `after` (no retries: the iterator decides). */
  open(after: number, signal: AbortSignal): Promise<Response>;
  /** The typed error for a non-200 answer (its body is read). */
  errorOf(response: Response): Promise<QuorumLedgerError>;
  /** The hash of the entry at `seq` (to check the link of the first entry streamed after it). */
  hashOf(seq: number, signal: AbortSignal | undefined): Promise<string>;
  readonly verifyChain: boolean;
  readonly retry: RetryPolicy;
}

export interface StreamSettings {
  readonly after: number;
  readonly prevHash: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly reconnectAttempts_max: number;
  readonly idleTimeout_ms: number;
}

/** Statuses after which reconnecting may help: the same as the client's retryable ones. */
function retryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * The events of one connection's body. A read that brings nothing for `idle_ms`, or a connection
 * open for `stream_connection_ms_max`, cancels the body; an idle cut is then reported as a
 * `NetworkError` so that the caller counts it as a failure.
 */
async function* readEvents(
  body: ReadableStream<Uint8Array>,
  idle_ms: number,
): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const opened_ms = Date.now();
  let idled = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    reader.cancel().catch(() => undefined); // the pending read resolves as done
  };
  try {
    // Bounded by time: the connection is cut after stream_connection_ms_max.
    while (Date.now() - opened_ms < stream_connection_ms_max) {
      // Armed only while waiting for bytes: a consumer that takes long over an entry is not idleness.
      idleTimer = setTimeout(
        () => {
          idled = true;
          cancel();
        },
        Math.min(idle_ms, Math.max(1, stream_connection_ms_max - (Date.now() - opened_ms))),
      );
      const { done, value } = await reader.read();
      clearTimeout(idleTimer);
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) yield event;
    }
    for (const event of parser.push(decoder.decode())) yield event;
    parser.end(); // a half-received event is dropped: it is sent again after the reconnect
    if (idled) {
      throw new NetworkError({
        code: "stream_idle",
        message: `the stream was silent for ${idle_ms} ms (no entry, no heartbeat)`,
      });
    }
  } finally {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    cancel();
  }
}

function parseEntry(event: SseEvent): Entry {
  let entry: unknown;
  try {
    entry = JSON.parse(event.data);
  } catch {
    throw new StreamProtocolError({
      code: "stream_bad_event",
      message: `an entry event (id ${event.lastEventId}) does not hold JSON`,
    });
  }
  if (!isRecord(entry) || typeof entry["seq"] !== "number") {
    throw new StreamProtocolError({
      code: "stream_bad_event",
      message: `an entry event (id ${event.lastEventId}) does not hold an entry`,
    });
  }
  return entry as Entry;
}

export async function* streamEntries(
  transport: StreamTransport,
  settings: StreamSettings,
): AsyncGenerator<Entry, void, undefined> {
  const { signal } = settings;
  let last = settings.after;
  let lastHash = settings.prevHash ?? (last === 0 ? genesis_hash : undefined);
  if (transport.verifyChain && lastHash === undefined) {
    try {
      lastHash = await transport.hashOf(last, signal);
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }
  let failuresInARow = 0;
  let lastFailure: unknown;
  let serverRetry_ms: number | undefined;
  // Bounded: a connection that delivers nothing counts as a failure, and failures in a row are
  // capped; a connection that delivers is bounded in time (stream_connection_ms_max).
  while (!signal?.aborted) {
    const connection = linkedSignal([signal]);
    let progressed = false;
    let retryAfter_ms: number | undefined;
    // What this connection's failure was, should it deliver nothing (replaced by a real error if any).
    let failure: unknown = "the stream ended without sending an event";
    try {
      const response = await transport.open(last, connection.signal);
      if (response.status !== 200) {
        const error = await transport.errorOf(response);
        if (!retryableStatus(response.status)) throw error;
        failure = error;
        retryAfter_ms = error.retryAfter_ms;
      } else if (response.body === null || !/^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "")) {
        await response.body?.cancel();
        throw new UnexpectedResponseError({
          status: response.status,
          code: "unexpected_response",
          message: `the stream answered ${response.headers.get("content-type") ?? "no content type"}, not text/event-stream`,
        });
      } else {
        for await (const event of readEvents(response.body as ReadableStream<Uint8Array>, settings.idleTimeout_ms)) {
          progressed = true;
          if (event.retry_ms !== undefined) serverRetry_ms = event.retry_ms;
          if (event.event !== "entry") continue; // heartbeats only show the connection is alive
          const entry = parseEntry(event);
          if (entry.seq !== last + 1) {
            throw new ChainVerificationError({
              seq: entry.seq,
              problem: "seq",
              expected: last + 1,
              actual: entry.seq,
              message: `the stream sent seq ${entry.seq} after seq ${last}: ${entry.seq > last + 1 ? "a gap" : "a duplicate"}`,
            });
          }
          if (transport.verifyChain)
            verifyEntries([entry], { afterSeq: last, ...(lastHash === undefined ? {} : { prevHash: lastHash }) });
          last = entry.seq;
          lastHash = entry.hash;
          yield entry;
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      // The API's refusals and broken chains are final; a dropped connection or an idle one is not.
      if (error instanceof QuorumLedgerError && !(error instanceof NetworkError)) throw error;
      failure = error;
    } finally {
      connection.abort();
      connection.dispose();
    }
    failuresInARow = progressed ? 0 : failuresInARow + 1;
    if (!progressed) lastFailure = failure;
    if (failuresInARow >= settings.reconnectAttempts_max) {
      if (lastFailure instanceof QuorumLedgerError) throw lastFailure;
      throw new NetworkError({
        code: "network_error",
        message: `the stream could not be (re)opened after seq ${last}: ${failuresInARow} failed connections in a row (${String(lastFailure)})`,
        attempts: failuresInARow,
        cause: lastFailure,
      });
    }
    // After a delivering connection ended (the server's 5-minute limit, or a drop), reconnect soon,
    // jittered; after failures, back off exponentially.
    const delay_ms = progressed
      ? Math.floor(Math.random() * transport.retry.base_ms)
      : backoffDelay_ms(transport.retry, failuresInARow, retryAfter_ms ?? serverRetry_ms);
    try {
      await sleep(delay_ms, signal);
    } catch {
      return; // aborted while waiting
    }
  }
}
