/**
 * `npm exec -- tsx bench/streams.ts [--streams 300] [--appends 10] [--first-event-timeout-ms 30000]`
 *
 * Many Server-Sent Event streams of one ledger against a fresh `wrangler dev` on a free loopback port
 * (127.0.0.1 only): the ledger gets `seed_entries + --appends` entries (the last `--appends` of them
 * timed: the baseline), as many plain reads as streams are sent at once (what that many requests
 * cost on this machine), then `--streams` streams are opened at once with `?after=0`, alternating the
 * two development keys (`.dev.vars.example`). Measured:
 * - per stream: its status (200, or 429 beyond a cap) and the time from its request to its first
 *   entry (or to the 429), bounded by `--first-event-timeout-ms`;
 * - with every accepted stream open: the latency of `--appends` sequential single-entry appends, and
 *   the time from the last append's answer until each open stream has delivered that entry.
 * Prints a JSON summary on stdout (progress on stderr). Bounded: at most `streams_max` streams, every
 * wait has a timeout, and wrangler dev is killed at the end or after `run_timeout_ms`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, WranglerDev } from "../scripts/wrangler-dev.js";

const streams_max = 2000;
const appends_max = 1000;
const run_timeout_ms = 10 * 60_000;
const seed_entries = 5;
const keys = ["dev-key-quorum-ledger", "dev-read-key-quorum-ledger"] as const;
const append_key = keys[0];
const append_timeout_ms = 60_000;
/** How long the last append may take to reach every open stream. */
const delivery_timeout_ms = 30_000;

interface Args {
  streams: number;
  appends: number;
  firstEventTimeout_ms: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { streams: 300, appends: 10, firstEventTimeout_ms: 30_000 };
  const whole = (flag: string, value: string | undefined, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} takes a whole number from 1 to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--streams") args.streams = whole(a, argv[++i], streams_max);
    else if (a === "--appends") args.appends = whole(a, argv[++i], appends_max);
    else if (a === "--first-event-timeout-ms") args.firstEventTimeout_ms = whole(a, argv[++i], 300_000);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (n: number | null) => (n === null ? null : Math.round(n));
  return {
    count: sorted.length,
    p50_ms: r(percentile(sorted, 50)),
    p99_ms: r(percentile(sorted, 99)),
    max_ms: r(sorted.at(-1) ?? null),
  };
}

/** One open stream: reads its body in the background and records when each entry seq arrived. */
class OpenStream {
  status = 0;
  firstEntry_ms: number | undefined;
  readonly seen = new Map<number, number>();
  ended = false;
  private readonly controller = new AbortController();

  constructor(
    readonly index: number,
    readonly sent_ms: number,
  ) {}

  async run(url: string, key: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
        signal: this.controller.signal,
      });
    } catch {
      this.ended = true;
      return;
    }
    this.status = res.status;
    if (res.status !== 200 || res.body === null) {
      this.firstEntry_ms = performance.now(); // the answer (a 429) is what this stream got first
      await res.body?.cancel();
      this.ended = true;
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith("event: entry")) continue;
          const id = /^id: ([0-9]+)$/m.exec(block)?.[1];
          if (id === undefined) continue;
          const now = performance.now();
          this.firstEntry_ms ??= now;
          this.seen.set(Number(id), now);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }

  close(): void {
    this.controller.abort();
  }
}

