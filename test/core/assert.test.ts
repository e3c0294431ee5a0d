import { describe, expect, it } from "vitest";
import { assert, InvariantViolation } from "../../src/core/assert.js";

describe("assert", () => {
  it("throws an InvariantViolation, named so in logs, with the message", () => {
    let caught: unknown;
    try {
      assert(false, "the ledger is broken");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvariantViolation);
    expect(caught).toMatchObject({ name: "InvariantViolation", message: "the ledger is broken" });
    expect(String(caught)).toBe("InvariantViolation: the ledger is broken");
  });

  it("passes on any truthy condition", () => {
    expect(() => assert(1, "x")).not.toThrow();
    expect(() => assert("a", "x")).not.toThrow();
    expect(() => assert(0, "zero")).toThrow("zero");
  });
});
