import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { entryBatchSchema, entryInputSchema, parseAppendBody } from "../../src/core/entry-schema.js";
import { entryHash, genesis_hash } from "../../src/core/hash.js";
import { limits } from "../../src/core/limits.js";

const minimal = { id: "venue:exec-1", account: "ACC-1", symbol: "AAPL", side: "buy", quantity: "10", price: "100.25" };

function accepts(body: unknown): void {
  const parsed = entryInputSchema.safeParse(body);
  expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues)).toBe(true);
}

/** Refused, with an issue at `path` (when given). */
function refuses(body: unknown, path?: ReadonlyArray<string | number>): void {
  const parsed = entryInputSchema.safeParse(body);
  expect(parsed.success).toBe(false);
  if (!parsed.success && path !== undefined) {
    expect(parsed.error.issues.map((i) => i.path)).toContainEqual(path);
  }
}

describe("entryInputSchema", () => {
  it("accepts a valid minimal entry and returns exactly its fields", () => {
    const parsed = entryInputSchema.parse(minimal);
    expect(parsed).toStrictEqual(minimal);
  });

  it("accepts a full entry", () => {
    accepts({
      ...minimal,
      side: "sell",
      fee: "0.35",
      currency: "USD",
      venue: "XNAS",
      orderId: "o-1",
      clOrdId: "c-1",
      execType: "trade",
      tradeTime: "2026-01-01T14:30:00.123Z",
      metadata: { desk: "emea", note: "hedge" },
    });
  });

  it("refuses unknown fields such as a client-set seq", () => {
    refuses({ ...minimal, seq: 5 });
    refuses({ ...minimal, hash: "00" });
    refuses({ ...minimal, Quantity: "1" });
  });

  it.each(["id", "account", "symbol", "side", "quantity", "price"])("requires %s", (field) => {
    const body: Record<string, unknown> = { ...minimal };
    delete body[field];
    refuses(body, [field]);
  });

  it("refuses a quantity or price that is a JSON number, even an integral one", () => {
    refuses({ ...minimal, quantity: 1.5 }, ["quantity"]);
    refuses(JSON.parse('{"id":"a","account":"b","symbol":"c","side":"buy","quantity":1.5,"price":"1"}'), ["quantity"]);
    refuses({ ...minimal, quantity: 10 }, ["quantity"]);
    refuses({ ...minimal, price: 100.25 }, ["price"]);
    refuses({ ...minimal, fee: 0.5 }, ["fee"]);
  });

  it.each(["0", "0.0", "0.000000000000", "-1", "-0.5", "-0", "1e3", "+1", "01", "1.", ".5", ""])(
    "refuses quantity %j",
    (quantity) => refuses({ ...minimal, quantity }, ["quantity"]),
  );

  it.each(["1", "0.000000000001", "12.5", "99999999999999999999.999999999999"])("accepts quantity %j", (quantity) =>
    accepts({ ...minimal, quantity }),
  );

  it.each(["0", "100", "0.000000000001"])("accepts price %j", (price) => accepts({ ...minimal, price }));

  it.each(["Buy", "BUY", "short", "", 1, null])("refuses side %j", (side) => refuses({ ...minimal, side }, ["side"]));

  it.each([
    "2026-01-01T10:00:00Z",
    "2026-01-01T10:00:00+02:00",
    "2026-01-01T10:00:00.123456Z",
    "2026-01-01T10:00:00-05:30",
  ])("accepts tradeTime %s", (tradeTime) => accepts({ ...minimal, tradeTime }));

  it.each(["2026-01-01", "2026-01-01T10:00:00", "10:00:00Z", "2026-13-01T10:00:00Z", "yesterday", "1767261600000"])(
    "refuses tradeTime %s",
    (tradeTime) => refuses({ ...minimal, tradeTime }, ["tradeTime"]),
  );

  it("requires refId for a correction and for a bust", () => {
    refuses({ ...minimal, execType: "correction" }, ["refId"]);
    refuses({ ...minimal, execType: "bust" }, ["refId"]);
    accepts({ ...minimal, execType: "correction", refId: "venue:exec-0" });
    accepts({ ...minimal, execType: "bust", refId: "venue:exec-0" });
  });

  it("refuses refId on a trade, explicit or implied", () => {
    refuses({ ...minimal, execType: "trade", refId: "venue:exec-0" }, ["refId"]);
    refuses({ ...minimal, refId: "venue:exec-0" }, ["refId"]);
  });

  it("refuses an entry that refers to itself", () => {
    refuses({ ...minimal, execType: "bust", refId: minimal.id }, ["refId"]);
  });

  it("refuses identifiers that are empty, too long or not visible ASCII", () => {
    refuses({ ...minimal, id: "" }, ["id"]);
    refuses({ ...minimal, id: "x".repeat(limits.id_chars_max + 1) }, ["id"]);
    accepts({ ...minimal, id: "x".repeat(limits.id_chars_max) });
    refuses({ ...minimal, id: "a b" }, ["id"]);
    refuses({ ...minimal, account: "é" }, ["account"]);
    refuses({ ...minimal, symbol: "x".repeat(limits.name_chars_max + 1) }, ["symbol"]);
  });

  it("checks currency and metadata limits", () => {
    refuses({ ...minimal, currency: "usd" }, ["currency"]);
    refuses({ ...minimal, currency: "USDT" }, ["currency"]);
    const many = Object.fromEntries(Array.from({ length: limits.metadata_keys_max + 1 }, (_, i) => [`k${i}`, "v"]));
    refuses({ ...minimal, metadata: many });
    const enough = Object.fromEntries(Array.from({ length: limits.metadata_keys_max }, (_, i) => [`k${i}`, "v"]));
    accepts({ ...minimal, metadata: enough });
    refuses({ ...minimal, metadata: { k: "v".repeat(limits.text_chars_max + 1) } });
    refuses({ ...minimal, metadata: { k: 1 } });
  });

  it.each([[null], [[]], ["entry"], [42], [undefined]])("refuses a body that is not an object: %j", (body) =>
    refuses(body),
  );
});

