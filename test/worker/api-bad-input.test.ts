/**
 * Bad input through the Worker: each gets its 4xx with the JSON error shape, no stack trace, and
 * leaves the ledger as it was.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { limits } from "../../src/core/limits.js";
import {
  type ApiResponse,
  append,
  authHeader,
  call,
  expectApiError,
  fill,
  get,
  head,
  ledgerPath,
  listAll,
  origin,
  post,
  readApiResponse,
  uniqueLedger,
} from "./http.js";

interface IssueDetail {
  path: string;
  code: string;
  message: string;
}

function issuePaths(body: { error: { details?: unknown } }): string[] {
  const details = body.error.details;
  expect(Array.isArray(details)).toBe(true);
  return (details as IssueDetail[]).map((d) => d.path);
}

/** A ledger with one entry in it, and a check that a bad request left it exactly so. */
async function seededLedger(prefix: string): Promise<{ ledger: string; unchanged: () => Promise<void> }> {
  const ledger = uniqueLedger(prefix);
  await append(ledger, fill("seed:1"));
  const before = await head(ledger);
  expect(before.seq).toBe(1);
  return {
    ledger,
    unchanged: async () => {
      expect(await head(ledger)).toEqual(before);
      expect((await listAll(ledger)).map((e) => e.id)).toEqual(["seed:1"]);
    },
  };
}

function postRaw(ledger: string, rawBody: string, contentType = "application/json"): Promise<ApiResponse> {
  return call("POST", ledgerPath(ledger, "entries"), { rawBody, headers: { "content-type": contentType } });
}

