/**
 * Which acceptors count as unreachable now, and why: one whose call failed, or that did not answer
 * within a whole quorum timeout, for `acceptor_failure_memory_ms`, unless it answers before. An
 * attempt that cannot reach a quorum by this view is not made (503 at once).
 */
import type { CoreLimits } from "../limits.js";

export class Reachability {
  private readonly failedUntil_ms = new Map<string, { until_ms: number; why: string }>();

  constructor(
    private readonly acceptorIds: readonly string[],
    private readonly now_ms: () => number,
    private readonly limits: CoreLimits,
  ) {}

  /** A failed call or a silence: unreachable for `acceptor_failure_memory_ms` unless it answers. */
  markFailed(id: string, why: string): void {
    this.failedUntil_ms.set(id, { until_ms: this.now_ms() + this.limits.acceptor_failure_memory_ms, why });
  }

  markAnswered(id: string): void {
    this.failedUntil_ms.delete(id);
  }

  /** The acceptors currently counted unreachable, with why. */
  unreachableNow(): Array<{ id: string; why: string }> {
    const now_ms = this.now_ms();
    const out: Array<{ id: string; why: string }> = [];
    for (const id of this.acceptorIds) {
      const failed = this.failedUntil_ms.get(id);
      if (failed === undefined || failed.until_ms <= now_ms) continue;
      out.push({ id, why: failed.why });
    }
    return out;
  }

  /** Why `need` acceptors cannot be reached now, or undefined when they may. */
  quorumUnreachable(need: number): string | undefined {
    const down = this.unreachableNow();
    const total = this.acceptorIds.length;
    if (total - down.length >= need) return undefined;
    return (
      `${total - down.length} of ${total} acceptors reachable, ${need} needed ` +
      `(${down.map((d) => `${d.id} ${d.why}`).join("; ")})`
    );
  }

  /** For a message: which acceptors failed just now, if any. */
  note(): string {
    const down = this.unreachableNow();
    return down.length === 0 ? "" : ` (${down.map((d) => `${d.id} ${d.why}`).join("; ")})`;
  }
}
