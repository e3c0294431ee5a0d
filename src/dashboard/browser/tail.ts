/**
 * The live tail: `GET /v1/ledgers/:ledger/stream` read through fetch (EventSource cannot send an
 * Authorization header) and parsed by the SDK's SSE parser. It starts a few entries below the head,
 * and reconnects from the last seq shown: at once after the server ends a stream (it does every few
 * minutes), after the SDK's exponential backoff after a failure.
 */
import type { HeadResult, SseEvent } from "../../client/index.js";
import { backoffDelay_ms, type RetryPolicy, retry_attempts_max } from "../../client/retry.js";
import { SseParser } from "../../client/sse.js";
import { byId, setText, showError } from "./dom.js";
import { fmtTime } from "./format.js";
import { describeError, getJson, httpErrorOf, isFatal, ledgerPath } from "./http.js";
import { pause, type Session, stopOn } from "./session.js";
import { addTailRow, type StreamedEntry } from "./tail-table.js";

/** The tail starts this many entries below the head. */
const tail_backfill_entries = 20;
/**
 * The wait before reconnecting after failures in a row: its ceiling starts at 0.5 s and doubles up
 * to 15 s. The page reconnects for as long as it is connected: backoffDelay_ms reads base_ms and
 * cap_ms only, and attempts_max (required by the type) is not used.
 */
const reconnect_backoff: RetryPolicy = { attempts_max: retry_attempts_max, base_ms: 500, cap_ms: 15_000 };
/** No byte for this long (heartbeats come every 15 s) and the stream is dropped and reopened. */
const stream_idle_ms_max = 45_000;

/**
 * The jitter the page has always used: uniform in the upper half of the ceiling, so that many pages
 * do not come back at once, and none comes straight back.
 */
function upperHalfRandom(): number {
  return 0.5 + Math.random() / 2;
}

/** The events of a stream's body, as they complete; `onBytes` is called for every chunk read. */
async function* sseEvents(
  body: ReadableStream<Uint8Array>,
  onBytes: () => void,
): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    // Bounded by the connection: the caller aborts it when idle, and the server ends it.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      onBytes();
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    parser.end(); // an event cut off by the end is dropped: it comes again after the reconnect
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

function parseEntry(data: string): StreamedEntry | undefined {
  const entry: unknown = JSON.parse(data);
  if (typeof entry !== "object" || entry === null || !("seq" in entry) || typeof entry.seq !== "number")
    return undefined;
  return entry as StreamedEntry;
}

export async function tail(session: Session): Promise<void> {
  const state = byId("tail-state");
  let after: number | undefined;
  let failuresInARow = 0;
  // Bounded by the session: the loop ends when it stops (a new connection, "Forget", a refused key).
  while (!session.signal.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    session.signal.addEventListener("abort", stop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => connection.abort(new DOMException("no data from the stream", "TimeoutError")),
        stream_idle_ms_max,
      );
    };
    try {
      if (after === undefined) {
        const head = await getJson<HeadResult>(session, ledgerPath(session, "head"));
        after = Math.max(0, head.seq - tail_backfill_entries);
      }
      setText(state, `Connecting from seq ${after}…`);
      touch();
      const res = await fetch(ledgerPath(session, `stream?after=${after}`), {
        headers: { authorization: `Bearer ${session.key}`, accept: "text/event-stream" },
        cache: "no-store",
        signal: connection.signal,
      });
      if (!res.ok) throw await httpErrorOf(res);
      if (res.body === null) throw new Error("the stream answered without a body");
      setText(state, `Live from seq ${after}.`);
      showError("tail", "");
      let events = 0;
      for await (const ev of sseEvents(res.body, touch)) {
        events++;
        if (ev.event === "entry") {
          const entry = parseEntry(ev.data);
          if (entry !== undefined && entry.seq > after) {
            after = entry.seq;
            addTailRow(entry);
            setText(state, `Live. Last entry seq ${after}, committed ${fmtTime(entry.committedAt)} UTC.`);
          }
          failuresInARow = 0;
        } else if (ev.event === "heartbeat") {
          setText(
            state,
            `Live. Last entry seq ${after}; idle, heartbeat at ${new Date().toLocaleTimeString("en-GB")}.`,
          );
          failuresInARow = 0;
        }
      }
      // The server ends a stream after a few minutes: reconnect at once, from the last seq. A stream
      // that ended without a single event (the server could not read a replica) is a failure: back
      // off, or every open page would hammer the Worker.
      if (events === 0) throw new Error("the stream ended without an event");
      setText(state, `The stream ended; reconnecting from seq ${after}.`);
    } catch (error) {
      if (session.signal.aborted) return;
      if (isFatal(error)) {
        showError("tail", describeError(error, "Live tail"));
        setText(state, "Stopped.");
        stopOn(session, error);
        return;
      }
      failuresInARow += 1;
      const wait_ms = backoffDelay_ms(reconnect_backoff, failuresInARow, undefined, upperHalfRandom);
      const reason = connection.signal.aborted ? "no data for too long" : describeError(error, "Live tail");
      showError("tail", `${reason}. Reconnecting in about ${Math.ceil(wait_ms / 1000)} s.`);
      setText(state, after === undefined ? "Disconnected." : `Disconnected after seq ${after}.`);
      await pause(wait_ms, session.signal);
    } finally {
      clearTimeout(idle);
      session.signal.removeEventListener("abort", stop);
      connection.abort();
    }
  }
}
