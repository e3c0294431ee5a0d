/**
 * The messages of the append schema. They are part of the API: the 400 response carries them to the
 * desk that sent the entry, so each names the field and the rule it broke.
 */
import { describe, expect, it } from "vitest";
import { entryBatchSchema, entryInputSchema, parseAppendBody } from "../../src/core/entry-schema.js";
import { limits } from "../../src/core/limits.js";

const minimal = { id: "venue:exec-1", account: "ACC-1", symbol: "AAPL", side: "buy", quantity: "10", price: "100.25" };

/** The issues (path and message) of a refused entry. */
function issuesOf(body: unknown): Array<{ path: PropertyKey[]; message: string; code: string }> {
  const parsed = entryInputSchema.safeParse(body);
  expect(parsed.success).toBe(false);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
}

function expectIssue(body: unknown, path: PropertyKey[], message: string): void {
  expect(issuesOf(body)).toContainEqual(expect.objectContaining({ path, message }));
}

const decimal_rule =
  `must be a decimal string such as "100.25" (at most ${limits.decimal_integer_digits_max} ` +
  `integer and ${limits.decimal_fraction_digits_max} fraction digits, no exponent)`;

describe("identifier messages name the field", () => {
  const identifiers: Array<[string, number]> = [
    ["id", limits.id_chars_max],
    ["account", limits.name_chars_max],
    ["symbol", limits.name_chars_max],
    ["venue", limits.name_chars_max],
    ["orderId", limits.id_chars_max],
    ["clOrdId", limits.id_chars_max],
  ];
  it.each(identifiers)("%s: empty, too long, not visible ASCII", (field, max) => {
    expectIssue({ ...minimal, [field]: "" }, [field], `${field} must not be empty`);
    expectIssue({ ...minimal, [field]: "x".repeat(max + 1) }, [field], `${field} must be at most ${max} characters`);
    expectIssue({ ...minimal, [field]: "a b" }, [field], `${field} must be visible ASCII without spaces`);
  });

  it("refId: empty", () => {
    expectIssue({ ...minimal, execType: "bust", refId: "" }, ["refId"], "refId must not be empty");
  });
});

describe("money and time messages", () => {
  it.each(["quantity", "price", "fee"])("%s must be a decimal string", (field) => {
    expectIssue({ ...minimal, [field]: "1e3" }, [field], `${field} ${decimal_rule}`);
  });

  it("quantity must be greater than zero", () => {
    expectIssue({ ...minimal, quantity: "0" }, ["quantity"], "quantity must be greater than zero");
  });

  it("currency and tradeTime", () => {
    expectIssue({ ...minimal, currency: "usd" }, ["currency"], "currency must be an ISO 4217 code such as USD");
    expectIssue({ ...minimal, tradeTime: "yesterday" }, ["tradeTime"], "tradeTime must be an RFC 3339 date-time");
  });
});

describe("references", () => {
  // The reference rules are the schema's own (code "custom"), not a type or format check.
  const expectCustom = (body: unknown, message: string) =>
    expect(issuesOf(body)).toContainEqual({ path: ["refId"], code: "custom", message });

  it.each(["correction", "bust"])("a %s without refId", (execType) => {
    expectCustom({ ...minimal, execType }, `refId is required when execType is ${execType}`);
  });

  it("a refId on a trade", () => {
    expectCustom({ ...minimal, refId: "venue:exec-0" }, "refId is only allowed on a correction or a bust");
  });

  it("an entry that refers to itself", () => {
    expectCustom({ ...minimal, execType: "bust", refId: minimal.id }, "an entry cannot refer to itself");
  });
});

describe("metadata", () => {
  const withMetadata = (metadataJson: string) =>
    JSON.parse(
      `{"id":"a","account":"b","symbol":"c","side":"buy","quantity":"1","price":"1","metadata":${metadataJson}}`,
    );

  it("a key __proto__ is a custom issue that says why", () => {
    expect(issuesOf(withMetadata('{"__proto__":"x"}'))).toContainEqual({
      path: ["metadata", "__proto__"],
      code: "custom",
      message:
        "metadata key __proto__ is not allowed: JavaScript objects cannot hold it as a plain key; use another key",
    });
  });

  it.each(["null", '"text"', "7", "[]"])(
    "metadata %s is refused as a value of the wrong type, not thrown on",
    (json) => {
      expect(() => entryInputSchema.safeParse(withMetadata(json))).not.toThrow();
      expect(issuesOf(withMetadata(json)).map((i) => i.path)).toContainEqual(["metadata"]);
    },
  );

  it("lone surrogates in a key or a value", () => {
    const messages = (json: string) => issuesOf(withMetadata(json)).map((i) => i.message);
    expect(messages(String.raw`{"k":"\ud800"}`)).toContain(
      "metadata value must be well-formed Unicode (no lone surrogates)",
    );
    // zod reports a bad record key as "Invalid key in record" and nests the key rule's own issue.
    const parsed = entryInputSchema.safeParse(withMetadata(String.raw`{"\udc00":"v"}`));
    expect(parsed.success).toBe(false);
    const keyIssue = parsed.success ? undefined : parsed.error.issues[0];
    expect(keyIssue).toMatchObject({ code: "invalid_key", path: ["metadata", "\udc00"] });
    expect(keyIssue?.code === "invalid_key" ? keyIssue.issues.map((i) => i.message) : []).toEqual([
      "metadata key must be well-formed Unicode (no lone surrogates)",
    ]);
  });

  it("too many keys", () => {
    const many = Object.fromEntries(Array.from({ length: limits.metadata_keys_max + 1 }, (_, i) => [`k${i}`, "v"]));
    expectIssue(
      { ...minimal, metadata: many },
      ["metadata"],
      `metadata may hold at most ${limits.metadata_keys_max} keys`,
    );
  });
});

describe("batches", () => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ ...minimal, id: `venue:exec-${i}` }));
  const batchMessages = (body: unknown) => {
    const parsed = entryBatchSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  };

  it("empty and too large", () => {
    expect(batchMessages([])).toEqual(["a batch holds at least one entry"]);
    expect(batchMessages(entries(limits.request_entries_max + 1))).toEqual([
      `a batch holds at most ${limits.request_entries_max} entries`,
    ]);
  });

  it.each(["entries", 42, true])("parseAppendBody refuses the body %j without throwing", (body) => {
    expect(() => parseAppendBody(body)).not.toThrow();
    expect(parseAppendBody(body).success).toBe(false);
  });
});
