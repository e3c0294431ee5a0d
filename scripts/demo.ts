/**
 * `npm run demo`: Quorum Ledger from nothing, through the client SDK (src/client).
 *
 * 1. Uses the ledger at http://127.0.0.1:8787 if one answers; otherwise starts `wrangler dev` there
 *    itself (persisting to .wrangler/state, as `npm start` does) and keeps it running afterwards until
 *    Ctrl-C, so that the dashboard can be opened.
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
 *   npm run demo -- [--fills N] [--ledger NAME] [--seed S] [--exit]
 *
 * Every request goes to 127.0.0.1 only; every loop has a bound.
 */
import BigModule from "big.js";
import { parseArgs } from "node:util";
import {
  QuorumLedgerClient,
  QuorumLedgerError,
  type Entry,
  type EntryInput,
  type Position,
  type Receipt,
} from "../src/client/index.js";
import { WranglerDev, project_root } from "./wrangler-dev.js";

const port = 8787;
const base_url = `http://127.0.0.1:${port}`;
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
const probe_timeout_ms = 2_000;
const ledger_name = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Positions one account may hold that the report prints (more would be a bug of the demo). */
const report_positions_max = 1_000;

// ---- arguments ----

const args = parseArgs({
  options: {
    fills: { type: "string", default: String(fills_default) },
    ledger: { type: "string", default: "demo" },
    seed: { type: "string" },
    exit: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (args.values.help) {
  console.log("npm run demo -- [--fills N (default 300)] [--ledger NAME (default demo)] [--seed S] [--exit (do not keep wrangler dev running)]");
  process.exit(0);
}
const fills_wanted = Number(args.values.fills);
if (!Number.isInteger(fills_wanted) || fills_wanted < 1 || fills_wanted > fills_max) {
  console.error(`--fills must be a whole number from 1 to ${fills_max}`);
  process.exit(2);
}
const ledger = args.values.ledger;
if (!ledger_name.test(ledger)) {
  console.error(`--ledger must match ${ledger_name.source}`);
  process.exit(2);
}
const seed = args.values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(args.values.seed);
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
  console.error("--seed must be a whole number from 0 to 2^32 - 1");
  process.exit(2);
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
const random = prng(seed);
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

const run_tag = `${Date.now().toString(36)}-${seed.toString(36)}`;
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
      roll < bust_probability ? amendment("bust") : roll < bust_probability + correction_probability ? amendment("correction") : undefined;
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
      slot = { account: entry.account, symbol: entry.symbol, t: { quantity: zero, costBasis: zero, realizedPnl: zero, fees: zero, lastSeq: 0 } };
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
  if (expected === undefined || reported === undefined) return [expected === undefined ? "not expected" : "not reported"];
  return position_fields.filter((f) => String(expected[f]) !== String(reported[f])).map((f) => `${f} ${expected[f]} != ${reported[f]}`);
}

// ---- the ledger server ----

/** True when Quorum Ledger answers on 127.0.0.1:8787; throws when something else holds the port. */
async function ledgerIsRunning(): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`${base_url}/`, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(probe_timeout_ms) });
  } catch {
    return false; // nothing listens (or it does not answer): start one
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body === "object" && body !== null && "service" in body && body.service === "quorum-ledger") return true;
  throw new Error(`something other than Quorum Ledger answers on ${base_url} (status ${response.status}); stop it or free port ${port}`);
}

async function main(): Promise<number> {
  let started: WranglerDev | undefined;
  if (await ledgerIsRunning()) {
    console.log(`Using the ledger already running at ${base_url}`);
  } else {
    console.log(`Starting wrangler dev on ${base_url} (local persistence in .wrangler/state; about 20 s) ...`);
    // .wrangler/state is where `npm start` (plain `wrangler dev`) persists by default: the demo's
    // data is there for a later `npm start`, and vice versa.
    started = await WranglerDev.start({ port, persistTo: `${project_root}.wrangler/state`, label: "demo", logLevel: "warn" });
    console.log(`wrangler dev is up at ${started.url}`);
  }
  const stopStarted = async () => {
    if (started !== undefined) {
      const s = started;
      started = undefined;
      await s.stop();
    }
  };
  try {
    const code = await demo();
    if (started === undefined || args.values.exit) return code;
    console.log(`\nwrangler dev keeps running at ${base_url}: press Ctrl-C to stop it.`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    console.log("\nStopping wrangler dev ...");
    return code;
  } finally {
    await stopStarted();
  }
}

async function demo(): Promise<number> {
  const client = new QuorumLedgerClient({ baseUrl: base_url, apiKey: dev_api_key, ledger });
  const startHead = await client.head();
  console.log(`\nLedger "${ledger}": ${startHead.seq} entries before this run. Posting ${fills_wanted} fills (seed ${seed}) ...`);

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
        (r: Receipt, i) => r.status === "exists" && r.seq === result.results[i]!.seq && r.hash === result.results[i]!.hash,
      );
      if (same && !again.created) resendsExisting += 1;
      else problems.push(`re-sent request (${entries.map((e) => e.id).join(", ")}) did not answer the original receipts as exists`);
    }
    const elapsed_s = (Date.now() - started_ms) / 1000;
    progress(own.length, fills_wanted, `${requests} requests, ${Math.round(own.length / Math.max(elapsed_s, 0.001))} fills/s`);
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
      problems.push(`seq ${e.seq}: the ledger holds ${JSON.stringify(clientFields(e))}, the demo sent ${JSON.stringify(sent)}`);
    }
  }
  const head = await client.head();
  console.log(`Read back ${readBack} entries; hash chain verified client-side through seq ${head.seq} (head ${lastHash.slice(0, 16)}...).`);
  const serverCheck = await client.verify();
  console.log(`Server-side verify on ${serverCheck.region}: ${serverCheck.verified ? "verified" : `BROKEN at ${serverCheck.brokenAt}`} through seq ${serverCheck.checkedThrough}.`);
  if (!serverCheck.verified) problems.push(`the server's verify found the chain broken at ${serverCheck.brokenAt}`);

  // Positions: expected (computed here) next to reported (GET /positions), per account.
  const expected = expectedPositions([...prior, ...own]);
  let compared = 0;
  let mismatched = 0;
  console.log(`\nPositions (expected = computed by the demo from the fills; ledger = GET /v1/ledgers/${ledger}/positions)`);
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
      console.log(`  ${pad("", 8)} ledger   ${positionLine(r)}   ${diff.length === 0 ? "match" : `DIFFERENT: ${diff.join("; ")}`}`);
    }
  }
  if (mismatched > 0) problems.push(`${mismatched} of ${compared} positions differ from the ledger's`);

  console.log("");
  if (problems.length === 0) {
    console.log(`All ${compared} positions match the ledger's; every re-send answered "exists"; the hash chain verifies.`);
  } else {
    console.log(`${problems.length} problem(s):`);
    for (const p of problems.slice(0, 50)) console.log(`  - ${p}`);
  }
  console.log(`\nOpen the dashboard at ${base_url}/ and the API docs at ${base_url}/docs`);
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

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    if (error instanceof QuorumLedgerError) {
      console.error(`\nThe ledger refused or failed: ${error.name} ${error.status ?? ""} ${error.code}: ${error.message}`);
    } else {
      console.error(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    process.exitCode = 1;
  },
);