describe("what is stored is what was sent", () => {
  const withMetadata = (metadataJson: string) =>
    JSON.parse(
      `{"id":"a","account":"b","symbol":"c","side":"buy","quantity":"1","price":"1","metadata":${metadataJson}}`,
    );

  it("refuses a metadata key __proto__ at its own path (a record would drop it silently)", () => {
    refuses(withMetadata('{"__proto__":"x","desk":"a"}'), ["metadata", "__proto__"]);
    refuses(withMetadata('{"__proto__":"x"}'), ["metadata", "__proto__"]);
    const batch = parseAppendBody({ entries: [minimal, { ...withMetadata('{"__proto__":"x"}'), id: "b" }] });
    expect(batch.success).toBe(false);
    if (!batch.success)
      expect(batch.error.issues.map((i) => i.path)).toEqual([["entries", 1, "metadata", "__proto__"]]);
  });

  it("keeps every other metadata key and value exactly, those special to JavaScript included", () => {
    const metadata = {
      constructor: "c",
      toString: "t",
      hasOwnProperty: "h",
      prototype: "p",
      "1": "one",
      "a.b": "dot",
      é: "\u0000",
    };
    const parsed = entryInputSchema.parse(withMetadata(JSON.stringify(metadata)));
    expect(parsed.metadata).toStrictEqual(metadata);
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
  });

  it("returns every field it accepts unchanged, for arbitrary metadata (property)", () => {
    const key = fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }).filter((k) => k !== "__proto__");
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.string({ unit: "grapheme", maxLength: 8 }), { maxKeys: limits.metadata_keys_max }),
        (metadata) => {
          const sent = JSON.parse(JSON.stringify({ ...minimal, metadata }));
          const parsed = entryInputSchema.safeParse(sent);
          if (!parsed.success) return; // refused (a key too long in characters, say): nothing is stored
          expect(canonicalJson(parsed.data)).toBe(canonicalJson(sent));
        },
      ),
    );
  });
});