/** Posts these exact bytes (the helpers send strings, which are always well-formed UTF-8). */
async function postBytes(ledger: string, bytes: Uint8Array, contentType = "application/json"): Promise<ApiResponse> {
  const res = await exports.default.fetch(`${origin}${ledgerPath(ledger, "entries")}`, {
    method: "POST",
    headers: { ...authHeader("test-all"), "content-type": contentType },
    body: bytes,
  });
  return readApiResponse(res);
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** `before`, these raw bytes, then `after`, as one body. */
function bytesAround(before: string, raw: readonly number[], after: string): Uint8Array {
  return new Uint8Array([...utf8(before), ...raw, ...utf8(after)]);
}

/** The stored entry with this id, read back through the API. */
async function stored(ledger: string, id: string): Promise<Record<string, unknown>> {
  const res = await get(ledgerPath(ledger, `ids/${id}`));
  expect(res.status).toBe(200);
  return (res.json as { entry: Record<string, unknown> }).entry;
}

describe("bodies", () => {
  test("malformed JSON is 400 invalid_json", async () => {
    const { ledger, unchanged } = await seededLedger("bad-json");
    expectApiError(await postRaw(ledger, '{"id": "x:1", "account": '), 400, "invalid_json");
    expectApiError(await postRaw(ledger, ""), 400, "invalid_json");
    expectApiError(await postRaw(ledger, "{'id': 'x:1'}"), 400, "invalid_json");
    await unchanged();
  });

  test("quantity as a JSON number is 400 invalid_request at path quantity", async () => {
    const { ledger, unchanged } = await seededLedger("bad-type");
    const body = expectApiError(
      await post(ledgerPath(ledger, "entries"), fill("x:1", { quantity: 10 })),
      400,
      "invalid_request",
    );
    expect(issuePaths(body)).toEqual(["quantity"]);
    await unchanged();
  });

  test("a float quantity (1.5 as a JSON number) is 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-float");
    const res = await postRaw(ledger, JSON.stringify(fill("x:1")).replace('"quantity":"10"', '"quantity":1.5'));
    const body = expectApiError(res, 400, "invalid_request");
    expect(issuePaths(body)).toEqual(["quantity"]);
    await unchanged();
  });

  test("a price as a JSON number is 400 at path price", async () => {
    const { ledger, unchanged } = await seededLedger("bad-price");
    const body = expectApiError(
      await post(ledgerPath(ledger, "entries"), fill("x:1", { price: 100.5 })),
      400,
      "invalid_request",
    );
    expect(issuePaths(body)).toEqual(["price"]);
    await unchanged();
  });

  test("an unknown field is 400 and the details path names it", async () => {
    const { ledger, unchanged } = await seededLedger("bad-unknown");
    const one = expectApiError(
      await post(ledgerPath(ledger, "entries"), fill("x:1", { colour: "blue" })),
      400,
      "invalid_request",
    );
    expect(issuePaths(one)).toEqual(["colour"]);
    const inBatch = expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("x:1"), fill("x:2", { colour: "blue" })] }),
      400,
      "invalid_request",
    );
    expect(issuePaths(inBatch)).toEqual(["entries.1.colour"]);
    await unchanged();
  });

  test("a client-set server field (seq, hash, slot, committedAt, prevHash) is 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-seq");
    for (const [field, value] of [
      ["seq", 1],
      ["hash", "0".repeat(64)],
      ["slot", 1],
      ["committedAt", "2026-01-01T00:00:00Z"],
      ["prevHash", "0".repeat(64)],
    ] as const) {
      const body = expectApiError(
        await post(ledgerPath(ledger, "entries"), fill(`x:${field}`, { [field]: value })),
        400,
        "invalid_request",
      );
      expect(JSON.stringify(body.error.details)).toContain(field);
    }
    await unchanged();
  });

  test("a missing quantity is 400 at path quantity", async () => {
    const { ledger, unchanged } = await seededLedger("bad-missing");
    const entry = fill("x:1");
    delete entry.quantity;
    const body = expectApiError(await post(ledgerPath(ledger, "entries"), entry), 400, "invalid_request");
    expect(issuePaths(body)).toEqual(["quantity"]);
    await unchanged();
  });

  test("a negative or zero quantity is 400 at path quantity", async () => {
    const { ledger, unchanged } = await seededLedger("bad-negative");
    for (const quantity of ["-5", "0", "0.000", "-0"]) {
      const body = expectApiError(
        await post(ledgerPath(ledger, "entries"), fill("x:1", { quantity })),
        400,
        "invalid_request",
      );
      expect(issuePaths(body)).toContain("quantity");
    }
    await unchanged();
  });

  test("decimal strings that are not plain decimals are 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-decimal");
    for (const price of ["1e3", "+1", "01", "1.", ".5", "NaN", "1,5", " 1"]) {
      const body = expectApiError(
        await post(ledgerPath(ledger, "entries"), fill("x:1", { price })),
        400,
        "invalid_request",
      );
      expect(issuePaths(body)).toEqual(["price"]);
    }
    await unchanged();
  });

  test("a tradeTime that is not RFC 3339 is 400 at path tradeTime", async () => {
    const { ledger, unchanged } = await seededLedger("bad-time");
    for (const tradeTime of ["yesterday", "2026-01-02", "2026-01-02T03:04:05", "2026-13-01T00:00:00Z", 1767312000000]) {
      const body = expectApiError(
        await post(ledgerPath(ledger, "entries"), fill("x:1", { tradeTime })),
        400,
        "invalid_request",
      );
      expect(issuePaths(body)).toEqual(["tradeTime"]);
    }
    await unchanged();
  });

  test("a wrong side or execType, or a bust without refId, is 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-enum");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ side: "long" }, "side"],
      [{ execType: "cancel" }, "execType"],
      [{ execType: "bust" }, "refId"],
      [{ refId: "seed:1" }, "refId"],
      [{ currency: "usd" }, "currency"],
      [{ id: "has space" }, "id"],
      [{ id: "" }, "id"],
      [{ id: "x".repeat(129) }, "id"],
      [{ metadata: { desk: 5 } }, "metadata.desk"],
    ];
    for (const [overrides, path] of cases) {
      const body = expectApiError(
        await post(ledgerPath(ledger, "entries"), fill("x:1", overrides)),
        400,
        "invalid_request",
      );
      expect(issuePaths(body)).toContain(path);
    }
    await unchanged();
  });

  test("a JSON body that is not an entry (array, string, null, empty object) is 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-shape");
    for (const raw of ["[]", `[${JSON.stringify(fill("x:1"))}]`, '"x"', "null", "42", "{}"]) {
      expectApiError(await postRaw(ledger, raw), 400, "invalid_request");
    }
    await unchanged();
  });

  test("an empty batch, or a batch with another key beside entries, is 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-batch");
    expectApiError(await post(ledgerPath(ledger, "entries"), { entries: [] }), 400, "invalid_request");
    expectApiError(await post(ledgerPath(ledger, "entries"), { entries: "x" }), 400, "invalid_request");
    const extra = expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("x:1")], atomic: true }),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(extra.error.details)).toContain("atomic");
    await unchanged();
  });

  test("one bad entry in a batch is 400 with the path of the entry, and nothing of the batch is applied", async () => {
    const { ledger, unchanged } = await seededLedger("bad-in-batch");
    const body = expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("x:1"), fill("x:2"), fill("x:3", { quantity: 3 })] }),
      400,
      "invalid_request",
    );
    expect(issuePaths(body)).toEqual(["entries.2.quantity"]);
    expect((await get(ledgerPath(ledger, "ids/x:1"))).status).toBe(404);
    await unchanged();
  });

  test("duplicate ids inside one batch are 400 at entries.<i>.id", async () => {
    const { ledger, unchanged } = await seededLedger("bad-dup");
    const body = expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("d:1"), fill("d:1", { quantity: "2" })] }),
      400,
      "invalid_request",
    );
    expect(issuePaths(body)).toEqual(["entries.1.id"]);
    const same = expectApiError(
      await post(ledgerPath(ledger, "entries"), { entries: [fill("d:2"), fill("d:3"), fill("d:2")] }),
      400,
      "invalid_request",
    );
    expect(issuePaths(same)).toEqual(["entries.2.id"]);
    await unchanged();
  });

  test("a body over 1 MiB is 413 payload_too_large", async () => {
    const { ledger, unchanged } = await seededLedger("bad-big");
    const big = JSON.stringify(fill("x:1", { metadata: { pad: "x".repeat(1024 * 1024) } }));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expectApiError(await postRaw(ledger, big), 413, "payload_too_large");
    // Valid entries, but too many bytes together.
    const entries = Array.from({ length: 900 }, (_, i) =>
      fill(`big:${i}`, {
        metadata: Object.fromEntries(Array.from({ length: 5 }, (_field, k) => [`k${k}`, "v".repeat(250)])),
      }),
    );
    const batch = JSON.stringify({ entries });
    expect(batch.length).toBeGreaterThan(1024 * 1024);
    expectApiError(await postRaw(ledger, batch), 413, "payload_too_large");
    await unchanged();
  });

  test("1001 entries is 413 too_many_entries", async () => {
    const { ledger, unchanged } = await seededLedger("bad-many");
    const entries = Array.from({ length: 1001 }, (_, i) => fill(`m:${i}`));
    const body = expectApiError(await post(ledgerPath(ledger, "entries"), { entries }), 413, "too_many_entries");
    expect(body.error.details).toEqual({ entries: 1001 });
    await unchanged();
  });

  test("1000 entries, the most a batch holds, is accepted", async () => {
    const ledger = uniqueLedger("max-batch");
    const entries = Array.from({ length: 1000 }, (_, i) => fill(`m:${i}`));
    const body = await append(ledger, { entries });
    expect(body.results).toHaveLength(1000);
    expect(body.results.at(-1)).toMatchObject({ id: "m:999", seq: 1000, status: "created" });
    expect((await head(ledger)).seq).toBe(1000);
  });

  test("a Content-Type other than JSON is 415 unsupported_media_type", async () => {
    const { ledger, unchanged } = await seededLedger("bad-type-header");
    const valid = JSON.stringify(fill("x:1"));
    expectApiError(await postRaw(ledger, valid, "text/plain"), 415, "unsupported_media_type");
    expectApiError(await postRaw(ledger, valid, "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
    expectApiError(await postRaw(ledger, valid, "application/jsonx"), 415, "unsupported_media_type");
    const none = await call("POST", ledgerPath(ledger, "entries"), { rawBody: valid, headers: { "content-type": "" } });
    expectApiError(none, 415, "unsupported_media_type");
    await unchanged();
    // A charset parameter is still JSON.
    expect((await postRaw(ledger, valid, "application/json; charset=utf-8")).status).toBe(201);
  });
});

