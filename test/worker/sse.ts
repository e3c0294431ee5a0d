/**
 * Reading Server-Sent Event streams of the Worker in the Workers-integration tests: the body is read
 * incrementally, parsed into events, and every wait is bounded.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { authHeader, type KeyName, origin } from "./http.js";

export interface SseEvent {
  event: string | undefined;
  id: string | undefined;
  data: string;
}

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Reads a text/event-stream body incrementally and parses it into events (comments skipped). */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  private ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next complete event, or an error after `timeout_ms`. */
  async next(timeout_ms: number): Promise<SseEvent> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const event = this.takeEvent();
      if (event !== undefined) return event;
      if (this.ended) throw new Error("the stream ended");
      // A read that timed out is still pending: wait for that one rather than starting another.
      this.pendingRead ??= this.reader.read();
      const result = await withTimeout(
        this.pendingRead,
        Math.max(1, deadline - Date.now()),
        "waiting for the next SSE event",
      );
      this.pendingRead = undefined;
      if (result.done) this.ended = true;
      else this.buffer += this.decoder.decode(result.value, { stream: true });
    }
  }

  /** The next entry event, skipping heartbeats. */
  async nextEntry(timeout_ms: number): Promise<SseEvent> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (e.event !== "heartbeat") return e;
    }
  }

  /** Entry events that arrive within `ms` (heartbeats skipped); [] when none does. */
  async entriesWithin(ms: number): Promise<SseEvent[]> {
    const deadline = Date.now() + ms;
    const got: SseEvent[] = [];
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return got;
      try {
        const e = await this.next(left);
        if (e.event !== "heartbeat") got.push(e);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("timed out")) return got;
        throw error;
      }
    }
  }

  /** Entry events until the server ends the stream (heartbeats skipped), within `timeout_ms`. */
  async entriesUntilEnd(timeout_ms: number): Promise<SseEvent[]> {
    const deadline = Date.now() + timeout_ms;
    const got: SseEvent[] = [];
    for (;;) {
      try {
        const e = await this.next(Math.max(1, deadline - Date.now()));
        if (e.event !== "heartbeat") got.push(e);
      } catch (error) {
        if (error instanceof Error && error.message === "the stream ended") return got;
        throw error;
      }
    }
  }

  async cancel(): Promise<void> {
    await withTimeout(this.reader.cancel(), 2_000, "cancelling the stream");
  }

  private takeEvent(): SseEvent | undefined {
    for (;;) {
      const normalized = this.buffer.replace(/\r\n?/g, "\n");
      const end = normalized.indexOf("\n\n");
      if (end < 0) return undefined;
      const block = normalized.slice(0, end);
      this.buffer = normalized.slice(end + 2);
      let event: string | undefined;
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "id") id = value;
        else if (field === "data") data.push(value);
      }
      if (event === undefined && id === undefined && data.length === 0) continue; // a comment block
      return { event, id, data: data.join("\n") };
    }
  }
}

/** The stream's response (headers only; the body is left to the caller). */
export function streamResponse(
  ledger: string,
  query: string,
  headers: Record<string, string> = {},
  key: KeyName = "test-all",
): Promise<Response> {
  return withTimeout(
    exports.default.fetch(`${origin}/v1/ledgers/${ledger}/stream${query}`, {
      headers: { ...authHeader(key), ...headers },
    }),
    5_000,
    "the stream's response headers",
  );
}

/** Opens a stream that must be accepted (200, text/event-stream) and returns its reader. */
export async function openStream(
  ledger: string,
  query: string,
  headers: Record<string, string> = {},
  key: KeyName = "test-all",
): Promise<SseReader> {
  const res = await streamResponse(ledger, query, headers, key);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/);
  expect(res.body).not.toBeNull();
  return new SseReader(res.body!);
}
