/**
 * `npm run demo`: Quorum Ledger from nothing, through the client SDK (src/client).
 *
 * 1. Uses the ledger at http://127.0.0.1:8787 (or `--port`) if one answers; otherwise starts
 *    `wrangler dev` there itself (persisting to .wrangler/state, as `npm start` does) and keeps it
 *    running afterwards until Ctrl-C, so that the dashboard can be opened (`--exit`: stops it at the
 *    end). With `--url` it uses the ledger at that address and never starts one. When something other
 *    than Quorum Ledger holds the port, it says what it found and stops: it never lets wrangler move
 *    to another port behind the user's back.
 * 2. Posts a realistic stream of fills to ledger `demo` with the development key: several accounts
 *    and symbols, buys and sells at plausible prices (a random walk per symbol), some fees, some busts
 *    and corrections (refId), single fills and small batches, and some deliberate re-sends of the same
 *    request, whose receipts must say `exists` with the original seq and hash.
 * 3. Reads the whole ledger back with client-side hash-chain verification, and checks that the entries
 *    it appended are there, at their receipts' seqs, with the fields it sent.
 * 4. Computes every position it expects INDEPENDENTLY (its own average-cost fold in exact decimals
 *    with big.js, written from README "Ledger rules", not src/core/positions.ts) over the fills the
 *    ledger held before this run plus the demo's own list of fills, prints it next to what
 *    `GET /positions` reports, and flags every difference (exit code 1 if any).
 *
 *   npm run demo -- [--port P | --url URL] [--fills N] [--ledger NAME] [--seed S] [--exit]
 *
 * Every request goes to 127.0.0.1 unless `--url` names another host; every loop has a bound. An
 * expected condition (a bad argument, a port held by something else, a refused key, the ledger gone)
 * ends with a plain message and exit code 1 or 2, never a stack trace.
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import BigModule from "big.js";
import {
  type Entry,
  type EntryInput,
  type Position,
  QuorumLedgerClient,
  QuorumLedgerError,
  type Receipt,
} from "../src/client/index.js";
import { project_root, WranglerDev } from "./wrangler-dev.js";

/** Where `npm start` (wrangler.toml's dev port) serves, and so where the demo looks first. */
export const demo_port_default = 8787;
const dev_api_key = "dev-key-quorum-ledger"; // .dev.vars.example: scopes append, read, admin
const fills_default = 300;
/** The demo posts at most this many fills in one run. */
const fills_max = 100_000;
/** Entries in one request: 1 (most often) up to this many (an atomic batch). */
const batch_entries_max = 4;
/** How likely an entry is a bust, or a correction, of an earlier fill (when there is one to refer to). */
const bust_probability = 0.03;
const correction_probability = 0.04;
/** How likely a request is sent a second time, verbatim, after it was acknowledged (a lost-ack retry). */
const resend_probability = 0.06;
const fee_probability = 0.35;
/** How long the probe of an already running ledger may take. */
export const probe_timeout_ms = 2_000;
const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Positions one account may hold that the report prints (more would be a bug of the demo). */
const report_positions_max = 1_000;

// ---- arguments ----

export interface DemoOptions {
  readonly fills: number;
  readonly ledger: string;
  readonly seed: number;
  /** Stop the wrangler dev the demo started once it is done, instead of keeping it until Ctrl-C. */
  readonly exit: boolean;
  /** Where the ledger is: a loopback port (the demo starts wrangler dev there if none answers), or a URL (never started). */
  readonly target: { readonly kind: "port"; readonly port: number } | { readonly kind: "url"; readonly url: string };
}

export type ParsedDemoArgs =
  | { readonly kind: "run"; readonly options: DemoOptions }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "invalid"; readonly message: string };

export const demo_usage =
  "npm run demo -- [--port P (default 8787) | --url URL] [--fills N (default 300)] [--ledger NAME (default demo)] [--seed S] [--exit]\n" +
  "  --port P   use Quorum Ledger on 127.0.0.1:P, or start wrangler dev there when nothing listens\n" +
  "  --url URL  use the Quorum Ledger at URL (e.g. http://127.0.0.1:8788); never starts one\n" +
  "  --exit     stop the wrangler dev the demo started when it is done (default: keep it until Ctrl-C)";