describe("ledger names", () => {
  test("a bad ledger name is 400 invalid_ledger_name, for writes and reads", async () => {
    for (const name of ["Bad_Name", "UPPER", "-leading-dash", "has.dot", "a".repeat(64)]) {
      expectApiError(await post(ledgerPath(name, "entries"), fill("x:1")), 400, "invalid_ledger_name");
      expectApiError(await get(ledgerPath(name, "entries")), 400, "invalid_ledger_name");
      expectApiError(await get(ledgerPath(name, "head")), 400, "invalid_ledger_name");
    }
    // 63 characters is the longest name.
    const longest = `${uniqueLedger("n")}-${"a".repeat(63)}`.slice(0, 63);
    expect((await post(ledgerPath(longest, "entries"), fill("x:1"))).status).toBe(201);
  });
});

describe("query parameters and paths", () => {
  test("an unknown query parameter on GET entries is 400 invalid_request", async () => {
    const { ledger, unchanged } = await seededLedger("bad-query");
    const body = expectApiError(await get(ledgerPath(ledger, "entries?afterr=1")), 400, "invalid_request");
    expect(JSON.stringify(body.error.details)).toContain("afterr");
    expectApiError(await get(ledgerPath(ledger, "head?foo=bar")), 400, "invalid_request");
    expectApiError(await get(ledgerPath(ledger, "entries/1?limit=1")), 400, "invalid_request");
    await unchanged();
  });

  test("limit=0, limit=1001 and other bad limits or cursors are 400", async () => {
    const { ledger, unchanged } = await seededLedger("bad-limit");
    for (const q of [
      "limit=0",
      "limit=1001",
      "limit=-1",
      "limit=1.5",
      "limit=abc",
      "after=-1",
      "after=x",
      "consistency=eventual",
      "minSeq=0",
    ]) {
      const res = await get(ledgerPath(ledger, `entries?${q}`));
      expectApiError(res, 400, "invalid_request");
    }
    expect((await get(ledgerPath(ledger, "entries?limit=1000"))).status).toBe(200);
    expect((await get(ledgerPath(ledger, "entries?limit=1"))).status).toBe(200);
    await unchanged();
  });

  test("positions without an account is 400", async () => {
    const { ledger } = await seededLedger("bad-positions");
    expectApiError(await get(ledgerPath(ledger, "positions")), 400, "invalid_request");
    expectApiError(await get(ledgerPath(ledger, "positions?account=")), 400, "invalid_request");
  });

  test("entries/abc and other non-numeric seqs are 400 invalid_request", async () => {
    const { ledger, unchanged } = await seededLedger("bad-seq-path");
    for (const seq of ["abc", "0", "-1", "1.5", "1e2", "0x10", "99999999999999999999"]) {
      expectApiError(await get(ledgerPath(ledger, `entries/${seq}`)), 400, "invalid_request");
    }
    await unchanged();
  });

  test("an unknown route is 404 not_found as JSON", async () => {
    const { ledger, unchanged } = await seededLedger("bad-route");
    expectApiError(await get("/v1/nothing-here"), 404, "not_found");
    expectApiError(await get(ledgerPath(ledger, "entriess")), 404, "not_found");
    expectApiError(await get("/v2/ledgers/x/entries"), 404, "not_found");
    expectApiError(await call("DELETE", ledgerPath(ledger, "entries/1")), 404, "not_found");
    expectApiError(await call("PUT", ledgerPath(ledger, "entries"), { body: fill("x:1") }), 404, "not_found");
    await unchanged();
  });
});

