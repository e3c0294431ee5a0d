/**
 * The invariants of docs/design.md section 15, checked on the final state of a simulated run:
 * - at most one value is chosen per slot (the observer, fed by every Accepted and every apply);
 * - every replica's ledger is a prefix of every longer one, with the same seq and hashes, and every
 *   replica's hash chain verifies;
 * - every receipt a client got matches the final ledger;
 * - each id is applied at most once;
 * - a request's own entries are `created`, never `exists` (an earlier attempt of the same request,
 *   inside the proposer, committing them does not make them pre-existing);
 * - positions equal a recomputation from the entries;
 * - after faults stop, every request a client keeps retrying completes, and the replicas converge.
 *
 * The checker is independent of the code it checks: hashes, canonical JSON and positions are
 * recomputed by test/sim/independent-hash.ts and test/sim/reference-positions.ts, written from the
 * specification, never by src/core (a bug there would otherwise agree with itself). A broken core can
 * hand it anything (more receipts than entries, a missing field): every such surprise, and any error
 * the checker itself throws, is reported as a violation, so a run always ends with a verdict.
 */
import type { Entry } from "../../src/core/ledger-types.js";
import type { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { SimClient } from "./clients.js";
import type { Cluster } from "./cluster.js";
import { reference_genesis_hash, referenceCanonicalJson, referenceEntryHash } from "./independent-hash.js";
import { referencePositions } from "./reference-positions.js";

/** The fields the ledger adds to what a client sent (README, "The hash chain"). */
const server_field_names: ReadonlySet<string> = new Set(["seq", "slot", "committedAt", "prevHash", "hash"]);
/** Violations kept per run: a badly broken core produces thousands of the same kind. */
const violations_max = 500;

/** The client's fields of a stored entry: the entry without the server's fields. */
function sentFieldsOf(e: Entry): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (!server_field_names.has(k)) copy[k] = v;
  return copy;
}

/** A value for a message: canonical when it can be, something readable when it cannot. */
function show(value: unknown): string {
  try {
    return referenceCanonicalJson(value);
  } catch {
    return String(value);
  }
}

/** Runs one check; an error it throws (a checker bug, or data shaped as nothing expected) becomes a violation. */
function guarded(what: string, violations: string[], check: () => void): void {
  try {
    check();
  } catch (error) {
    violations.push(
      `checker: ${what} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
}

export function ledgerOf(store: MemoryAcceptorStore): Entry[] {
  return store.entriesAfter(0, Number.MAX_SAFE_INTEGER);
}

function checkChain(name: string, entries: readonly Entry[], violations: string[]): void {
  let prev = reference_genesis_hash;
  const ids = new Set<string>();
  entries.forEach((e, i) => {
    if (e.seq !== i + 1) violations.push(`${name}: seq ${e.seq} at position ${i + 1} (seq must be dense)`);
    if (e.prevHash !== prev) violations.push(`${name}: seq ${e.seq} prevHash does not link to seq ${e.seq - 1}`);
    const { hash, ...unhashed } = e;
    if (referenceEntryHash(prev, unhashed) !== hash) violations.push(`${name}: seq ${e.seq} hash does not verify`);
    if (ids.has(e.id)) violations.push(`${name}: id ${e.id} applied twice`);
    ids.add(e.id);
    prev = hash;
  });
}

function checkPositions(
  name: string,
  store: MemoryAcceptorStore,
  entries: readonly Entry[],
  violations: string[],
): void {
  for (const [key, expected] of referencePositions(entries)) {
    const stored = store.position(expected.account, expected.symbol);
    if (show(stored ?? null) !== show(expected)) {
      violations.push(
        `${name}: position ${expected.account}/${expected.symbol} is ${show(stored ?? null)}, recomputed ${show(expected)}`,
      );
    }
    // The index that a bust or correction recomputes from must hold exactly the key's entries.
    const indexed = store.entriesOf(expected.account, expected.symbol).map((e) => e.seq);
    const inLedger = entries.filter((e) => JSON.stringify([e.account, e.symbol]) === key).map((e) => e.seq);
    if (indexed.join(",") !== inLedger.join(",")) {
      violations.push(
        `${name}: entries of ${expected.account}/${expected.symbol} are indexed as seq [${indexed.join(",")}], the ledger has [${inLedger.join(",")}]`,
      );
    }
  }
  // Every busted or corrected entry is superseded by an entry that refers to it.
  for (const e of entries) {
    const by = store.supersededBy(e.id);
    if (by !== undefined && entries[by - 1]?.refId !== e.id)
      violations.push(`${name}: ${e.id} superseded by seq ${by}, which does not refer to it`);
    if (e.refId !== undefined && store.supersededBy(e.refId) !== e.seq)
      violations.push(`${name}: seq ${e.seq} refers to ${e.refId}, not marked superseded by it`);
  }
}

function checkReplicas(cluster: Cluster, opts: { requireConvergence: boolean }, violations: string[]): Entry[] {
  const ledgers = cluster.acceptors.map((a) => {
    let entries: Entry[] = [];
    guarded(`reading ${a.name}'s ledger`, violations, () => {
      entries = ledgerOf(a.store);
    });
    return { name: a.name, store: a.store, entries };
  });
  for (const l of ledgers) {
    guarded(`the chain of ${l.name}`, violations, () => checkChain(l.name, l.entries, violations));
    guarded(`the positions of ${l.name}`, violations, () => checkPositions(l.name, l.store, l.entries, violations));
    guarded(`the head of ${l.name}`, violations, () => {
      if (l.store.head().seq !== l.entries.length)
        violations.push(`${l.name}: head seq ${l.store.head().seq}, ${l.entries.length} entries`);
    });
  }
  if (ledgers.length === 0) {
    violations.push("checker: the cluster has no acceptors");
    return [];
  }
  const longest = ledgers.reduce((a, b) => (b.entries.length > a.entries.length ? b : a));
  for (const l of ledgers) {
    for (const [i, e] of l.entries.entries()) {
      const other = longest.entries[i];
      if (other?.hash !== e.hash) {
        violations.push(`${l.name} diverges from ${longest.name} at seq ${i + 1}`);
        break;
      }
    }
  }
  if (opts.requireConvergence) {
    guarded("convergence", violations, () => {
      const through = cluster.acceptors.map((a) => a.store.chosenThrough());
      if (new Set(through).size !== 1)
        violations.push(`replicas did not converge after heal: chosenThrough ${through.join(", ")}`);
    });
  }
  return longest.entries;
}

