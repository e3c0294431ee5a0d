/**
 * One stream's loop, from admission to its end: it catches up on its own pages until it can join its
 * hub's live tail, then writes what the hub publishes, runs the hub's poll when that falls to it, and
 * sends heartbeats. Every await is its own (its timer, its writes, its replica reads): Workers' I/O
 * context forbids waiting on another request's I/O (see `../stream-hub.ts`).
 */
import type { LedgerHead } from "../../core/ledger-types.js";
import type { StreamLimits } from "./limits.js";
import { heartbeatOf, sseOf, type TailEntry } from "./sse-events.js";
import type { StreamEnd, StreamIo, StreamPage } from "./stream-io.js";
import type { StreamSubscriber } from "./subscriber.js";

/**
 * Serves one admitted stream until it ends and gives its place back (`release`, idempotent). Returns
 * why it ended.
 */
export async function serveStream(
  sub: StreamSubscriber,
  io: StreamIo,
  limits: StreamLimits,
  release: (sub: StreamSubscriber, why: StreamEnd) => void,
): Promise<StreamEnd> {
  const hub = sub.hub;
  const started_ms = io.now_ms();
  let lastWrite_ms = started_ms;
  let ownHead: LedgerHead | undefined;
  const count = () => {
    sub.subrequests++;
  };
  const writeEntries = async (entries: readonly TailEntry[]) => {
    for (let i = 0; i < entries.length; i += limits.write_batch_entries_max) {
      const batch = entries.slice(i, i + limits.write_batch_entries_max);
      await io.write(batch.map((e) => e.sse).join(""));
      sub.cursor = Math.max(sub.cursor, batch[batch.length - 1]!.seq);
      lastWrite_ms = io.now_ms();
    }
  };
  const end = (why: StreamEnd): StreamEnd => {
    release(sub, why);
    return sub.ended ?? why;
  };
  try {
    // Bounded: by duration_ms_max, and every pass either writes, reads (bounded by the budget and
    // catch_up_pages_max) or sleeps on its own timer.
    for (;;) {
      const now_ms = io.now_ms();
      sub.lastSeen_ms = now_ms;
      if (sub.released) return sub.ended ?? "aborted";
      if (sub.ended !== undefined) return end(sub.ended);
      if (now_ms - started_ms >= limits.duration_ms_max) return end("duration");

      if (sub.live && sub.queue.length > 0) {
        const batch = sub.queue.splice(0, limits.write_batch_entries_max);
        await writeEntries(batch);
        continue;
      }
      if (!sub.live && !hub.tryJoin(sub)) {
        if (hub.startingByAnother(sub, now_ms)) {
          await io.sleep(Math.max(1, hub.afterInFlight_ms(now_ms) - now_ms));
          continue;
        }
        if (!sub.canRead(limits.subrequest_margin)) return end("subrequest_budget");
        if (sub.catchUpPages >= limits.catch_up_pages_max) return end("catch_up_pages");
        const ticket = hub.claimStart(sub, now_ms);
        sub.catchUpPages++;
        hub.stats.catchUpReads++;
        let page: StreamPage;
        try {
          page = await io.readPage(sub.cursor, limits.page_entries_max, count);
        } catch {
          if (ticket !== undefined) hub.failed(ticket);
          await io.sleep(limits.poll_interval_ms);
          continue;
        }
        // Published before this stream writes, so that a slow client does not hold the others back.
        if (ticket !== undefined) hub.publish(ticket, page, io.now_ms());
        if (sub.released) return sub.ended ?? "aborted";
        ownHead = page.head;
        const from = sub.cursor;
        const fresh = page.entries.filter((e) => e.seq > from);
        for (let i = 0; i < fresh.length; i++) {
          if (fresh[i]!.seq !== from + 1 + i)
            throw new Error(`a replica page skipped from seq ${from} to ${fresh[i]!.seq}`);
        }
        await writeEntries(fresh.map(sseOf));
        const more = fresh.length > 0 && fresh[fresh.length - 1]!.seq < page.head.seq;
        if (!more && !hub.tryJoin(sub)) await io.sleep(limits.poll_interval_ms);
        continue;
      }

      const claim = sub.live ? hub.claimPoll(sub, now_ms) : undefined;
      if (claim === "out_of_budget") return end("subrequest_budget");
      if (claim !== undefined) {
        try {
          const page = await io.readPage(claim.after, limits.page_entries_max, count);
          hub.publish(claim, page, io.now_ms());
        } catch {
          hub.failed(claim);
        }
        continue;
      }
      if (io.now_ms() - lastWrite_ms >= limits.heartbeat_ms) {
        await io.write(heartbeatOf(hub.head ?? ownHead));
        lastWrite_ms = io.now_ms();
        continue;
      }
      const wake_ms = Math.min(
        hub.nextWake_ms(sub, now_ms),
        lastWrite_ms + limits.heartbeat_ms,
        started_ms + limits.duration_ms_max,
      );
      await io.sleep(Math.max(1, wake_ms - now_ms));
    }
  } catch (error) {
    release(sub, "error");
    throw error;
  } finally {
    release(sub, "aborted");
  }
}
