/**
 * An incremental Server-Sent Events parser (the WHATWG "event stream interpretation"), for streams
 * read from a `fetch` body: EventSource cannot send an Authorization header. Text goes in as it
 * arrives, in chunks cut anywhere; complete events come out. Memory is bounded: a line longer than
 * `sse_line_chars_max` or an event whose data exceeds `sse_event_data_chars_max` is a protocol error,
 * not a buffer that grows without end.
 */
import { StreamProtocolError } from "./errors.js";

/**
 * The longest line the parser keeps (in UTF-16 code units). An entry's JSON is a few kilobytes at
 * most (README, "Ledger rules": ids of 128 characters, 16 metadata values of 256), so 1 MiB is
 * generous and still bounded.
 */
export const sse_line_chars_max = 1024 * 1024;
/** The most data (all `data:` lines of one event together) the parser keeps for one event. */
export const sse_event_data_chars_max = 1024 * 1024;

export interface SseEvent {
  /** The `event:` field; "message" when the event had none. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen so far in the stream (it carries over to later events), or "". */
  readonly lastEventId: string;
  /** The stream's reconnection time in milliseconds, as the last `retry:` field so far set it. */
  readonly retry_ms: number | undefined;
}

export class SseParser {
  /** Text received but not yet split into lines (at most one partial line). */
  private pending = "";
  /** A chunk ended with CR: a LF at the start of the next chunk belongs to the same line break. */
  private skipLeadingLf = false;
  private eventType = "";
  private data: string[] = [];
  private dataChars = 0;
  private lastEventId = "";
  private retry_ms: number | undefined;

  /** Feeds decoded text; returns the events it completed, in order. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let chunk = text;
    if (this.skipLeadingLf && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.skipLeadingLf = false;
    if (chunk === "") return events;
    let buffer = this.pending + chunk;
    let start = 0;
    for (;;) {
      const cr = buffer.indexOf("\r", start);
      const lf = buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      const line = buffer.slice(start, end);
      if (buffer[end] === "\r") {
        if (end + 1 === buffer.length) this.skipLeadingLf = true; // CRLF may be split across chunks
        start = buffer[end + 1] === "\n" ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    buffer = buffer.slice(start);
    if (buffer.length > sse_line_chars_max) {
      throw new StreamProtocolError({
        code: "stream_line_too_long",
        message: `an event-stream line exceeds ${sse_line_chars_max} characters without a line break`,
      });
    }
    this.pending = buffer;
    return events;
  }

  /**
   * The stream ended. Per the specification an event not terminated by a blank line is discarded:
   * a connection cut mid-event must not deliver half an entry.
   */
  end(): void {
    this.pending = "";
    this.resetEvent();
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.dataChars += value.length + 1;
        if (this.dataChars > sse_event_data_chars_max) {
          throw new StreamProtocolError({
            code: "stream_event_too_large",
            message: `an event's data exceeds ${sse_event_data_chars_max} characters`,
          });
        }
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]{1,9}$/.test(value)) this.retry_ms = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event: SseEvent = {
      event: this.eventType === "" ? "message" : this.eventType,
      data: this.data.join("\n"),
      lastEventId: this.lastEventId,
      retry_ms: this.retry_ms,
    };
    const empty = this.data.length === 0;
    this.resetEvent();
    return empty ? undefined : event; // no data lines: nothing to dispatch (the specification's rule)
  }

  private resetEvent(): void {
    this.eventType = "";
    this.data = [];
    this.dataChars = 0;
  }
}