function checkClient(
  client: SimClient,
  final: readonly Entry[],
  byId: ReadonlyMap<string, Entry>,
  violations: string[],
): void {
  if (!client.finished) {
    const stuck = client.requests.find((r) => !r.done);
    violations.push(
      `liveness: ${client.name} did not finish (request ${client.requests.length} ${stuck ? `still open after ${stuck.attempts} attempts` : ""})`,
    );
  }
  for (const [index, request] of client.requests.entries()) {
    const where = `${client.name} request ${index} (${request.kind})`;
    guarded(where, violations, () => {
      for (const outcome of request.outcomes) {
        if (request.kind === "conflict") {
          if (outcome.kind !== "rejected" || outcome.rejection.code !== "id_conflict") {
            violations.push(`${where}: a conflicting id was answered ${show(outcome)}`);
          }
          continue;
        }
        if (outcome.kind === "rejected") {
          violations.push(`${where}: unexpected rejection ${show(outcome.rejection)}`);
          continue;
        }
        if (outcome.kind !== "applied" || !Array.isArray(outcome.receipts)) {
          violations.push(`${where}: an answer that is neither applied with receipts nor rejected: ${show(outcome)}`);
          continue;
        }
        if (outcome.receipts.length !== request.entries.length)
          violations.push(`${where}: ${outcome.receipts.length} receipts for ${request.entries.length} entries`);
        outcome.receipts.forEach((receipt, i) => {
          const sent = request.entries[i];
          if (sent === undefined) {
            violations.push(
              `${where}: receipt ${i} (${show(receipt)}) answers no entry: the request sent ${request.entries.length}`,
            );
            return;
          }
          const entry = final[receipt.seq - 1];
          if (receipt.id !== sent.id) violations.push(`${where}: receipt ${i} is for ${receipt.id}, not ${sent.id}`);
          if (entry === undefined) {
            violations.push(
              `${where}: receipt for ${receipt.id} names seq ${receipt.seq}, which no replica holds (acknowledged entry lost)`,
            );
            return;
          }
          if (
            entry.id !== receipt.id ||
            entry.hash !== receipt.hash ||
            entry.slot !== receipt.slot ||
            entry.committedAt !== receipt.committedAt
          ) {
            violations.push(
              `${where}: receipt ${show(receipt)} does not match the ledger's seq ${receipt.seq} (${entry.id}, slot ${entry.slot})`,
            );
          }
          if (show(sentFieldsOf(entry)) !== show(sent))
            violations.push(`${where}: ledger body of ${sent.id} differs from what was sent`);
          const original = request.original?.[i];
          if (
            original !== undefined &&
            (receipt.status !== "exists" || receipt.seq !== original.seq || receipt.hash !== original.hash)
          ) {
            violations.push(
              `${where}: a resend of ${sent.id} got ${show(receipt)}, not the original receipt ${show(original)}`,
            );
          }
        });
      }
      const fresh = request.kind === "fills" || request.kind === "bust" || request.kind === "correction";
      if (fresh && request.firstAnswer?.kind === "applied") {
        for (const receipt of request.firstAnswer.receipts) {
          if (receipt.status !== "created") {
            violations.push(
              `${where}: its own new entry ${receipt.id} was answered ${receipt.status} (slot ${receipt.slot}) by the request's first and only attempt`,
            );
          }
        }
      }
      for (const id of request.neverApplied ?? []) {
        if (byId.has(id)) violations.push(`${where}: ${id} was applied although its batch conflicted (atomicity)`);
      }
    });
  }
}

export function checkRun(
  cluster: Cluster,
  clients: readonly SimClient[],
  opts: { requireConvergence: boolean },
): string[] {
  const violations: string[] = [
    ...cluster.observer.violations,
    ...cluster.acceptorViolations,
    ...cluster.proposerViolations,
  ];
  let final: readonly Entry[] = [];
  guarded("the replicas", violations, () => {
    final = checkReplicas(cluster, opts, violations);
  });
  const byId = new Map(final.map((e) => [e.id, e]));
  for (const client of clients) guarded(client.name, violations, () => checkClient(client, final, byId, violations));
  if (violations.length <= violations_max) return violations;
  return [...violations.slice(0, violations_max), `... and ${violations.length - violations_max} more violations`];
}
