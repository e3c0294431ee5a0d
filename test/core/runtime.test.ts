/** npm scripts run on the project's own Node (the pinned `node` devDependency), not the machine's. */
import { expect, test } from "vitest";

test("tests run on Node >= 22.12, as wrangler and vitest require", () => {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  expect(major > 22 || (major === 22 && minor >= 12)).toBe(true);
});
