import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Ballot,
  ballot_zero,
  ballotsEqual,
  compareBallots,
  formatBallot,
  maxBallot,
} from "../../src/core/ballot.js";

/** Small rounds and a small id alphabet make ties and near-ties common; the rest explores widely. */
const proposerIdArb = fc.oneof(
  fc.constantFrom("", "a", "b", "ab", "ba", "B", "a0", "é", "\u{1F600}"),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: "binary", maxLength: 4 }),
);
const roundArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat());
const ballotArb: fc.Arbitrary<Ballot> = fc.record({ round: roundArb, proposerId: proposerIdArb });
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe("compareBallots is a total order", () => {
  it("returns only -1, 0 or 1", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, (a, b) => {
        expect([-1, 0, 1]).toContain(compareBallots(a, b));
      }),
    );
  });

  it("is reflexive, and equal exactly when round and proposerId are both equal", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, (a, b) => {
        expect(compareBallots(a, a)).toBe(0);
        expect(compareBallots(a, { round: a.round, proposerId: a.proposerId })).toBe(0);
        const same = a.round === b.round && a.proposerId === b.proposerId;
        expect(compareBallots(a, b) === 0).toBe(same);
        expect(ballotsEqual(a, b)).toBe(same);
      }),
    );
  });

  it("is antisymmetric", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, (a, b) => {
        // sign(a ? b) = -sign(b ? a), written as a sum so that 0 and -0 compare equal.
        expect(sign(compareBallots(a, b)) + sign(compareBallots(b, a))).toBe(0);
        if (a.round === b.round && a.proposerId === b.proposerId) expect(compareBallots(b, a)).toBe(0);
      }),
    );
  });

  it("is transitive", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, ballotArb, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareBallots) as [Ballot, Ballot, Ballot];
        // After sorting, every pair is in order; transitivity is what makes that hold for (x, z).
        expect(compareBallots(x, y)).toBeLessThanOrEqual(0);
        expect(compareBallots(y, z)).toBeLessThanOrEqual(0);
        expect(compareBallots(x, z)).toBeLessThanOrEqual(0);
        if (compareBallots(a, b) < 0 && compareBallots(b, c) < 0) expect(compareBallots(a, c)).toBe(-1);
        if (compareBallots(a, b) <= 0 && compareBallots(b, c) <= 0) expect(compareBallots(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it("orders by round first: a higher round wins whatever the proposer ids", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 1000 }), proposerIdArb, proposerIdArb, (r, d, p, q) => {
        expect(compareBallots({ round: r, proposerId: p }, { round: r + d, proposerId: q })).toBe(-1);
        expect(compareBallots({ round: r + d, proposerId: p }, { round: r, proposerId: q })).toBe(1);
      }),
    );
  });

  it("breaks a round tie by proposerId (code-unit order)", () => {
    fc.assert(
      fc.property(fc.nat(), proposerIdArb, proposerIdArb, (r, p, q) => {
        const expected = p < q ? -1 : p > q ? 1 : 0;
        expect(compareBallots({ round: r, proposerId: p }, { round: r, proposerId: q })).toBe(expected);
      }),
    );
    expect(compareBallots({ round: 7, proposerId: "a" }, { round: 7, proposerId: "b" })).toBe(-1);
    expect(compareBallots({ round: 7, proposerId: "b" }, { round: 6, proposerId: "z" })).toBe(1);
  });
});

describe("ballot_zero", () => {
  it('is (0, "")', () => {
    expect(ballot_zero).toEqual({ round: 0, proposerId: "" });
    expect(compareBallots(ballot_zero, { round: 0, proposerId: "" })).toBe(0);
  });

  it("is below every ballot with round >= 1 or a non-empty proposerId", () => {
    fc.assert(
      fc.property(ballotArb, (b) => {
        fc.pre(b.round >= 1 || b.proposerId.length > 0);
        expect(compareBallots(ballot_zero, b)).toBe(-1);
        expect(compareBallots(b, ballot_zero)).toBe(1);
        expect(maxBallot(ballot_zero, b)).toBe(b);
      }),
    );
  });
});

describe("maxBallot", () => {
  it("returns one of its arguments, not below either", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, (a, b) => {
        const m = maxBallot(a, b);
        expect(m === a || m === b).toBe(true);
        expect(compareBallots(m, a)).toBeGreaterThanOrEqual(0);
        expect(compareBallots(m, b)).toBeGreaterThanOrEqual(0);
        expect(ballotsEqual(m, maxBallot(b, a))).toBe(true);
      }),
    );
  });

  it("picks the higher one on concrete ballots", () => {
    const low = { round: 2, proposerId: "zz" };
    const high = { round: 3, proposerId: "aa" };
    expect(maxBallot(low, high)).toBe(high);
    expect(maxBallot(high, low)).toBe(high);
    const tieLow = { round: 3, proposerId: "a" };
    expect(maxBallot(tieLow, high)).toBe(high);
  });

  it("is associative", () => {
    fc.assert(
      fc.property(ballotArb, ballotArb, ballotArb, (a, b, c) => {
        expect(ballotsEqual(maxBallot(maxBallot(a, b), c), maxBallot(a, maxBallot(b, c)))).toBe(true);
      }),
    );
  });
});

describe("formatBallot", () => {
  it("prints round.proposerId", () => {
    expect(formatBallot({ round: 12, proposerId: "p-7" })).toBe("12.p-7");
    expect(formatBallot(ballot_zero)).toBe("0.");
  });
});
