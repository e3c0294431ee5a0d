import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { majority, QuorumConfigError, quorumConfig, unsafeQuorumConfigForTests } from "../../src/core/quorum.js";

function refusal(f: () => unknown): QuorumConfigError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(QuorumConfigError);
    return error as QuorumConfigError;
  }
  throw new Error("expected a QuorumConfigError, but the configuration was accepted");
}

describe("quorumConfig defaults", () => {
  it.each([
    [3, 2],
    [5, 3],
    [7, 4],
  ])("uses majorities for %i acceptors", (n, q) => {
    expect(majority(n)).toBe(q);
    expect(quorumConfig(n)).toEqual({ acceptors: n, prepare: q, accept: q });
  });

  it("uses a majority for both phases of an even count too (not the partner of the prepare majority)", () => {
    expect(quorumConfig(4)).toEqual({ acceptors: 4, prepare: 3, accept: 3 });
    expect(quorumConfig(6)).toEqual({ acceptors: 6, prepare: 4, accept: 4 });
  });

  it("derives the smallest intersecting partner when only one size is given", () => {
    expect(quorumConfig(5, 4)).toEqual({ acceptors: 5, prepare: 4, accept: 2 });
    expect(quorumConfig(5, undefined, 2)).toEqual({ acceptors: 5, prepare: 4, accept: 2 });
    expect(quorumConfig(7, 7)).toEqual({ acceptors: 7, prepare: 7, accept: 1 });
  });
});

describe("flexible quorums", () => {
  it("accepts n=5 with prepare 4 and accept 2", () => {
    expect(quorumConfig(5, 4, 2)).toEqual({ acceptors: 5, prepare: 4, accept: 2 });
  });

  it("refuses every non-intersecting configuration with a message about intersection", () => {
    for (const n of [3, 5, 7]) {
      for (let q1 = 1; q1 <= n; q1++) {
        for (let q2 = 1; q1 + q2 <= n; q2++) {
          const error = refusal(() => quorumConfig(n, q1, q2));
          expect(error.message).toMatch(/intersect/);
        }
      }
    }
  });

  it("says why intersection matters", () => {
    expect(refusal(() => quorumConfig(5, 2, 3)).message).toBe(
      "quorums do not intersect: prepare 2 + accept 3 must exceed 5 acceptors, " +
        "or two proposers could each see a quorum and choose different values for one slot",
    );
  });

  it("unsafeQuorumConfigForTests (the simulator's negative test) skips the check and keeps the sizes", () => {
    expect(unsafeQuorumConfigForTests(5, 2, 2)).toEqual({ acceptors: 5, prepare: 2, accept: 2 });
  });
});

describe("out-of-range sizes", () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %s acceptors", (n) => {
    refusal(() => quorumConfig(n));
  });

  it("names the error and the bad count (2.5 would otherwise pass: it is above 1)", () => {
    const error = refusal(() => quorumConfig(2.5));
    expect(error.name).toBe("QuorumConfigError");
    expect(error.message).toBe("acceptor count must be a positive integer, got 2.5");
    // An integer below 1 is refused by the same first check, not later as a quorum size.
    expect(refusal(() => quorumConfig(0)).message).toBe("acceptor count must be a positive integer, got 0");
  });

  it.each([
    [5, 0, 5],
    [5, 6, 5],
    [5, 5, 0],
    [5, 5, 6],
    [5, 2.5, 4],
    [5, 4, 2.5],
    [5, Number.NaN, 5],
    [3, -1, 3],
  ])("refuses %i acceptors with prepare %s and accept %s", (n, q1, q2) => {
    const error = refusal(() => quorumConfig(n, q1, q2));
    expect(error.message).toMatch(/quorum must be an integer/);
  });
});

describe("property: success iff prepare + accept > acceptors", () => {
  it("holds exhaustively for n in 1..9", () => {
    for (let n = 1; n <= 9; n++) {
      for (let q1 = 1; q1 <= n; q1++) {
        for (let q2 = 1; q2 <= n; q2++) {
          if (q1 + q2 > n) {
            expect(quorumConfig(n, q1, q2)).toEqual({ acceptors: n, prepare: q1, accept: q2 });
          } else {
            expect(refusal(() => quorumConfig(n, q1, q2)).message).toMatch(/intersect/);
          }
        }
      }
    }
  });

  it("holds for random n, q1, q2 (sizes outside 1..n always refused)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: -2, max: 11 }),
        fc.integer({ min: -2, max: 11 }),
        (n, q1, q2) => {
          const inRange = q1 >= 1 && q1 <= n && q2 >= 1 && q2 <= n;
          let ok: boolean;
          try {
            const c = quorumConfig(n, q1, q2);
            expect(c).toEqual({ acceptors: n, prepare: q1, accept: q2 });
            ok = true;
          } catch (error) {
            expect(error).toBeInstanceOf(QuorumConfigError);
            ok = false;
          }
          expect(ok).toBe(inRange && q1 + q2 > n);
        },
      ),
    );
  });

  it("defaults always intersect, and every phase-1 quorum meets every phase-2 quorum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), (n) => {
        const c = quorumConfig(n);
        expect(c.prepare + c.accept).toBeGreaterThan(n);
        // Pigeonhole made concrete: the first `prepare` and the last `accept` acceptors share one.
        const q1 = new Set(Array.from({ length: c.prepare }, (_, i) => i));
        const q2 = Array.from({ length: c.accept }, (_, i) => n - 1 - i);
        expect(q2.some((a) => q1.has(a))).toBe(true);
      }),
    );
  });
});