/** The flags as parseArgs reads them; throws on an unknown or malformed flag. */
function readDemoFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      fills: { type: "string", default: String(fills_default) },
      ledger: { type: "string", default: "demo" },
      seed: { type: "string" },
      port: { type: "string" },
      url: { type: "string" },
      exit: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/** The command line, checked; `random_seed` is the seed used when `--seed` is not given. */
export function parseDemoArgs(argv: readonly string[], random_seed: number): ParsedDemoArgs {
  let values: ReturnType<typeof readDemoFlags>;
  try {
    values = readDemoFlags(argv);
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--prot'..."); the stack adds nothing.
    return { kind: "invalid", message: (error as Error).message };
  }
  if (values.help) return { kind: "help", text: demo_usage };
  const fills = Number(values.fills);
  if (!/^[0-9]+$/.test(values.fills) || fills < 1 || fills > fills_max) {
    return { kind: "invalid", message: `--fills must be a whole number from 1 to ${fills_max}` };
  }
  if (!ledger_name.test(values.ledger))
    return { kind: "invalid", message: `--ledger must match ${ledger_name.source}` };
  const seed = values.seed === undefined ? random_seed : Number(values.seed);
  if (
    (values.seed !== undefined && !/^[0-9]+$/.test(values.seed)) ||
    !Number.isInteger(seed) ||
    seed < 0 ||
    seed >= 2 ** 32
  ) {
    return { kind: "invalid", message: "--seed must be a whole number from 0 to 2^32 - 1" };
  }
  if (values.port !== undefined && values.url !== undefined) {
    return { kind: "invalid", message: "give --port or --url, not both" };
  }
  let target: DemoOptions["target"] = { kind: "port", port: demo_port_default };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^[0-9]+$/.test(values.port) || port < 1 || port > 65_535) {
      return { kind: "invalid", message: "--port must be a TCP port number from 1 to 65535" };
    }
    target = { kind: "port", port };
  }
  if (values.url !== undefined) {
    let url: URL;
    try {
      url = new URL(values.url);
    } catch {
      return {
        kind: "invalid",
        message: `--url ${JSON.stringify(values.url)} is not a URL; e.g. --url http://127.0.0.1:8788`,
      };
    }
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.pathname !== "/" ||
      url.search !== "" ||
      url.hash !== "" ||
      url.username !== ""
    ) {
      return {
        kind: "invalid",
        message: `--url takes the ledger's address only, http(s)://host[:port], e.g. --url http://127.0.0.1:8788`,
      };
    }
    target = { kind: "url", url: url.origin };
  }
  return { kind: "run", options: { fills, ledger: values.ledger, seed, exit: values.exit, target } };
}

// ---- randomness (seeded, so that a run can be repeated with --seed) ----

