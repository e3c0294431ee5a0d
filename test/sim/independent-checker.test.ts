/**
 * The checker's own hash chain, canonical JSON and positions (written from the specification, not
 * from src/core) agree with production on ordinary and awkward inputs. This file may import both;
 * the checker imports only its own.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { applySlot } from "../../src/core/apply.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import { entryHash, genesis_hash } from "../../src/core/hash.js";
import type { Entry } from "../../src/core/ledger-types.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { recomputePosition } from "../../src/core/positions.js";
import { checkRun } from "./checker.js";
import {
  CanonicalJsonError,
  reference_genesis_hash,
  referenceCanonicalJson,
  referenceEntryHash,
} from "./independent-hash.js";
import { referencePositions } from "./reference-positions.js";

function entry(seq: number, prevHash: string, fields: Partial<Entry> = {}): Omit<Entry, "hash"> {
  return {
    id: `e${seq}`,
    account: "ACC-1",
    symbol: "AAPL",
    side: "buy",
    quantity: "10",
    price: "100.25",
    seq,
    slot: seq,
    committedAt: "2026-11-26T00:00:00.000Z",
    prevHash,
    ...fields,
  };
}

/** Member names and values where JCS is easy to get wrong: non-ASCII order, escapes, line separators. */
const awkward: ReadonlyArray<Partial<Entry>> = [
  {},
  {
    fee: "0.01",
    currency: "EUR",
    venue: "XNAS",
    orderId: "o-1",
    clOrdId: "c-1",
    tradeTime: "2026-01-01T10:00:00+02:00",
  },
  { metadata: { z: "last", é: "accent", "\u{1F600}": "astral, sorts before U+FB01 in UTF-16", "\uFB01": "ligature" } },
  {
    metadata: {
      quote: '"',
      backslash: "\\",
      controls: "\b\t\n\f\r\u0000\u001f\u007f",
      separators: "\u2028\u2029",
      slash: "/",
    },
  },
  { execType: "correction", refId: "e1", side: "sell", quantity: "0.000000000001", price: "-12.5" },
];

describe("the checker's hash chain", () => {
  test("genesis is the documented 64 zeros", () => {
    expect(reference_genesis_hash).toBe(genesis_hash);
  });

  test("equals production's entryHash on a chain of awkward entries", () => {
    let prev = genesis_hash;
    for (const [i, fields] of awkward.entries()) {
      const unhashed = entry(i + 1, prev, fields);
      expect(referenceCanonicalJson(unhashed)).toBe(canonicalJson(unhashed));
      const hash = referenceEntryHash(prev, unhashed);
      expect(hash).toBe(entryHash(prev, unhashed));
      prev = hash;
    }
  });

  test("equals production's canonical JSON on random JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(referenceCanonicalJson(value)).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  test("depends on the previous hash as a prefix, not only through the prevHash field", () => {
    const unhashed = entry(1, genesis_hash);
    expect(referenceEntryHash(genesis_hash, unhashed)).not.toBe(referenceEntryHash("", unhashed));
  });

  test("refuses what has no canonical form instead of hashing something ambiguous", () => {
    expect(() => referenceCanonicalJson({ a: "\ud800" })).toThrow(CanonicalJsonError);
    expect(() => referenceCanonicalJson({ a: Number.NaN })).toThrow(CanonicalJsonError);
    expect(() => referenceCanonicalJson({ a: 1n })).toThrow(CanonicalJsonError);
  });
});

describe("the checker's positions", () => {
  const fill = fc.record({
    side: fc.constantFrom("buy" as const, "sell" as const),
    quantity: fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 99 }))
      .map(([i, f]) => (f === 0 ? `${i}` : `${i}.${f}`)),
    price: fc
      .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 9999 }))
      .map(([i, f]) => `${i}.${String(f).padStart(4, "0")}`),
    fee: fc.option(
      fc.integer({ min: 1, max: 99 }).map((f) => `0.${f}`),
      { nil: undefined },
    ),
    /** Which earlier entry a bust or correction refers to (modulo how many there are), if any. */
    refers: fc.option(fc.tuple(fc.constantFrom("bust" as const, "correction" as const), fc.nat()), {
      freq: 4,
      nil: undefined,
    }),
  });

  test("equal production's after the production apply step, busts and corrections included", () => {
    fc.assert(
      fc.property(fc.array(fill, { minLength: 1, maxLength: 30 }), (fills) => {
        const store = new MemoryAcceptorStore();
        const live: EntryInput[] = [];
        fills.forEach((f, i) => {
          const base: EntryInput = {
            id: `f${i}`,
            account: "ACC-1",
            symbol: "AAPL",
            side: f.side,
            quantity: f.quantity,
            price: f.price,
            ...(f.fee === undefined ? {} : { fee: f.fee }),
          };
          let input = base;
          if (f.refers !== undefined && live.length > 0) {
            const [kind, pick] = f.refers;
            const [target] = live.splice(pick % live.length, 1);
            input =
              kind === "bust"
                ? {
                    ...base,
                    side: target!.side,
                    quantity: target!.quantity,
                    price: target!.price,
                    execType: "bust",
                    refId: target!.id,
                  }
                : { ...base, execType: "correction", refId: target!.id };
          }
          if (input.execType !== "bust") live.push(input);
          const { writes } = applySlot(store, i + 1, { kind: "append", proposedAt_ms: 1_000 + i, batches: [[input]] });
          store.transaction(() => store.applyWrites(writes));
        });
        const entries = store.entriesAfter(0, 1_000);
        const mine = referencePositions(entries).get(JSON.stringify(["ACC-1", "AAPL"]));
        expect(mine).toEqual(store.position("ACC-1", "AAPL"));
        const recomputed = recomputePosition("ACC-1", "AAPL", entries, (id) => store.supersededBy(id) !== undefined);
        expect(mine).toEqual(recomputed);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the checker never crashes", () => {
  test("more receipts than entries, and an answer of no known shape, are violations, not a TypeError", () => {
    const cluster = {
      observer: { violations: [] },
      acceptorViolations: [],
      proposerViolations: [],
      acceptors: [],
    } as unknown as Parameters<typeof checkRun>[0];
    const receipt = { id: "c0-e0", status: "created", seq: 1, hash: "x", committedAt: "t", slot: 1 };
    const client = {
      name: "c0",
      finished: true,
      requests: [
        {
          kind: "fills",
          entries: [{ id: "c0-e0" }],
          outcomes: [{ kind: "applied", receipts: [receipt, { ...receipt, id: "c0-e1", seq: 2 }] }],
          attempts: 1,
          done: true,
        },
        { kind: "fills", entries: [{ id: "c0-e2" }], outcomes: [{ kind: "applied" }], attempts: 1, done: true },
      ],
    } as unknown as Parameters<typeof checkRun>[1][number];
    const violations = checkRun(cluster, [client], { requireConvergence: true });
    expect(violations.join("\n")).toMatch(/2 receipts for 1 entries/);
    expect(violations.join("\n")).toMatch(/receipt 1 .* answers no entry/);
    expect(violations.join("\n")).toMatch(/neither applied with receipts nor rejected/);
  });
});