describe("a body is read exactly as sent, or refused", () => {
  const fillText = (id: string, extra = "") =>
    `{"id":"${id}","account":"ACC-1","symbol":"XYZ","side":"buy","quantity":"1","price":"100.5"${extra}}`;

  test("a repeated key is 400 invalid_json, wherever it is, and changes nothing", async () => {
    const { ledger, unchanged } = await seededLedger("dup-key");
    const cases: Array<[string, string, string]> = [
      // The issue's example: the last quantity would have won.
      [fillText("d:1", ',"quantity":"1000000"'), "", "quantity"],
      [fillText("d:2", ',"metadata":{"desk":"a","desk":"b"}'), "metadata", "desk"],
      [`{"entries":[${fillText("d:3")},${fillText("d:4", ',"side":"sell"')}]}`, "entries.1", "side"],
      [`{"entries":[${fillText("d:5")}],"entries":[${fillText("d:6")}]}`, "", "entries"],
      // The same key spelled with an escape is the same key.
      [fillText("d:7", ',"pric\\u0065":"1"'), "", "price"],
    ];
    for (const [raw, path, key] of cases) {
      const body = expectApiError(await postRaw(ledger, raw), 400, "invalid_json");
      expect(body.error.details).toMatchObject({ reason: "duplicate_key", path, key });
      expect(body.error.message).toContain(key);
    }
    await unchanged();
  });

  test("the same key in different objects is not a repeat", async () => {
    const ledger = uniqueLedger("dup-key-ok");
    const raw = `{"entries":[${fillText("k:1", ',"metadata":{"id":"x"}')},${fillText("k:2", ',"metadata":{"id":"x"}')}]}`;
    expect((await postRaw(ledger, raw)).status).toBe(201);
  });

  test("a metadata key __proto__ is 400 invalid_request naming the key, not silently dropped", async () => {
    const { ledger, unchanged } = await seededLedger("proto-key");
    const raw = fillText("p:1", ',"metadata":{"__proto__":"x","desk":"a"}');
    const body = expectApiError(await postRaw(ledger, raw), 400, "invalid_request");
    expect(issuePaths(body)).toEqual(["metadata.__proto__"]);
    expect(JSON.stringify(body.error.details)).toContain("__proto__");
    await unchanged();
  });

  test("metadata keys that are special elsewhere are stored exactly as sent", async () => {
    const ledger = uniqueLedger("odd-keys");
    const metadata = {
      constructor: "c",
      toString: "t",
      hasOwnProperty: "h",
      "1": "one",
      "0x": "hex",
      é: "accent",
      "a.b": "dot",
    };
    await append(ledger, fill("o:1", { metadata }));
    expect((await stored(ledger, "o:1"))["metadata"]).toStrictEqual(metadata);
  });

  test("invalid UTF-8 is 400 invalid_json, never replaced by U+FFFD", async () => {
    const { ledger, unchanged } = await seededLedger("bad-utf8");
    const before = `{"id":"u:1","account":"ACC-1","symbol":"XYZ","side":"buy","quantity":"1","price":"1","metadata":{"note":"`;
    const after = `"}}`;
    for (const raw of [
      [0xff], // never valid in UTF-8
      [0xc3], // a lead byte without its continuation
      [0x80], // a continuation byte without a lead
      [0xc0, 0xaf], // an overlong "/"
      [0xed, 0xa0, 0x80], // an encoded UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    ]) {
      const body = expectApiError(await postBytes(ledger, bytesAround(before, raw, after)), 400, "invalid_json");
      expect(body.error.details).toMatchObject({ reason: "invalid_utf8" });
    }
    await unchanged();
  });

  test("well-formed UTF-8 beyond ASCII is stored exactly", async () => {
    const ledger = uniqueLedger("good-utf8");
    const note = "€ 東京 😀 \u00e9\u0301";
    expect((await postBytes(ledger, utf8(fillText("g:1", `,"metadata":{"note":"${note}"}`)))).status).toBe(201);
    expect((await stored(ledger, "g:1"))["metadata"]).toStrictEqual({ note });
  });

  test("a leading byte order mark is ignored (RFC 8259 section 8.1): the entry is stored as without it", async () => {
    const ledger = uniqueLedger("bom");
    const res = await postBytes(ledger, new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(fillText("b:1"))]));
    expect(res.status).toBe(201);
    expect(await stored(ledger, "b:1")).toMatchObject({ id: "b:1", quantity: "1", price: "100.5" });
    // Resending without the BOM is the same body: exists, not a conflict.
    expect((await postRaw(ledger, fillText("b:1"))).status).toBe(200);
  });

  test("a charset other than UTF-8 is 415 unsupported_media_type; UTF-8 in any spelling is accepted", async () => {
    const { ledger, unchanged } = await seededLedger("charset");
    for (const type of [
      "application/json; charset=iso-8859-1",
      "application/json; charset=utf-16",
      "application/json;charset=windows-1252",
      'application/json; charset="latin1"',
      "application/json; charset=no-such-charset",
      // Two charsets: one reader may take the first, another the last.
      "application/json; charset=utf-8; charset=latin1",
    ]) {
      const body = expectApiError(await postRaw(ledger, fillText("c:x"), type), 415, "unsupported_media_type");
      expect(body.error.message).toMatch(/UTF-8/);
    }
    await unchanged();
    for (const [i, type] of [
      "application/json; charset=UTF-8",
      'application/json; charset="utf-8"',
      "application/json;charset=utf8",
      "Application/JSON; foo=bar; charset=utf-8",
    ].entries()) {
      expect((await postRaw(ledger, fillText(`c:${i}`), type)).status).toBe(201);
    }
  });
});