/** mulberry32: a small, good-enough PRNG for test data. */
function prng(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
/** The run's random stream; seeded by `runDemo` before anything is drawn. */
let random: () => number = () => {
  throw new Error("the demo's random stream is not seeded yet");
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
/** A standard normal sample (Box-Muller). */
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

// ---- the market ----

interface Instrument {
  readonly symbol: string;
  readonly currency: string;
  /** Price decimals (the tick). */
  readonly priceDigits: number;
  /** Fill sizes: a random whole number of lots from 1 to lotsMax, of `lot` each. */
  readonly lot: string;
  readonly lotsMax: number;
  /** Per-fill volatility of the random walk. */
  readonly sigma: number;
  mid: number;
}

const instruments: Instrument[] = [
  { symbol: "AAPL", currency: "USD", priceDigits: 2, lot: "10", lotsMax: 30, sigma: 0.002, mid: 187.25 },
  { symbol: "MSFT", currency: "USD", priceDigits: 2, lot: "5", lotsMax: 40, sigma: 0.002, mid: 411.1 },
  { symbol: "NVDA", currency: "USD", priceDigits: 2, lot: "10", lotsMax: 25, sigma: 0.004, mid: 485.5 },
  { symbol: "TSLA", currency: "USD", priceDigits: 2, lot: "10", lotsMax: 20, sigma: 0.005, mid: 238.4 },
  { symbol: "EURUSD", currency: "USD", priceDigits: 5, lot: "10000", lotsMax: 25, sigma: 0.0005, mid: 1.0842 },
  { symbol: "BTC-USD", currency: "USD", priceDigits: 1, lot: "0.005", lotsMax: 20, sigma: 0.004, mid: 37250.5 },
];
const accounts = ["ACC-ALPHA", "ACC-BRAVO", "ACC-CHARLIE", "ACC-DELTA"] as const;
const venues = ["XNAS", "XNYS", "ARCX", "BATS"] as const;

const Dec = BigModule();
// README "Ledger rules": a division (average price, a partial close's released cost) keeps 12
// fraction digits, rounded half-to-even; everything else is exact.
Dec.DP = 12;
Dec.RM = BigModule.roundHalfEven;
Dec.strict = true; // strings only: no float ever becomes money here
type Dec = InstanceType<typeof Dec>;
const zero = new Dec("0");
const plain = (d: Dec): string => {
  const s = d.toFixed();
  return s === "-0" ? "0" : s;
};

/** The next fill price of an instrument: a random walk, as a decimal string at its tick. */
function nextPrice(i: Instrument): string {
  i.mid = Math.max(i.mid * (1 + i.sigma * gaussian()), 10 ** -i.priceDigits);
  return plain(new Dec(i.mid.toFixed(i.priceDigits)));
}

function nextQuantity(i: Instrument): string {
  const lots = 1 + Math.floor(random() * i.lotsMax);
  return plain(new Dec(i.lot).times(String(lots)));
}

// ---- the run's fills ----

/** Makes this run's ids unique (set by `runDemo`). */
let run_tag = "";
let fillNumber = 0;
let tradeClock_ms = Date.now() - 60 * 60_000; // an hour of trading, ending about now

/** Fills the demo has had acknowledged and that a bust or correction may still refer to. */
const referable: EntryInput[] = [];

function trade(): EntryInput {
  fillNumber += 1;
  const instrument = pick(instruments);
  const venue = pick(venues);
  tradeClock_ms += 1 + Math.floor(random() * 2_000);
  const entry: EntryInput = {
    id: `${venue}:${run_tag}-${String(fillNumber).padStart(6, "0")}`,
    account: pick(accounts),
    symbol: instrument.symbol,
    side: random() < 0.5 ? "buy" : "sell",
    quantity: nextQuantity(instrument),
    price: nextPrice(instrument),
    currency: instrument.currency,
    venue,
    orderId: `ord-${run_tag}-${Math.floor(fillNumber / 3)}`,
    tradeTime: new Date(tradeClock_ms).toISOString(),
  };
  return random() < fee_probability ? { ...entry, fee: (0.35 + Math.floor(random() * 166) / 100).toFixed(2) } : entry;
}

/** A bust or a correction of a fill acknowledged earlier, or undefined when there is none to refer to. */
function amendment(kind: "bust" | "correction"): EntryInput | undefined {
  if (referable.length === 0) return undefined;
  const index = Math.floor(random() * referable.length);
  const target = referable[index]!;
  referable.splice(index, 1); // superseded now: nothing may refer to it again
  const base: EntryInput = {
    id: `${target.id}:${kind}`,
    account: target.account,
    symbol: target.symbol,
    side: target.side,
    quantity: target.quantity,
    price: target.price,
    currency: "USD",
    execType: kind,
    refId: target.id,
  };
  if (kind === "bust") return base;
  // The venue corrects the price by a tick or two, or the quantity by a lot.
  const instrument = instruments.find((i) => i.symbol === target.symbol)!;
  const tick = new Dec("1").div(new Dec("10").pow(instrument.priceDigits));
  if (random() < 0.5) {
    return { ...base, price: plain(new Dec(target.price).plus(tick.times(random() < 0.5 ? "1" : "-1"))) };
  }
  return { ...base, quantity: plain(new Dec(target.quantity).plus(instrument.lot)) };
}

function nextRequest(): EntryInput[] {
  const size = random() < 0.7 ? 1 : 2 + Math.floor(random() * (batch_entries_max - 1));
  const entries: EntryInput[] = [];
  for (let i = 0; i < size; i++) {
    const roll = random();
    const amended =
      roll < bust_probability
        ? amendment("bust")
        : roll < bust_probability + correction_probability
          ? amendment("correction")
          : undefined;
    entries.push(amended ?? trade());
  }
  return entries;
}

// ---- positions, computed here (README "Ledger rules": average cost, exact decimals) ----

interface Fill {
  readonly seq: number;
  readonly entry: EntryInput;
}

interface Totals {
  quantity: Dec;
  costBasis: Dec;
  realizedPnl: Dec;
  fees: Dec;
  lastSeq: number;
}

/**
 * The positions of every (account, symbol) after these fills: the entries that still count (not
 * busts, not busted or corrected by a later entry) folded in seq order by the average-cost method.
 * - A fill on the side of the position (or on a flat one) adds quantity and quantity x price of cost.
 * - A fill against it closes min(|position|, |fill|): it releases all of the cost basis if the
 *   position goes flat, else cost x closed / |position| (12 digits, half-to-even), and realizes
 *   (-closed) x price - released (closed signed like the fill); the rest opens the other side at its price.
 * - Fees are subtracted from realized P&L and summed. `lastSeq` is the key's last entry, busts included.
 */
function expectedPositions(fills: readonly Fill[]): Map<string, Map<string, Position>> {
  const superseded = new Set(fills.flatMap((f) => (f.entry.refId === undefined ? [] : [f.entry.refId])));
  const totals = new Map<string, { account: string; symbol: string; t: Totals }>();
  for (const { seq, entry } of [...fills].sort((a, b) => a.seq - b.seq)) {
    const key = JSON.stringify([entry.account, entry.symbol]);
    let slot = totals.get(key);
    if (slot === undefined) {
      slot = {
        account: entry.account,
        symbol: entry.symbol,
        t: { quantity: zero, costBasis: zero, realizedPnl: zero, fees: zero, lastSeq: 0 },
      };
      totals.set(key, slot);
    }
    const t = slot.t;
    t.lastSeq = seq;
    if (entry.execType === "bust" || superseded.has(entry.id)) continue;
    const signed = entry.side === "buy" ? new Dec(entry.quantity) : new Dec(entry.quantity).neg();
    const price = new Dec(entry.price);
    const fee = new Dec(entry.fee ?? "0");
    const adds = t.quantity.eq(zero) || t.quantity.gt(zero) === signed.gt(zero);
    if (adds) {
      t.costBasis = t.costBasis.plus(signed.times(price));
    } else {
      const held = t.quantity.abs();
      const closing = held.lt(signed.abs()) ? held : signed.abs();
      const released = closing.eq(held) ? t.costBasis : t.costBasis.times(closing).div(held);
      const closedSigned = signed.gt(zero) ? closing : closing.neg();
      t.realizedPnl = t.realizedPnl.minus(closedSigned.times(price)).minus(released);
      t.costBasis = t.costBasis.minus(released).plus(signed.minus(closedSigned).times(price));
    }
    t.quantity = t.quantity.plus(signed);
    t.realizedPnl = t.realizedPnl.minus(fee);
    t.fees = t.fees.plus(fee);
  }
  const byAccount = new Map<string, Map<string, Position>>();
  for (const { account, symbol, t } of totals.values()) {
    const positions = byAccount.get(account) ?? new Map<string, Position>();
    byAccount.set(account, positions);
    positions.set(symbol, {
      account,
      symbol,
      quantity: plain(t.quantity),
      costBasis: plain(t.costBasis),
      averagePrice: t.quantity.eq(zero) ? "0" : plain(t.costBasis.div(t.quantity)),
      realizedPnl: plain(t.realizedPnl),
      fees: plain(t.fees),
      lastSeq: t.lastSeq,
    });
  }
  return byAccount;
}

// ---- the terminal ----

const stderr = process.stderr;
const bar_width = 32;
/** Plain progress lines (not a TTY) come at most this often: every 10 %. */
const progress_steps = 10;
let lastStepShown = -1;

function progress(done: number, total: number, extra: string): void {
  const fraction = Math.min(1, done / total);
  if (stderr.isTTY) {
    const filled = Math.round(fraction * bar_width);
    stderr.write(`\r  [${"#".repeat(filled)}${".".repeat(bar_width - filled)}] ${done}/${total} fills  ${extra}\x1b[K`);
    if (done >= total) stderr.write("\n");
    return;
  }
  const step = Math.floor(fraction * progress_steps);
  if (step > lastStepShown) {
    lastStepShown = step;
    stderr.write(`  ${String(Math.round(fraction * 100)).padStart(3)}%  ${done}/${total} fills  ${extra}\n`);
  }
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));

function positionLine(p: Position | undefined): string {
  if (p === undefined) return "(none)";
  return `qty ${pad(p.quantity, 12)} avg ${pad(p.averagePrice, 22)} realized P&L ${pad(p.realizedPnl, 24)} fees ${pad(p.fees, 8)} last seq ${p.lastSeq}`;
}

const position_fields = ["quantity", "costBasis", "averagePrice", "realizedPnl", "fees", "lastSeq"] as const;

function differences(expected: Position | undefined, reported: Position | undefined): string[] {
  if (expected === undefined || reported === undefined)
    return [expected === undefined ? "not expected" : "not reported"];
  return position_fields
    .filter((f) => String(expected[f]) !== String(reported[f]))
    .map((f) => `${f} ${expected[f]} != ${reported[f]}`);
}

// ---- the ledger server ----

/** What answers at the ledger's address. */
export type ProbeResult =
  | { readonly kind: "ledger" }
  /** Connection refused: nothing listens there (the demo may start wrangler dev on a loopback port). */
  | { readonly kind: "nothing" }
  /** An HTTP server that is not Quorum Ledger; `what` describes its answer. */
  | { readonly kind: "other"; readonly what: string }
  /** Something accepts connections but sends no HTTP answer within `probe_timeout_ms`, or not HTTP. */
  | { readonly kind: "silent"; readonly what: string }
  /** The address cannot be reached at all (an unknown host, a network error). */
  | { readonly kind: "unreachable"; readonly what: string };

/** Node's fetch says only "fetch failed": the reason (ECONNREFUSED, "bad port", ...) is its cause. */
function failureOf(error: unknown): { code: string | undefined; reason: string } {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  const reason =
    typeof code === "string" ? code : typeof cause?.message === "string" ? cause.message : (error as Error).message;
  return { code: typeof code === "string" ? code : undefined, reason };
}

/** Asks `GET /` at `base` (as JSON) and tells what answers there. */
export async function probeLedger(base: string, timeout_ms = probe_timeout_ms): Promise<ProbeResult> {
  let response: Response;
  try {
    response = await fetch(`${base}/`, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeout_ms),
    });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") {
      return { kind: "silent", what: `it accepts connections but sends no HTTP answer within ${timeout_ms} ms` };
    }
    const { code, reason } = failureOf(error);
    if (code === "ECONNREFUSED") return { kind: "nothing" };
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
      return { kind: "unreachable", what: `${new URL(base).host} cannot be reached (${code})` };
    }
    if (code === undefined) return { kind: "unreachable", what: `fetch refuses it (${reason})` };
    return { kind: "silent", what: `it does not answer HTTP (${reason})` };
  }
  const type = response.headers.get("content-type") ?? "no content type";
  const server = response.headers.get("server");
  const body: unknown = await response.json().catch(() => undefined);
  if (
    typeof body === "object" &&
    body !== null &&
    "service" in body &&
    body.service === "quorum-ledger" &&
    response.status === 200
  ) {
    return { kind: "ledger" };
  }
  return {
    kind: "other",
    what: `HTTP ${response.status}, ${type.split(";")[0]}${server === null ? "" : `, server: ${server}`}`,
  };
}

