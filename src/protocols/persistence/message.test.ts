import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { messageLimits } from "./limits.js";
import {
  array,
  bool,
  bytes,
  float,
  int,
  isFieldName,
  message,
  messageBytes,
  messagesEqual,
  nested,
  string,
  timestamp,
  valuesEqual,
  type Value,
} from "./message.js";
import { arbitraryMessage } from "./message-arbitraries.js";
import { validateMessage } from "./message-validation.js";

describe("message()", () => {
  it("types plain JavaScript by fixed rules", () => {
    const built = message({
      name: "widget",
      count: 5n,
      price: 5,
      ok: true,
      raw: new Uint8Array([1, 2]),
      at: new Date(1_000),
      customer: message({ id: "c1" }),
      tags: ["a", "b"],
      sequence: int(7),
      none: array("int", []),
    });
    expect(built.get("name")).toEqual(string("widget"));
    expect(built.get("count")).toEqual(int(5n));
    expect(built.get("price")).toEqual(float(5));
    expect(built.get("ok")).toEqual(bool(true));
    expect(built.get("raw")).toEqual(bytes(new Uint8Array([1, 2])));
    expect(built.get("at")).toEqual(timestamp(1_000_000_000n));
    expect(built.get("customer")).toEqual(nested(message({ id: "c1" })));
    expect(built.get("tags")).toEqual({ type: "array", elementType: "string", values: [string("a"), string("b")] });
    expect(built.get("sequence")).toEqual(int(7n));
    expect(built.get("none")).toEqual({ type: "array", elementType: "int", values: [] });
  });

  it("refuses what it cannot type without guessing", () => {
    expect(() => message({ tags: [] })).toThrow(/explicit element type/);
    expect(() => message({ mixed: ["a", 1n] })).toThrow(/mixed\[1\]: expected string/);
    expect(() => message({ "bad.name": "x" })).toThrow(/invalid field name/);
    expect(() => int(1.5)).toThrow(/safe integer/);
  });
});

describe("field names", () => {
  it.each([
    ["subject", true],
    ["_private", true],
    ["order-id", true],
    ["a".repeat(messageLimits.fieldNameLengthMax), true],
    ["", false],
    ["a".repeat(messageLimits.fieldNameLengthMax + 1), false],
    ["1st", false],
    ["-x", false],
    ["a.b", false],
    ["a b", false],
    ["é", false],
  ])("%j is valid: %s", (name, valid) => expect(isFieldName(name)).toBe(valid));
});

describe("equality is type-aware", () => {
  const cases: [string, Value, Value, boolean][] = [
    ["int 5 vs string '5'", int(5), string("5"), false],
    ["int 5 vs float 5", int(5), float(5), false],
    ["int 5 vs timestamp 5", int(5), timestamp(5n), false],
    ["int 5 vs int 5", int(5), int(5n), true],
    ["float NaN vs NaN", float(NaN), float(NaN), true],
    ["float 0 vs -0", float(0), float(-0), false],
    ["bool true vs string 'true'", bool(true), string("true"), false],
    ["bytes equal", bytes(new Uint8Array([1])), bytes(new Uint8Array([1])), true],
    ["bytes vs string", bytes(new Uint8Array([97])), string("a"), false],
    ["empty int array vs empty string array", array("int", []), array("string", []), false],
    ["nested equal regardless of field order", nested(message({ a: 1n, b: "x" })), nested(message({ b: "x", a: 1n })), true],
    ["nested differs by type", nested(message({ a: 1n })), nested(message({ a: 1 })), false],
  ];
  it.each(cases)("%s", (_title, left, right, equal) => {
    expect(valuesEqual(left, right)).toBe(equal);
    expect(valuesEqual(right, left)).toBe(equal);
  });
});

describe("validateMessage", () => {
  it("accepts every well-formed message", () => {
    fc.assert(
      fc.property(arbitraryMessage(), (generated) => {
        const result = validateMessage(generated);
        expect(result.ok).toBe(true);
        if (result.ok) expect(messagesEqual(result.message, generated)).toBe(true);
      }),
    );
  });

  const bad: [string, unknown, string, RegExp][] = [
    ["not a message", { a: 1 }, "", /a message/],
    ["untagged value", new Map([["a", 5]]), "a", /tagged value/],
    ["unknown type", new Map([["a", { type: "decimal", value: "1" }]]), "a", /a type among/],
    ["int as number", new Map([["a", { type: "int", value: 5 }]]), "a", /bigint/],
    ["int out of range", new Map([["a", { type: "int", value: 2n ** 63n }]]), "a", /64 bits/],
    ["lone surrogate", new Map([["a", { type: "string", value: "\ud800" }]]), "a", /well-formed/],
    ["bad name", new Map([["a.b", { type: "bool", value: true }]]), "a.b", /field name/],
    ["nested bad value", new Map([["x", { type: "message", value: new Map([["price", { type: "float", value: "1" }]]) }]]), "x.price", /a float/],
    ["array element of wrong type", new Map([["tags", { type: "array", elementType: "string", values: [string("a"), int(1)] }]]), "tags[1]", /string/],
    ["array of arrays", new Map([["grid", { type: "array", elementType: "array", values: [] }]]), "grid", /no arrays of arrays/],
  ];
  it.each(bad)("%s names the path and what was expected", (_title, input, path, expected) => {
    const result = validateMessage(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.path).toBe(path);
    expect(result.errors[0]?.expected).toMatch(expected);
  });

  it("enforces nesting depth, field count and size", () => {
    let deep = message({ leaf: true });
    for (let level = 0; level < messageLimits.nestingDepthMax; level++) deep = message({ inner: deep });
    expect(validateMessage(deep).ok).toBe(false);
    const limits = { ...messageLimits, fieldsPerMessageMax: 2, messageBytesMax: 20 };
    expect(validateMessage(message({ a: 1n, b: 2n, c: 3n }), limits).ok).toBe(false);
    const big = validateMessage(message({ a: "x".repeat(30) }), limits);
    expect(big.ok === false && big.errors[0]?.expected).toMatch(/at most 20 encoded bytes/);
  });

  it("never throws on arbitrary input", () => {
    fc.assert(fc.property(fc.anything({ withMap: true, withBigInt: true, withTypedArray: true }), (input) => void validateMessage(input)));
  });

  it("bounds the error list", () => {
    const many = new Map(Array.from({ length: 100 }, (_, index) => [`f${index}`, 5]));
    const result = validateMessage(many);
    expect(result.ok === false && result.errors.length).toBe(16);
  });
});

describe("messageBytes", () => {
  it("counts the format byte, field count, names and tagged values", () => {
    // 1 format + 1 count + (1 + 1 name + 1 tag + 1 varint) for { a: 1n }
    expect(messageBytes(message({ a: 1n }))).toBe(6);
    expect(messageBytes(message({}))).toBe(2);
  });
});
