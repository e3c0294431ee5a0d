/**
 * A broken core still gets a verdict: an error it throws out of the run (not an invariant violation,
 * which the cluster records itself) becomes a violation of the seed instead of stopping the sweep.
 */
import { afterEach, expect, test, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("../../src/core/hash.js");
  vi.resetModules();
});

test("a core that throws a TypeError mid-run yields a failing verdict, not an exception", async () => {
  /** The call that throws: late enough that the run is under way, with entries committed. */
  const failing_call = 20;
  let calls = 0;
  vi.resetModules();
  vi.doMock("../../src/core/hash.js", async (importOriginal) => {
    const original = await importOriginal<typeof import("../../src/core/hash.js")>();
    const entryHash = (prevHash: string, entryWithoutHash: object): string => {
      calls++;
      if (calls === failing_call) throw new TypeError("planted: cannot read properties of undefined");
      return original.entryHash(prevHash, entryWithoutHash);
    };
    return { ...original, entryHash };
  });
  const { runScenario } = await import("./scenario.js");
  const result = await runScenario(1);
  expect(calls).toBeGreaterThanOrEqual(failing_call);
  expect(result.violations.join("\n")).toMatch(/the run crashed: TypeError: planted/);
});
