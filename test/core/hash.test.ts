import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { entryHash, genesis_hash, sha256Hex } from "../../src/core/hash.js";
import type { Entry } from "../../src/core/ledger-types.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import { allEntries, appendValue, applyAndPersist, trade } from "./fixtures.js";

/** SHA-256 hex with node:crypto, independent of the @noble/hashes code under test. */
function nodeSha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A minimal RFC 8785 serializer for entries (strings, safe integers, objects), independent of `canonicalize`. */
function jcs(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(o[k])}`).join(",")}}`;
}

function withoutHash(e: Entry): Omit<Entry, "hash"> {
  const { hash: _hash, ...rest } = e;
  return rest;
}

/**
 * Verifies a chain as a client would, per the documented algorithm; returns the seq of the first
 * entry that does not verify, or undefined when the whole chain does.
 */
function firstBrokenSeq(entries: readonly Entry[]): number | undefined {
  let prev = genesis_hash;
  for (const [i, e] of entries.entries()) {
    const seq = i + 1;
    if (e.seq !== seq || e.prevHash !== prev) return seq;
    if (e.hash !== nodeSha256Hex(prev + jcs(withoutHash(e)))) return seq;
    prev = e.hash;
  }
  return undefined;
}

const printableArb = fc.string({ unit: fc.constantFrom(..."abcXYZ019-_:./"), minLength: 1, maxLength: 12 });
const decimalArb = fc
  .tuple(fc.integer({ min: 1, max: 99999 }), fc.integer({ min: 0, max: 9999 }))
  .map(([i, f]) => (f === 0 ? `${i}` : `${i}.${f}`.replace(/0+$/, "")));

const entryArb: fc.Arbitrary<Entry> = fc
  .record(
    {
      id: printableArb,
      account: printableArb,
      symbol: printableArb,
      side: fc.constantFrom("buy" as const, "sell" as const),
      quantity: decimalArb,
      price: decimalArb,
      fee: decimalArb,
      currency: fc.constantFrom("USD", "EUR"),
      venue: printableArb,
      tradeTime: fc.constant("2026-01-01T10:00:00+02:00"),
      metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
      seq: fc.integer({ min: 1, max: 1_000_000 }),
      slot: fc.integer({ min: 1, max: 1_000_000 }),
      committedAt: fc.constant("2026-01-01T00:00:00.000Z"),
      prevHash: fc.stringMatching(/^[0-9a-f]{64}$/),
      hash: fc.constant(""),
    },
    {
      requiredKeys: [
        "id",
        "account",
        "symbol",
        "side",
        "quantity",
        "price",
        "seq",
        "slot",
        "committedAt",
        "prevHash",
        "hash",
      ],
    },
  )
  .map((e) => e as Entry);

/** A different value of the same kind, for a field. */
function changed(v: unknown): unknown {
  if (typeof v === "number") return v + 1;
  if (typeof v === "string") return v === "buy" ? "sell" : v === "sell" ? "buy" : `${v}0`;
  if (v !== null && typeof v === "object") return { ...(v as object), extra: "x" };
  throw new Error(`unexpected field value ${String(v)}`);
}

describe("genesis and sha256", () => {
  it("genesis is 64 zeros", () => {
    expect(genesis_hash).toBe("0".repeat(64));
  });

  it("sha256Hex matches node:crypto on known and random texts", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(sha256Hex(s)).toBe(nodeSha256Hex(s));
      }),
    );
  });
});

