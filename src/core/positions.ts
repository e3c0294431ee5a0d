/**
 * Positions per (account, symbol) by the average-cost method, in exact decimals.
 *
 * - A fill that opens or adds to a position adds `signedQuantity * price` to the cost basis.
 * - A fill that reduces it realizes `-closed * price - released`, where `released` is the share of the
 *   cost basis the closed quantity carried (all of it when the position goes flat, so rounding never
 *   leaves cost behind); what is left of the fill opens a position on the other side at its price.
 * - Fees are subtracted from realized P&L and summed in `fees`.
 * - A bust removes the entry it refers to; a correction removes it and counts itself, at its own seq.
 *   Either way the position is recomputed from the key's entries that still count, so that the
 *   stored position always equals a recomputation from the ledger.
 */
import { assert } from "./assert.js";
import { type Decimal, decimal, decimal_zero, formatDecimal, mulDiv } from "./decimal.js";
import type { Entry, Position } from "./ledger-types.js";

/** A position's running totals, exact; formatted (and its average divided out) only when written. */
export interface PositionState {
  quantity: Decimal;
  costBasis: Decimal;
  realizedPnl: Decimal;
  fees: Decimal;
  lastSeq: number;
}

function emptyState(): PositionState {
  return { quantity: decimal_zero, costBasis: decimal_zero, realizedPnl: decimal_zero, fees: decimal_zero, lastSeq: 0 };
}

export function stateOf(p: Position | undefined): PositionState {
  if (p === undefined) return emptyState();
  return {
    quantity: decimal(p.quantity),
    costBasis: decimal(p.costBasis),
    realizedPnl: decimal(p.realizedPnl),
    fees: decimal(p.fees),
    lastSeq: p.lastSeq,
  };
}

export function toPosition(account: string, symbol: string, s: PositionState): Position {
  return {
    account,
    symbol,
    quantity: formatDecimal(s.quantity),
    costBasis: formatDecimal(s.costBasis),
    averagePrice: s.quantity.eq(decimal_zero) ? "0" : formatDecimal(s.costBasis.div(s.quantity)),
    realizedPnl: formatDecimal(s.realizedPnl),
    fees: formatDecimal(s.fees),
    lastSeq: s.lastSeq,
  };
}

/** True for the entries that move a position: trades and corrections (busts only remove). */
export function countsAsFill(e: Entry): boolean {
  return e.execType !== "bust";
}

function fold(s: PositionState, e: Entry): PositionState {
  const q = s.quantity;
  const price = decimal(e.price);
  const dq = e.side === "buy" ? decimal(e.quantity) : decimal(e.quantity).neg();
  const fee = e.fee === undefined ? decimal_zero : decimal(e.fee);
  let quantity: Decimal;
  let costBasis: Decimal;
  let realized = s.realizedPnl;
  if (q.eq(decimal_zero) || q.gt(decimal_zero) === dq.gt(decimal_zero)) {
    quantity = q.plus(dq);
    costBasis = s.costBasis.plus(dq.times(price));
  } else {
    const closedAbs = q.abs().lt(dq.abs()) ? q.abs() : dq.abs();
    const closed = dq.gt(decimal_zero) ? closedAbs : closedAbs.neg(); // signed like the fill
    const released = closedAbs.eq(q.abs()) ? s.costBasis : mulDiv(s.costBasis, closedAbs, q.abs());
    realized = realized.plus(closed.neg().times(price)).minus(released);
    const opened = dq.minus(closed);
    quantity = q.plus(dq);
    costBasis = s.costBasis.minus(released).plus(opened.times(price));
  }
  assert(!quantity.eq(decimal_zero) || costBasis.eq(decimal_zero), "a flat position carries no cost");
  return { quantity, costBasis, realizedPnl: realized.minus(fee), fees: s.fees.plus(fee), lastSeq: e.seq };
}

/** The position after one more fill. */
export function applyFill(p: Position | undefined, e: Entry): Position {
  return toPosition(e.account, e.symbol, foldFill(stateOf(p), e));
}

/** The running totals after one more fill (what `applyFill` computes, without formatting). */
export function foldFill(s: PositionState, e: Entry): PositionState {
  assert(countsAsFill(e), "a bust is not a fill");
  return fold(s, e);
}

/**
 * The position of (account, symbol) recomputed from its entries in seq order, leaving out busts and
 * every entry that `isSuperseded` says a later correction or bust replaced. `lastSeq` is the seq of
 * the last entry of the key, busts included, so a bust moves it too.
 */
export function recomputePosition(
  account: string,
  symbol: string,
  entries: readonly Entry[],
  isSuperseded: (id: string) => boolean,
): Position {
  let s = emptyState();
  let lastSeq = 0;
  for (const e of entries) {
    assert(e.account === account && e.symbol === symbol, "entry of another position");
    assert(e.seq > lastSeq, "entries in seq order");
    lastSeq = e.seq;
    if (countsAsFill(e) && !isSuperseded(e.id)) s = fold(s, e);
  }
  return toPosition(account, symbol, { ...s, lastSeq });
}
