import { expect, test } from "vitest";
import { compareBallots } from "../../src/core/ballot.js";

test("smoke", () => {
  expect(compareBallots({ round: 1, proposerId: "a" }, { round: 2, proposerId: "a" })).toBe(-1);
});
