/**
 * The read invariants, checked on a run's reads (`readers.ts`) against the writers' acknowledgments
 * and the final ledger:
 * - nothing never chosen: every entry a read returns, and the head it reports, equal the final
 *   ledger's at that seq;
 * - real-time order: a linearizable read that began after a client got an acknowledgment (receipt
 *   seq s) reports head.seq >= s and, where its page or id covers that entry, returns it;
 * - a linearizable read that began after another one ended reports a head at least as far;
 * - a read with `minSeq` reports head.seq >= minSeq;
 * - a read fails only as a 503 (`ReadUnavailableError`), never with another error.
 */
import type { Entry } from "../../src/core/ledger-types.js";
import type { Ack, ReadRecord } from "./readers.js";

/** Violations reported per run at most (a broken read path breaks many reads alike). */
const read_violations_max = 20;

function describe(read: ReadRecord): string {
  const target =
    "id" in read.target ? `id ${read.target.id}` : `entries after ${read.target.afterSeq} (${read.target.limit})`;
  const served =
    read.result === undefined ? "" : ` served by ${read.result.replica} at head ${read.result.state.head.seq}`;
  return (
    `${read.reader} ${read.kind}${read.minSeq === undefined ? "" : ` minSeq ${read.minSeq}`} read of ${target} via ${read.via} ` +
    `[${read.started_ms.toFixed(1)}, ${read.ended_ms?.toFixed(1) ?? "-"}] ms${served}`
  );
}

export function checkReads(reads: readonly ReadRecord[], acks: readonly Ack[], final: readonly Entry[]): string[] {
  const violations: string[] = [];
  const add = (v: string) => {
    if (violations.length < read_violations_max) violations.push(v);
  };
  const done = reads.filter((r) => r.ended_ms !== undefined);
  for (const read of done) {
    if (read.error !== undefined && read.error.name !== "ReadUnavailableError") {
      add(`${describe(read)}: failed with ${read.error.name} (${read.error.message}), not a 503`);
    }
    const result = read.result;
    if (result === undefined) continue;
    const head = result.state.head;
    if (head.seq > 0 && final[head.seq - 1]?.hash !== head.hash) {
      add(
        `${describe(read)}: reports head seq ${head.seq} (${head.hash.slice(0, 12)}), which the final ledger does not hold`,
      );
    }
    for (const e of result.entries) {
      const chosen = final[e.seq - 1];
      if (chosen === undefined || chosen.id !== e.id || chosen.hash !== e.hash) {
        add(
          `${describe(read)}: returned seq ${e.seq} (${e.id}), never chosen (the final ledger has ${chosen?.id ?? "nothing"} there)`,
        );
      }
    }
    if (read.minSeq !== undefined && head.seq < read.minSeq)
      add(`${describe(read)}: head seq ${head.seq} is below its minSeq ${read.minSeq}`);
    if (read.kind !== "linearizable") continue;
    const acked = acks.filter((a) => a.at_ms < read.started_ms);
    const latest = acked.reduce((m, a) => Math.max(m, a.seq), 0);
    if (head.seq < latest)
      add(
        `${describe(read)}: head seq ${head.seq}, but seq ${latest} was acknowledged before the read began (stale read)`,
      );
    for (const a of acked) {
      const covered =
        "id" in read.target
          ? read.target.id === a.id
          : a.seq > read.target.afterSeq && a.seq <= read.target.afterSeq + read.target.limit;
      if (!covered) continue;
      const got = result.entries.find((e) => e.seq === a.seq);
      if (got === undefined || got.id !== a.id || got.hash !== a.hash) {
        add(
          `${describe(read)}: acknowledged seq ${a.seq} (${a.id}) at ${a.at_ms.toFixed(1)} ms, before the read began, yet the read did not return it`,
        );
      }
    }
  }
  // Real-time order between linearizable reads: one that began after another ended sees at least as much.
  const linearizable = done.filter((r) => r.kind === "linearizable" && r.result !== undefined);
  for (const later of linearizable) {
    for (const earlier of linearizable) {
      if (earlier.ended_ms! < later.started_ms && later.result!.state.head.seq < earlier.result!.state.head.seq) {
        add(
          `${describe(later)}: head seq ${later.result!.state.head.seq}, below the head seq ${earlier.result!.state.head.seq} of a linearizable read that ended before it began (${describe(earlier)})`,
        );
      }
    }
  }
  return violations;
}