describe("busts repeat the fill they cancel", () => {
  test("a bust whose side, quantity or price differ from its fill is 409 bust_mismatch naming the fields", async () => {
    const ledger = uniqueLedger("bust-mismatch");
    await append(ledger, fill("f:1", { quantity: "10", price: "100.5" }));
    const before = await head(ledger);
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ quantity: "1000" }, ["quantity"]],
      [{ price: "99" }, ["price"]],
      [{ side: "sell" }, ["side"]],
      [{ side: "sell", quantity: "1", price: "1" }, ["side", "quantity", "price"]],
    ];
    for (const [overrides, fields] of cases) {
      const res = await post(
        ledgerPath(ledger, "entries"),
        fill("b:1", { execType: "bust", refId: "f:1", quantity: "10", price: "100.5", ...overrides }),
      );
      const body = expectApiError(res, 409, "bust_mismatch");
      expect(body.error.details).toMatchObject({ index: 0, id: "b:1", fields });
    }
    expect(await head(ledger)).toEqual(before);
    // The same numbers spelled otherwise match; the bust's own fee is not compared.
    const ok = await post(
      ledgerPath(ledger, "entries"),
      fill("b:1", { execType: "bust", refId: "f:1", quantity: "10.00", price: "100.50", fee: "2" }),
    );
    expect(ok.status).toBe(201);
  });

  test("the rule is in the API's documentation", async () => {
    const res = await get("/openapi.json", null);
    expect(res.status).toBe(200);
    const doc = res.json as { components: { schemas: { AppendRequest: { description: string } } } };
    expect(doc.components.schemas.AppendRequest.description).toMatch(/bust_mismatch/);
    expect(doc.components.schemas.AppendRequest.description).toMatch(/duplicate_key/);
  });

  test("a correction may change the fill's side, quantity and price", async () => {
    const ledger = uniqueLedger("correction-free");
    await append(ledger, fill("f:1", { quantity: "10", price: "100.5" }));
    const res = await post(
      ledgerPath(ledger, "entries"),
      fill("c:1", { execType: "correction", refId: "f:1", side: "sell", quantity: "3", price: "99" }),
    );
    expect(res.status).toBe(201);
  });
});