/** An expected reason to stop: printed as a plain message, without a stack trace. */
export class DemoStop extends Error {
  override name = "DemoStop";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What the user is told about a port where no Quorum Ledger answers, with what to do instead. */
export async function portTakenMessage(
  port: number,
  found: ProbeResult & { kind: "other" | "silent" },
): Promise<string> {
  const lines = [
    `Something answers on 127.0.0.1:${port}, but it is not Quorum Ledger (${found.what}).`,
    `The demo does not start wrangler dev there: wrangler would silently move to another port.`,
  ];
  // `npm start` moves to the next port when its own is taken: point at it when the ledger is there.
  const next = port + 1;
  if (next <= 65_535 && (await probeLedger(`http://127.0.0.1:${next}`)).kind === "ledger") {
    lines.push(
      `Quorum Ledger answers on 127.0.0.1:${next} (npm start moves there when ${port} is taken): npm run demo -- --port ${next}`,
    );
  } else {
    lines.push(`Stop what holds port ${port}, or run the demo on a free port: npm run demo -- --port <P>`);
  }
  return lines.join("\n");
}

/** The demo's last lines: where to look next, true to what is still running. */
export function closingLines(state: {
  readonly base: string;
  readonly startedByDemo: boolean;
  readonly keptRunning: boolean;
}): string[] {
  if (state.startedByDemo && !state.keptRunning) {
    return [
      "Stopped the wrangler dev the demo started (--exit).",
      "The ledger's data stays in .wrangler/state: `npm start` serves it again, with the dashboard at / and the API docs at /docs.",
    ];
  }
  const open = `Open the dashboard at ${state.base}/ (key dev-key-quorum-ledger) and the API docs at ${state.base}/docs`;
  return state.startedByDemo ? [open, "wrangler dev keeps running for that: press Ctrl-C to stop it."] : [open];
}

/** Aborted on the first Ctrl-C (or SIGTERM): the run stops at its next step and stops what it started. */
const interrupted = new AbortController();

export async function runDemo(options: DemoOptions): Promise<number> {
  random = prng(options.seed);
  run_tag = `${Date.now().toString(36)}-${options.seed.toString(36)}`;
  const base = options.target.kind === "url" ? options.target.url : `http://127.0.0.1:${options.target.port}`;
  let started: WranglerDev | undefined;
  const found = await probeLedger(base);
  if (found.kind === "ledger") {
    console.log(`Using the Quorum Ledger already running at ${base}`);
  } else if (options.target.kind === "url") {
    const what =
      found.kind === "nothing"
        ? "nothing listens there (connection refused)"
        : found.kind === "other"
          ? `it is not Quorum Ledger (${found.what})`
          : found.what;
    throw new DemoStop(
      `No Quorum Ledger at ${base}: ${what}.\nStart it (npm start), or leave out --url and the demo starts one itself.`,
    );
  } else if (found.kind === "nothing") {
    const port = options.target.port;
    console.log(
      `Nothing listens on 127.0.0.1:${port}: starting wrangler dev there (local persistence in .wrangler/state; about 20 s) ...`,
    );
    // .wrangler/state is where `npm start` (plain `wrangler dev`) persists by default: the demo's
    // data is there for a later `npm start`, and vice versa.
    try {
      started = await WranglerDev.start({
        port,
        persistTo: `${project_root}.wrangler/state`,
        label: "demo",
        logLevel: "warn",
      });
    } catch (error) {
      throw new DemoStop(`wrangler dev did not start on 127.0.0.1:${port}.\n${(error as Error).message}`);
    }
    console.log(`wrangler dev is up at ${started.url}`);
  } else if (found.kind === "unreachable") {
    throw new DemoStop(
      `The demo cannot use 127.0.0.1:${options.target.port}: ${found.what}. Choose another port with --port.`,
    );
  } else {
    throw new DemoStop(await portTakenMessage(options.target.port, found));
  }
  try {
    const code = await demo(options, base);
    const keepRunning = started !== undefined && !options.exit && !interrupted.signal.aborted;
    if (!keepRunning) {
      await started?.stop();
      console.log("");
      for (const line of closingLines({ base, startedByDemo: started !== undefined, keptRunning: false }))
        console.log(line);
      started = undefined;
      return code;
    }
    console.log("");
    for (const line of closingLines({ base, startedByDemo: true, keptRunning: true })) console.log(line);
    await new Promise<void>((resolve) => interrupted.signal.addEventListener("abort", () => resolve(), { once: true }));
    console.log("\nStopping wrangler dev ...");
    await started?.stop();
    started = undefined;
    console.log("Stopped.");
    return code;
  } finally {
    await started?.stop();
  }
}

async function demo(options: DemoOptions, base: string): Promise<number> {
  const { ledger, seed, fills: fills_wanted } = options;
  const client = new QuorumLedgerClient({ baseUrl: base, apiKey: dev_api_key, ledger });
  const startHead = await client.head();
  console.log(
    `\nLedger "${ledger}": ${startHead.seq} entries before this run. Posting ${fills_wanted} fills (seed ${seed}) ...`,
  );

  const own: Fill[] = [];
  const problems: string[] = [];
  let requests = 0;
  let resends = 0;
  let resendsExisting = 0;
  let busts = 0;
  let corrections = 0;
  const started_ms = Date.now();
  // Bounded: every request posts at least one fill, and at most fills_wanted are posted.
  while (own.length < fills_wanted) {
    if (interrupted.signal.aborted)
      throw new DemoStop(`Interrupted after ${own.length} of ${fills_wanted} fills.`, 130);
    const entries = nextRequest().slice(0, fills_wanted - own.length);
    const result = await client.append(entries.length === 1 ? entries[0]! : entries);
    requests += 1;
    result.results.forEach((receipt, i) => {
      const entry = entries[i]!;
      if (receipt.status !== "created") problems.push(`${entry.id}: a new fill answered ${receipt.status}`);
      own.push({ seq: receipt.seq, entry });
      if (entry.execType === "bust") busts += 1;
      else referable.push(entry);
      if (entry.execType === "correction") corrections += 1;
    });
    if (random() < resend_probability) {
      // The same request again, as a client does when the acknowledgement is lost: same ids, same body.
      const again = await client.append(entries.length === 1 ? entries[0]! : entries);
      requests += 1;
      resends += 1;
      const same = again.results.every(
        (r: Receipt, i) =>
          r.status === "exists" && r.seq === result.results[i]!.seq && r.hash === result.results[i]!.hash,
      );
      if (same && !again.created) resendsExisting += 1;
      else
        problems.push(
          `re-sent request (${entries.map((e) => e.id).join(", ")}) did not answer the original receipts as exists`,
        );
    }
    const elapsed_s = (Date.now() - started_ms) / 1000;
    progress(
      own.length,
      fills_wanted,
      `${requests} requests, ${Math.round(own.length / Math.max(elapsed_s, 0.001))} fills/s`,
    );
  }
  const elapsed_s = (Date.now() - started_ms) / 1000;
  console.log(
    `Posted ${own.length} fills (${busts} busts, ${corrections} corrections) in ${requests} requests in ${elapsed_s.toFixed(1)} s; ` +
      `${resends} deliberate re-sends, ${resendsExisting} answered "exists" with the original receipts.`,
  );

  // Read the whole ledger back: every page is hash-chain verified by the client as it arrives.
  const prior: Fill[] = [];
  const ours = new Map(own.map((f) => [f.seq, f.entry]));
  let readBack = 0;
  let lastHash = "";
  for await (const e of client.entries()) {
    readBack += 1;
    lastHash = e.hash;
    if (e.seq <= startHead.seq) {
      prior.push({ seq: e.seq, entry: clientFields(e) });
      continue;
    }
    const sent = ours.get(e.seq);
    if (sent === undefined) {
      problems.push(`seq ${e.seq} (${e.id}) was appended by someone else during the run`);
      prior.push({ seq: e.seq, entry: clientFields(e) }); // it counts in the ledger's positions all the same
    } else if (JSON.stringify(sortedFields(clientFields(e))) !== JSON.stringify(sortedFields(sent))) {
      problems.push(
        `seq ${e.seq}: the ledger holds ${JSON.stringify(clientFields(e))}, the demo sent ${JSON.stringify(sent)}`,
      );
    }
  }
  const head = await client.head();
  console.log(
    `Read back ${readBack} entries; hash chain verified client-side through seq ${head.seq} (head ${lastHash.slice(0, 16)}...).`,
  );
  const serverCheck = await client.verify();
  console.log(
    `Server-side verify on ${serverCheck.region}: ${serverCheck.verified ? "verified" : `BROKEN at ${serverCheck.brokenAt}`} through seq ${serverCheck.checkedThrough}.`,
  );
  if (!serverCheck.verified) problems.push(`the server's verify found the chain broken at ${serverCheck.brokenAt}`);

  // Positions: expected (computed here) next to reported (GET /positions), per account.
  const expected = expectedPositions([...prior, ...own]);
  let compared = 0;
  let mismatched = 0;
  console.log(
    `\nPositions (expected = computed by the demo from the fills; ledger = GET /v1/ledgers/${ledger}/positions)`,
  );
  for (const account of [...new Set([...accounts, ...expected.keys()])].sort()) {
    const reported = await client.positions(account, { minSeq: head.seq });
    const reportedBySymbol = new Map(reported.positions.map((p) => [p.symbol, p]));
    const mine = expected.get(account) ?? new Map<string, Position>();
    const symbols = [...new Set([...mine.keys(), ...reportedBySymbol.keys()])].sort().slice(0, report_positions_max);
    if (symbols.length === 0) continue;
    console.log(`\n${account}  (ledger as of seq ${reported.asOf.seq})`);
    for (const symbol of symbols) {
      const e = mine.get(symbol);
      const r = reportedBySymbol.get(symbol);
      const diff = differences(e, r);
      compared += 1;
      if (diff.length > 0) mismatched += 1;
      console.log(`  ${pad(symbol, 8)} expected ${positionLine(e)}`);
      console.log(
        `  ${pad("", 8)} ledger   ${positionLine(r)}   ${diff.length === 0 ? "match" : `DIFFERENT: ${diff.join("; ")}`}`,
      );
    }
  }
  if (mismatched > 0) problems.push(`${mismatched} of ${compared} positions differ from the ledger's`);

  console.log("");
  if (problems.length === 0) {
    console.log(
      `All ${compared} positions match the ledger's; every re-send answered "exists"; the hash chain verifies.`,
    );
  } else {
    console.log(`${problems.length} problem(s):`);
    for (const p of problems.slice(0, 50)) console.log(`  - ${p}`);
  }
  return problems.length === 0 ? 0 : 1;
}

/** An entry's client fields (what was sent): the server fields removed. */
function clientFields(e: Entry): EntryInput {
  const { seq: _seq, slot: _slot, committedAt: _committedAt, prevHash: _prevHash, hash: _hash, ...rest } = e;
  return rest;
}

function sortedFields(e: EntryInput): Array<[string, unknown]> {
  return Object.entries(e).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What the user is told when the ledger refuses or fails: the error, and the likely reason. */
export function ledgerFailureMessage(error: QuorumLedgerError, base: string): string {
  const what = `The ledger refused or failed: ${error.name} ${error.status ?? ""} ${error.code}: ${error.message}`;
  if (error.status === 401 || error.status === 403) {
    return `${what}\nThe demo uses the development key ${dev_api_key} (.dev.vars.example); a ledger configured with other keys refuses it.`;
  }
  if (error.status === undefined) return `${what}\nThe ledger at ${base} stopped answering.`;
  return what;
}

async function cli(): Promise<number> {
  const parsed = parseDemoArgs(process.argv.slice(2), Math.floor(Math.random() * 2 ** 32));
  if (parsed.kind === "help") {
    console.log(parsed.text);
    return 0;
  }
  if (parsed.kind === "invalid") {
    console.error(`${parsed.message}\n\n${demo_usage}`);
    return 2;
  }
  const { options } = parsed;
  const onSignal = () => {
    if (!interrupted.signal.aborted) {
      interrupted.abort();
      return;
    }
    // A second Ctrl-C while a request is still pending: leave now; the exit handler of
    // wrangler-dev.ts kills the wrangler dev this process started.
    console.error("\nInterrupted again: exiting now.");
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const base = options.target.kind === "url" ? options.target.url : `http://127.0.0.1:${options.target.port}`;
  try {
    return await runDemo(options);
  } catch (error) {
    if (error instanceof DemoStop) {
      console.error(`\n${error.message}`);
      return error.exitCode;
    }
    if (error instanceof QuorumLedgerError) {
      console.error(`\n${ledgerFailureMessage(error, base)}`);
      return 1;
    }
    throw error; // a bug of the demo: its stack trace is what helps
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

// Run only as a script (`npm run demo`), not when a test imports the functions above.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    },
  );
}
