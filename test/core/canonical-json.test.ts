import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../../src/core/assert.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { shuffleKeys } from "./fixtures.js";

describe("canonicalJson: RFC 8785 examples", () => {
  it("sorts keys and drops white space", () => {
    expect(canonicalJson({ b: 2, a: [1, "x", null, true] })).toBe('{"a":[1,"x",null,true],"b":2}');
    expect(canonicalJson(JSON.parse('{ "b" : 2 , "a" : [ 1 , "x" , null , true ] }'))).toBe(
      '{"a":[1,"x",null,true],"b":2}',
    );
  });

  it("serializes numbers, strings and literals as in RFC 8785 section 3.2.2", () => {
    const input = JSON.parse(
      String.raw`{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
      }`,
    );
    expect(canonicalJson(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it("sorts keys by UTF-16 code units as in RFC 8785 section 3.2.3", () => {
    const input = JSON.parse(
      String.raw`{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
      }`,
    );
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("keeps array order, sorts nested objects and leaves out undefined properties", () => {
    expect(canonicalJson([{ z: 1, y: { d: 1, c: 2 } }, 3, [2, 1]])).toBe('[{"y":{"c":2,"d":1},"z":1},3,[2,1]]');
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson("é")).toBe('"é"');
    expect(canonicalJson(-0)).toBe("0");
  });

  it("refuses undefined with an InvariantViolation", () => {
    expect(() => canonicalJson(undefined)).toThrow(InvariantViolation);
    expect(() => canonicalJson(undefined)).toThrow("canonical JSON of undefined");
  });
});

describe("canonicalJson: properties", () => {
  it("does not depend on the order in which keys were inserted", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it("does not depend on key order for objects with many keys", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), fc.string(), fc.boolean()), {
          minKeys: 2,
          maxKeys: 20,
        }),
        fc.integer(),
        (value, seed) => {
          const shuffled = shuffleKeys(value, seed);
          expect(canonicalJson(shuffled)).toBe(canonicalJson(value));
        },
      ),
    );
  });

  it("parses back to the same value", () => {
    // RFC 8785 writes -0 as 0 (checked above); JSON text has no distinct -0, so the values compared
    // here are those JSON.stringify can express (-0 becomes 0, everything else is unchanged).
    const jsonText = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(jsonText, (value) => {
        expect(JSON.parse(canonicalJson(value))).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("is a fixed point: canonicalizing the parse of canonical JSON gives the same text", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it("never contains white space outside strings, and object keys come out sorted", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (value) => {
        const text = canonicalJson(value);
        const keys = Object.keys(value).sort();
        const expected = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`).join(",")}}`;
        expect(text).toBe(expected);
      }),
    );
  });
});