describe("echoed input is bounded", () => {
  const bound = limits.echoed_value_chars_max;

  /** Every string in the error's details is at most the echo bound, its message at most the message bound. */
  function expectBounded(res: ApiResponse, status: number, code: string): void {
    const body = expectApiError(res, status, code);
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === "object" && v !== null) Object.values(v).forEach(walk);
    };
    walk(body.error.details);
    for (const s of strings) expect(s.length).toBeLessThanOrEqual(bound);
    expect(body.error.message.length).toBeLessThanOrEqual(limits.error_message_chars_max);
    expect(res.text.length).toBeLessThan(4 * limits.error_message_chars_max);
  }

  test("a 5,000-character ledger name is echoed cut, with a marker", async () => {
    const name = "a".repeat(5000);
    const res = await post(ledgerPath(name, "entries"), fill("x:1"));
    expectBounded(res, 400, "invalid_ledger_name");
    const echoed = (res.json as { error: { details: { ledger: string } } }).error.details.ledger;
    expect(echoed).toMatch(/^a{64,}… \(5000 characters\)$/);
    expect(res.text).not.toContain("a".repeat(bound + 1));
    expectBounded(await get(ledgerPath(name, "head")), 400, "invalid_ledger_name");
    expectBounded(await get(ledgerPath(name, `ids/${"a".repeat(5000)}`)), 400, "invalid_ledger_name");
  });

  test("a long unknown field, metadata key, query parameter or path is echoed cut", async () => {
    const ledger = uniqueLedger("echo");
    const long = "a".repeat(5000);
    expectBounded(await post(ledgerPath(ledger, "entries"), fill("x:1", { [long]: "1" })), 400, "invalid_request");
    expectBounded(
      await post(ledgerPath(ledger, "entries"), fill("x:1", { metadata: { [long]: "1" } })),
      400,
      "invalid_request",
    );
    expectBounded(await post(ledgerPath(ledger, "entries"), fill("x:1", { id: long })), 400, "invalid_request");
    expectBounded(await get(ledgerPath(ledger, `entries?${long}=1`)), 400, "invalid_request");
    expectBounded(await get(`/v1/${long}`), 404, "not_found");
    expectBounded(await get(ledgerPath(ledger, `ids/${long}`)), 400, "invalid_request");
  });
});
