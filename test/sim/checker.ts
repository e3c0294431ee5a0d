/**
 * The invariants of DESIGN.md section 2, checked on the final state of a simulated run:
 * - at most one value is chosen per slot (the observer, fed by every Accepted and every apply);
 * - every replica's ledger is a prefix of every longer one, with the same seq and hashes, and every
 *   replica's hash chain verifies;
 * - every receipt a client got matches the final ledger;
 * - each id is applied at most once;
 * - a request's own entries are `created`, never `exists` (an earlier attempt of the same request,
 *   inside the proposer, committing them does not make them pre-existing);
 * - positions equal a recomputation from the entries;
 * - after faults stop, every request a client keeps retrying completes, and the replicas converge.
 */
import { clientFieldsOf } from "../../src/core/apply.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { entryHash, genesis_hash } from "../../src/core/hash.js";
import type { Entry } from "../../src/core/ledger-types.js";
import type { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { recomputePosition } from "../../src/core/positions.js";
import type { SimClient } from "./clients.js";
import type { Cluster } from "./cluster.js";

export function ledgerOf(store: MemoryAcceptorStore): Entry[] {
  return store.entriesAfter(0, Number.MAX_SAFE_INTEGER);
}

function checkChain(name: string, entries: readonly Entry[], violations: string[]): void {
  let prev = genesis_hash;
  const ids = new Set<string>();
  entries.forEach((e, i) => {
    if (e.seq !== i + 1) violations.push(`${name}: seq ${e.seq} at position ${i + 1} (seq must be dense)`);
    if (e.prevHash !== prev) violations.push(`${name}: seq ${e.seq} prevHash does not link to seq ${e.seq - 1}`);
    const { hash, ...unhashed } = e;
    if (entryHash(prev, unhashed) !== hash) violations.push(`${name}: seq ${e.seq} hash does not verify`);
    if (ids.has(e.id)) violations.push(`${name}: id ${e.id} applied twice`);
    ids.add(e.id);
    prev = hash;
  });
}

function checkPositions(name: string, store: MemoryAcceptorStore, entries: readonly Entry[], violations: string[]): void {
  const keys = new Map<string, { account: string; symbol: string }>();
  for (const e of entries) keys.set(JSON.stringify([e.account, e.symbol]), { account: e.account, symbol: e.symbol });
  for (const { account, symbol } of keys.values()) {
    const expected = recomputePosition(account, symbol, store.entriesOf(account, symbol), (id) => store.supersededBy(id) !== undefined);
    const stored = store.position(account, symbol);
    if (canonicalJson(stored ?? null) !== canonicalJson(expected)) {
      violations.push(`${name}: position ${account}/${symbol} is ${canonicalJson(stored ?? null)}, recomputed ${canonicalJson(expected)}`);
    }
  }
  // Every busted or corrected entry is superseded by an entry that refers to it.
  for (const e of entries) {
    const by = store.supersededBy(e.id);
    if (by !== undefined && entries[by - 1]?.refId !== e.id) violations.push(`${name}: ${e.id} superseded by seq ${by}, which does not refer to it`);
    if (e.refId !== undefined && store.supersededBy(e.refId) !== e.seq) violations.push(`${name}: seq ${e.seq} refers to ${e.refId}, not marked superseded by it`);
  }
}

export function checkRun(cluster: Cluster, clients: readonly SimClient[], opts: { requireConvergence: boolean }): string[] {
  const violations: string[] = [...cluster.observer.violations, ...cluster.acceptorViolations];

  const ledgers = cluster.acceptors.map((a) => ({ name: a.name, store: a.store, entries: ledgerOf(a.store) }));
  for (const l of ledgers) {
    checkChain(l.name, l.entries, violations);
    checkPositions(l.name, l.store, l.entries, violations);
    if (l.store.head().seq !== l.entries.length) violations.push(`${l.name}: head seq ${l.store.head().seq}, ${l.entries.length} entries`);
  }
  const longest = ledgers.reduce((a, b) => (b.entries.length > a.entries.length ? b : a));
  for (const l of ledgers) {
    for (const e of l.entries) {
      const other = longest.entries[e.seq - 1];
      if (other?.hash !== e.hash) {
        violations.push(`${l.name} diverges from ${longest.name} at seq ${e.seq}`);
        break;
      }
    }
  }
  if (opts.requireConvergence) {
    const through = cluster.acceptors.map((a) => a.store.chosenThrough());
    if (new Set(through).size !== 1) violations.push(`replicas did not converge after heal: chosenThrough ${through.join(", ")}`);
  }

  const final = longest.entries;
  const byId = new Map(final.map((e) => [e.id, e]));
  for (const client of clients) {
    if (!client.finished) {
      const stuck = client.requests.find((r) => !r.done);
      violations.push(`liveness: ${client.name} did not finish (request ${client.requests.length} ${stuck ? `still open after ${stuck.attempts} attempts` : ""})`);
    }
    for (const [index, request] of client.requests.entries()) {
      const where = `${client.name} request ${index} (${request.kind})`;
      for (const outcome of request.outcomes) {
        if (request.kind === "conflict") {
          if (outcome.kind !== "rejected" || outcome.rejection.code !== "id_conflict") {
            violations.push(`${where}: a conflicting id was answered ${canonicalJson(outcome)}`);
          }
          continue;
        }
        if (outcome.kind === "rejected") {
          violations.push(`${where}: unexpected rejection ${canonicalJson(outcome.rejection)}`);
          continue;
        }
        if (outcome.receipts.length !== request.entries.length) violations.push(`${where}: ${outcome.receipts.length} receipts for ${request.entries.length} entries`);
        outcome.receipts.forEach((receipt, i) => {
          const sent = request.entries[i]!;
          const entry = final[receipt.seq - 1];
          if (receipt.id !== sent.id) violations.push(`${where}: receipt ${i} is for ${receipt.id}, not ${sent.id}`);
          if (entry === undefined) {
            violations.push(`${where}: receipt for ${receipt.id} names seq ${receipt.seq}, which no replica holds (acknowledged entry lost)`);
            return;
          }
          if (entry.id !== receipt.id || entry.hash !== receipt.hash || entry.slot !== receipt.slot || entry.committedAt !== receipt.committedAt) {
            violations.push(`${where}: receipt ${canonicalJson(receipt)} does not match the ledger's seq ${receipt.seq} (${entry.id}, slot ${entry.slot})`);
          }
          if (canonicalJson(clientFieldsOf(entry)) !== canonicalJson(sent)) violations.push(`${where}: ledger body of ${sent.id} differs from what was sent`);
          const original = request.original?.[i];
          if (original !== undefined && (receipt.status !== "exists" || receipt.seq !== original.seq || receipt.hash !== original.hash)) {
            violations.push(`${where}: a resend of ${sent.id} got ${canonicalJson(receipt)}, not the original receipt ${canonicalJson(original)}`);
          }
        });
      }
      const fresh = request.kind === "fills" || request.kind === "bust" || request.kind === "correction";
      if (fresh && request.firstAnswer?.kind === "applied") {
        for (const receipt of request.firstAnswer.receipts) {
          if (receipt.status !== "created") {
            violations.push(`${where}: its own new entry ${receipt.id} was answered ${receipt.status} (slot ${receipt.slot}) by the request's first and only attempt`);
          }
        }
      }
      for (const id of request.neverApplied ?? []) {
        if (byId.has(id)) violations.push(`${where}: ${id} was applied although its batch conflicted (atomicity)`);
      }
    }
  }
  return violations;
}
