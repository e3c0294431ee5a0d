/**
 * Why the checker recomputes on its own: a bug in code it would otherwise share with the core (here,
 * the decimal formatting behind every stored position) would agree with itself and go unnoticed.
 */
import { afterEach, expect, test, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("../../src/core/decimal.js");
  vi.resetModules();
});

test("positions formatted with 8 fraction digits instead of 12 are caught at the first seed", async () => {
  let calls = 0;
  vi.resetModules();
  vi.doMock("../../src/core/decimal.js", async (importOriginal) => {
    const original = await importOriginal<typeof import("../../src/core/decimal.js")>();
    // The planted bug: an average price of 12 fraction digits is cut to 8 when written.
    const formatDecimal = (d: Parameters<typeof original.formatDecimal>[0]): string => {
      calls++;
      return original.formatDecimal(d.round(8, 0));
    };
    return { ...original, formatDecimal };
  });
  const { runScenario } = await import("./scenario.js");
  const result = await runScenario(1);
  expect(calls, "the mock never reached the core").toBeGreaterThan(0);
  expect(result.violations.join("\n")).toMatch(/position .* recomputed/);
});