async function waitUntil(condition: () => boolean, timeout_ms: number): Promise<boolean> {
  const deadline = performance.now() + timeout_ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** One append's answer time; `seq` undefined when it failed or took longer than `append_timeout_ms`. */
async function append(base: string, ledger: string, id: string): Promise<{ seq: number | undefined; took_ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}/v1/ledgers/${ledger}/entries`, {
      method: "POST",
      headers: { authorization: `Bearer ${append_key}`, "content-type": "application/json" },
      body: JSON.stringify({ id, account: "ACC-1", symbol: "XYZ", side: "buy", quantity: "1", price: "10" }),
      signal: AbortSignal.timeout(append_timeout_ms),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`append ${id}: ${res.status} ${text.slice(0, 300)}`);
    return {
      seq: (JSON.parse(text) as { results: Array<{ seq: number }> }).results[0]!.seq,
      took_ms: performance.now() - started,
    };
  } catch (error) {
    process.stderr.write(`append ${id} failed after ${Math.round(performance.now() - started)} ms: ${String(error)}\n`);
    return { seq: undefined, took_ms: performance.now() - started };
  }
}

/** The same number of plain reads (GET head) at once: what answering that many requests costs here. */
async function concurrentHeads(base: string, ledger: string, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const started = performance.now();
      const res = await fetch(`${base}/v1/ledgers/${ledger}/head?consistency=local`, {
        headers: { authorization: `Bearer ${keys[i % keys.length]}` },
        signal: AbortSignal.timeout(append_timeout_ms),
      });
      await res.text();
      return performance.now() - started;
    }),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scratch = await mkdtemp(join(tmpdir(), "ql-streams-"));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dev = await WranglerDev.start({
    port: await freePort(),
    persistTo: join(scratch, "state"),
    label: "streams",
    logLevel: "warn",
  });
  const killer = setTimeout(() => {
    dev.killNow();
    process.exit(2);
  }, run_timeout_ms);
  const streams: OpenStream[] = [];
  try {
    const ledger = `streams-${Date.now().toString(36)}`;
    // The same appends before any stream is open: the baseline of this run.
    const seedLatencies: number[] = [];
    for (let i = 1; i <= seed_entries + args.appends; i++) {
      const r = await append(dev.url, ledger, `seed:${i}`);
      if (r.seq === undefined) throw new Error("the ledger could not be seeded");
      if (i > seed_entries) seedLatencies.push(r.took_ms);
    }
    const heads = await concurrentHeads(dev.url, ledger, args.streams);
    log(`${args.streams} concurrent GET head: ${JSON.stringify(summary(heads))}`);
    log(`ledger ${ledger}: ${seed_entries} entries; opening ${args.streams} streams`);

    const runs: Promise<void>[] = [];
    for (let i = 0; i < args.streams; i++) {
      const s = new OpenStream(i, performance.now());
      streams.push(s);
      runs.push(s.run(`${dev.url}/v1/ledgers/${ledger}/stream?after=0`, keys[i % keys.length]!));
    }
    await waitUntil(() => streams.every((s) => s.firstEntry_ms !== undefined || s.ended), args.firstEventTimeout_ms);
    const accepted = streams.filter((s) => s.status === 200);
    const refused = streams.filter((s) => s.status === 429);
    const nothing = streams.filter((s) => s.firstEntry_ms === undefined);
    log(
      `${accepted.length} accepted, ${refused.length} refused (429), ${nothing.length} got nothing within ${args.firstEventTimeout_ms} ms`,
    );

    const appendLatencies: number[] = [];
    let lastSeq: number | undefined;
    let lastAnswered_ms = 0;
    let appendsFailed = 0;
    for (let i = 1; i <= args.appends; i++) {
      const r = await append(dev.url, ledger, `live:${i}`);
      appendLatencies.push(r.took_ms);
      if (r.seq === undefined) {
        appendsFailed++;
        continue;
      }
      lastSeq = r.seq;
      lastAnswered_ms = performance.now();
    }
    log(`appends: ${JSON.stringify(summary(appendLatencies))}`);
    const live = accepted.filter((s) => !s.ended);
    const has = (s: OpenStream) => lastSeq !== undefined && s.seen.has(lastSeq);
    const delivered =
      lastSeq !== undefined && (await waitUntil(() => live.every((s) => has(s) || s.ended), delivery_timeout_ms));
    const delivery = live.filter(has).map((s) => Math.max(0, s.seen.get(lastSeq!)! - lastAnswered_ms));

    const result = {
      streams: args.streams,
      seed_entries: seed_entries + args.appends,
      accepted: accepted.length,
      refused_429: refused.length,
      other_status: streams.filter((s) => s.status !== 200 && s.status !== 429).map((s) => s.status),
      got_nothing_within_timeout: nothing.length,
      first_event_timeout_ms: args.firstEventTimeout_ms,
      first_entry_of_accepted: summary(
        accepted.filter((s) => s.firstEntry_ms !== undefined).map((s) => s.firstEntry_ms! - s.sent_ms),
      ),
      answer_of_refused: summary(refused.map((s) => s.firstEntry_ms! - s.sent_ms)),
      concurrent_heads_without_streams: summary(heads),
      appends_without_streams: summary(seedLatencies),
      appends_while_open: {
        ...summary(appendLatencies),
        failed_or_timed_out: appendsFailed,
        timeout_ms: append_timeout_ms,
      },
      last_append_to_every_stream: { all_delivered: delivered, open: live.length, ...summary(delivery) },
      worker_errors: dev.errorLines().length,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    for (const s of streams) s.close();
    await Promise.race([Promise.all(runs), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  } finally {
    for (const s of streams) s.close();
    clearTimeout(killer);
    await dev.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
