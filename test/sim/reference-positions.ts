/**
 * Positions recomputed from the ledger's entries without the production code (src/core/positions.ts
 * and decimal.ts), following the README's definition, so a planted bug in the fold shows up as a
 * stored position that differs from this one:
 *
 * - average cost per (account, symbol); quantity signed (buy +, sell -), cost basis signed likewise;
 * - a fill on the same side as the position (or on a flat one) adds quantity and quantity x price;
 * - a fill against the position closes min(|position|, |fill|): it releases all of the cost basis when
 *   the position goes flat, else a pro-rata share rounded to 12 fraction digits half-to-even, and
 *   realizes closed x price - released cost (signed: selling above cost gains); the rest of the fill
 *   opens a new position at its price;
 * - fees are subtracted from realized P&L and summed;
 * - busts never count; an entry a later bust or correction refers to never counts;
 * - averagePrice = costBasis / quantity to 12 fraction digits half-to-even, "0" when flat;
 * - lastSeq is the seq of the key's last entry, busts included;
 * - numbers are written plainly: no exponent, no trailing zeros, "0" rather than "-0".
 */
import BigModule from "big.js";

/** The README's rounding: 12 fraction digits, half-to-even, for the two divisions. */
const division_fraction_digits = 12;

// A constructor of our own: big.js settings are per constructor, so the production one's cannot leak in.
const Num = BigModule();
Num.DP = division_fraction_digits;
Num.RM = BigModule.roundHalfEven;
Num.strict = true;
type Num = InstanceType<typeof Num>;

const zero = new Num("0");

/** What the checker needs of an entry; the ledger's Entry type satisfies it. */
export interface PositionEntry {
  readonly id: string;
  readonly seq: number;
  readonly account: string;
  readonly symbol: string;
  readonly side: "buy" | "sell";
  readonly quantity: string;
  readonly price: string;
  readonly fee?: string;
  readonly execType?: "trade" | "correction" | "bust";
  readonly refId?: string;
}

export interface ReferencePosition {
  readonly account: string;
  readonly symbol: string;
  readonly quantity: string;
  readonly costBasis: string;
  readonly averagePrice: string;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly lastSeq: number;
}

function plain(n: Num): string {
  const text = n.toFixed();
  return text === "-0" ? "0" : text;
}

function sign(n: Num): -1 | 0 | 1 {
  return n.eq(zero) ? 0 : n.gt(zero) ? 1 : -1;
}

/**
 * The position of each (account, symbol) of `entries` (a whole ledger, in seq order), keyed by
 * JSON.stringify([account, symbol]).
 */
export function referencePositions(entries: readonly PositionEntry[]): Map<string, ReferencePosition> {
  const replaced = new Set<string>();
  for (const e of entries) if (e.refId !== undefined) replaced.add(e.refId);

  const running = new Map<
    string,
    { account: string; symbol: string; qty: Num; cost: Num; pnl: Num; fees: Num; lastSeq: number }
  >();
  for (const e of entries) {
    const key = JSON.stringify([e.account, e.symbol]);
    let p = running.get(key);
    if (p === undefined) {
      p = { account: e.account, symbol: e.symbol, qty: zero, cost: zero, pnl: zero, fees: zero, lastSeq: 0 };
      running.set(key, p);
    }
    p.lastSeq = e.seq;
    if (e.execType === "bust" || replaced.has(e.id)) continue;

    const price = new Num(e.price);
    const size = new Num(e.quantity);
    const fillSign = e.side === "buy" ? 1 : -1;
    const held = p.qty.abs();
    if (sign(p.qty) === 0 || sign(p.qty) === fillSign) {
      p.qty = fillSign > 0 ? p.qty.plus(size) : p.qty.minus(size);
      p.cost = fillSign > 0 ? p.cost.plus(size.times(price)) : p.cost.minus(size.times(price));
    } else {
      const closing = size.lt(held) ? size : held;
      const releasedCost = closing.eq(held) ? p.cost : p.cost.times(closing).div(held);
      // Selling `closing` units (fillSign -1) brings in closing x price; buying them back costs it.
      const proceeds = fillSign < 0 ? closing.times(price) : closing.times(price).neg();
      p.pnl = p.pnl.plus(proceeds).minus(releasedCost);
      const rest = size.minus(closing);
      p.cost = p.cost.minus(releasedCost).plus(fillSign > 0 ? rest.times(price) : rest.times(price).neg());
      p.qty = fillSign > 0 ? p.qty.plus(size) : p.qty.minus(size);
    }
    if (e.fee !== undefined) {
      const fee = new Num(e.fee);
      p.pnl = p.pnl.minus(fee);
      p.fees = p.fees.plus(fee);
    }
  }

  const out = new Map<string, ReferencePosition>();
  for (const [key, p] of running) {
    out.set(key, {
      account: p.account,
      symbol: p.symbol,
      quantity: plain(p.qty),
      costBasis: plain(p.cost),
      averagePrice: p.qty.eq(zero) ? "0" : plain(p.cost.div(p.qty)),
      realizedPnl: plain(p.pnl),
      fees: plain(p.fees),
      lastSeq: p.lastSeq,
    });
  }
  return out;
}