describe("every entry the schema accepts can be hashed", () => {
  // The apply step hashes each entry with canonicalJson (RFC 8785), which throws on a string holding
  // a lone UTF-16 surrogate. If the schema let one through, a chosen slot could never be applied.
  it("a metadata value holding a lone surrogate is refused or hashes", () => {
    const body = JSON.parse(
      String.raw`{"id":"a","account":"b","symbol":"c","side":"buy","quantity":"1","price":"1","metadata":{"note":"\ud800"}}`,
    );
    const parsed = entryInputSchema.safeParse(body);
    if (parsed.success) {
      expect(() => entryHash(genesis_hash, parsed.data)).not.toThrow();
    }
  });

  it("holds for arbitrary metadata strings (any UTF-16 code units)", () => {
    // Any code unit, with the surrogate range over-represented so that lone halves show up often.
    const codeUnit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      fc.constantFrom("a", "é", "\u{1F600}"),
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ unit: codeUnit, minLength: 1, maxLength: 8 }),
          fc.string({ unit: codeUnit, maxLength: 8 }),
          {
            maxKeys: 3,
          },
        ),
        (metadata) => {
          const parsed = entryInputSchema.safeParse({ ...minimal, metadata });
          if (parsed.success) expect(() => canonicalJson(parsed.data)).not.toThrow();
        },
      ),
    );
  });
});

function entries(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({ ...minimal, id: `venue:exec-${i}` }));
}

describe("batches", () => {
  it("parseAppendBody takes one entry as a batch of one", () => {
    const parsed = parseAppendBody(minimal);
    expect(parsed.success).toBe(true);
    if (parsed.success) expect(parsed.data).toStrictEqual([minimal]);
  });

  it("parseAppendBody takes {entries: [...]} in order", () => {
    const parsed = parseAppendBody({ entries: entries(3) });
    expect(parsed.success).toBe(true);
    if (parsed.success) expect(parsed.data.map((e) => e.id)).toEqual(["venue:exec-0", "venue:exec-1", "venue:exec-2"]);
  });

  it("accepts 1 and 1000 entries, refuses 0 and 1001", () => {
    expect(parseAppendBody({ entries: entries(1) }).success).toBe(true);
    expect(parseAppendBody({ entries: entries(limits.request_entries_max) }).success).toBe(true);
    expect(parseAppendBody({ entries: [] }).success).toBe(false);
    expect(parseAppendBody({ entries: entries(limits.request_entries_max + 1) }).success).toBe(false);
    expect(entryBatchSchema.safeParse([]).success).toBe(false);
    expect(entryBatchSchema.safeParse(entries(1001)).success).toBe(false);
  });

  it("refuses duplicate ids with the issue at the duplicate's index", () => {
    const batch = entries(4);
    batch[3] = { ...batch[3]!, id: "venue:exec-1", quantity: "5" };
    const direct = entryBatchSchema.safeParse(batch);
    expect(direct.success).toBe(false);
    if (!direct.success) {
      const dup = direct.error.issues.filter((i) => i.code === "custom");
      expect(dup.map((i) => i.path)).toEqual([[3, "id"]]);
      expect(dup[0]!.message).toContain("index 1");
    }
    const parsed = parseAppendBody({ entries: batch });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues.map((i) => i.path)).toContainEqual(["entries", 3, "id"]);
  });

  it("points at the invalid entry of a batch", () => {
    const batch = entries(3);
    batch[2] = { ...batch[2]!, quantity: 1.5 };
    const parsed = parseAppendBody({ entries: batch });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues.map((i) => i.path)).toContainEqual(["entries", 2, "quantity"]);
  });

  it("refuses {entries: [...]} with an extra key", () => {
    expect(parseAppendBody({ entries: entries(1), ledger: "x" }).success).toBe(false);
    expect(parseAppendBody({ entries: entries(1), seq: 1 }).success).toBe(false);
  });

  it("refuses entries that is not an array, and a bare array", () => {
    expect(parseAppendBody({ entries: minimal }).success).toBe(false);
    expect(parseAppendBody({ entries: null }).success).toBe(false);
    expect(parseAppendBody(entries(2)).success).toBe(false);
    expect(parseAppendBody(null).success).toBe(false);
  });
});
