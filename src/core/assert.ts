/**
 * Invariant assertions. They stay on in production: a broken invariant in a ledger that moves money
 * must stop the operation loudly rather than let it write something wrong.
 */
export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}