describe("entryHash", () => {
  it("is sha256 hex of prevHash + canonicalJson(entry), computed with node:crypto", () => {
    const entry = {
      id: "v:1",
      account: "A",
      symbol: "S",
      side: "buy",
      quantity: "1",
      price: "2.5",
      seq: 1,
      slot: 1,
      committedAt: "2026-01-01T00:00:00.000Z",
      prevHash: genesis_hash,
    };
    const text =
      genesis_hash +
      '{"account":"A","committedAt":"2026-01-01T00:00:00.000Z","id":"v:1","prevHash":"' +
      genesis_hash +
      '","price":"2.5","quantity":"1","seq":1,"side":"buy","slot":1,"symbol":"S"}';
    expect(canonicalJson(entry)).toBe(text.slice(64));
    expect(entryHash(genesis_hash, entry)).toBe(nodeSha256Hex(text));
  });

  it("matches the documented algorithm on random entries", () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        const body = withoutHash(e);
        expect(entryHash(e.prevHash, body)).toBe(nodeSha256Hex(e.prevHash + jcs(body)));
      }),
    );
  });

  it("does not depend on key order", () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        const body = withoutHash(e);
        const reversed = Object.fromEntries(Object.entries(body).reverse());
        expect(entryHash(e.prevHash, reversed)).toBe(entryHash(e.prevHash, body));
      }),
    );
  });

  it("changes when any field changes, is added or is removed, or when prevHash changes", () => {
    fc.assert(
      fc.property(entryArb, fc.nat(), (e, pick) => {
        const body: Record<string, unknown> = { ...withoutHash(e) };
        const h = entryHash(e.prevHash, body);
        const keys = Object.keys(body);
        const key = keys[pick % keys.length]!;
        expect(entryHash(e.prevHash, { ...body, [key]: changed(body[key]) })).not.toBe(h);
        const removed = { ...body };
        delete removed[key];
        expect(entryHash(e.prevHash, removed)).not.toBe(h);
        expect(entryHash(e.prevHash, { ...body, orderId: "new-field" })).not.toBe(h);
        const otherPrev = (e.prevHash[0] === "0" ? "1" : "0") + e.prevHash.slice(1);
        expect(entryHash(otherPrev, body)).not.toBe(h);
      }),
    );
  });
});

describe("the chain built by applySlot", () => {
  /** Several slots, several batches, two positions, a bust and a correction. */
  function buildChain(): MemoryAcceptorStore {
    const store = new MemoryAcceptorStore();
    applyAndPersist(
      store,
      1,
      appendValue(1_000, [trade("t1"), trade("t2", { side: "sell", quantity: "3", price: "101.5" })]),
    );
    applyAndPersist(store, 2, { kind: "noop" });
    applyAndPersist(
      store,
      3,
      appendValue(
        2_000,
        [trade("t3", { symbol: "MSFT", fee: "0.25", metadata: { desk: "émea", note: "" } })],
        [trade("t4", { account: "ACC-2", tradeTime: "2026-01-01T10:00:00+02:00" })],
      ),
    );
    applyAndPersist(
      store,
      4,
      appendValue(
        1_500,
        [trade("b1", { execType: "bust", refId: "t2", side: "sell", quantity: "3", price: "101.5" })],
        [trade("c1", { execType: "correction", refId: "t1", quantity: "11", price: "99" })],
      ),
    );
    return store;
  }

  it("verifies when recomputed independently with node:crypto", () => {
    const entries = allEntries(buildChain());
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries[0]!.prevHash).toBe(genesis_hash);
    expect(firstBrokenSeq(entries)).toBeUndefined();
  });

  it("breaks verification at the seq of any tampered entry", () => {
    const entries = allEntries(buildChain());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: entries.length - 1 }), fc.nat(), (index, pick) => {
        const copy = structuredClone(entries) as Entry[];
        const target = copy[index]! as unknown as Record<string, unknown>;
        const keys = Object.keys(target);
        const key = keys[pick % keys.length]!;
        target[key] = changed(target[key]);
        expect(firstBrokenSeq(copy)).toBe(index + 1);
      }),
      { numRuns: 200 },
    );
  });

  it("breaks verification when an entry is removed or two are swapped", () => {
    const entries = allEntries(buildChain());
    expect(firstBrokenSeq([...entries.slice(0, 2), ...entries.slice(3)])).toBe(3);
    const swapped = [...entries];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(firstBrokenSeq(swapped)).toBe(2);
  });

  it("keeps the head at the last entry's hash", () => {
    const store = buildChain();
    const entries = allEntries(store);
    expect(store.head().seq).toBe(entries.length);
    expect(store.head().hash).toBe(entries[entries.length - 1]!.hash);
  });
});
