import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { checkMsgpack, peekRequestFields, sessionRequestBounds, type MsgpackBounds } from "./msgpack-bounds.js";
import { bigintExtension, float64, nestedArrays, packWithRaw, raw, uint64, wideMap } from "./msgpack-test-support.js";

const packr = new Packr({ useRecords: false });
const bounds: MsgpackBounds = { depthMax: 8, mapEntriesMax: 16, arrayLengthMax: 32, nodesMax: 200 };

/** Values a client library may send: what msgpackr writes for them must pass the walk. */
const clientValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, undefined),
    fc.string(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 6 }),
  ),
})).value;

describe("the bounded msgpack walk", () => {
  it("accepts whatever msgpackr writes for values within the bounds, as msgpackr reads it", () => {
    fc.assert(
      fc.property(clientValue, (value) => {
        expect(checkMsgpack(packr.pack(value), sessionRequestBounds)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on any bytes, and what it accepts msgpackr unpacks without throwing", () => {
    const mutated = fc.tuple(clientValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([value, flips]) => {
      const bytes = new Uint8Array(packr.pack(value));
      for (const [at, byte] of flips) if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        if (checkMsgpack(bytes, bounds) === null) expect(() => packr.unpack(bytes)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses nesting past the bound, naming the path, at any depth without recursing", () => {
    expect(checkMsgpack(nestedArrays(8), bounds)).toBeNull();
    expect(checkMsgpack(nestedArrays(9), bounds)).toEqual({
      kind: "out-of-bounds",
      path: "[0][0][0][0][0][0][0][0]",
      detail: "nested deeper than 8 levels of maps and arrays",
    });
    // Deeper than msgpackr's own unpacker survives (it overflows its stack near 10,000).
    expect(checkMsgpack(nestedArrays(1_000_000), sessionRequestBounds)).toMatchObject({ kind: "out-of-bounds" });
  });

  it("refuses a map or an array wider than the bound before reading its entries", () => {
    expect(checkMsgpack(wideMap(16), bounds)).toBeNull();
    expect(checkMsgpack(wideMap(17), bounds)).toMatchObject({ kind: "out-of-bounds", detail: "a map of 17 entries; at most 16" });
    expect(checkMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), bounds)).toMatchObject({ detail: "an array of 4294967295 elements; at most 32" });
    expect(checkMsgpack(wideMap(70_000), sessionRequestBounds)).toMatchObject({ detail: "a map of 70000 entries; at most 1024" });
  });

  it("counts every value against the total bound", () => {
    const arrays = Array.from({ length: 10 }, () => Array.from({ length: 30 }, () => 1));
    expect(checkMsgpack(packr.pack(arrays), bounds)).toMatchObject({ kind: "out-of-bounds", detail: "more than 200 values in one request" });
  });

  it("refuses NaN, infinities, integers beyond 64 signed bits and extension types, naming where", () => {
    const request = (name: string) => ({ type: "subscribe", matcher: { tests: [{ field: "x", equals: raw(name) }] } });
    const at = (name: string, bytes: Uint8Array) => checkMsgpack(packWithRaw(request(name), { [name]: bytes }), bounds);
    const nan = { kind: "out-of-bounds", path: "matcher.tests[0].equals", detail: "NaN is not accepted; send a finite number" };
    expect(at("nan", float64(Number.NaN))).toEqual(nan);
    expect(at("infinity", float64(-Infinity))).toMatchObject({ detail: "-Infinity is not accepted; send a finite number" });
    expect(at("float32", new Uint8Array([0xca, 0x7f, 0xc0, 0x00, 0x00]))).toMatchObject({ detail: "NaN is not accepted; send a finite number" });
    expect(at("uint64", uint64(2n ** 63n))).toMatchObject({ path: "matcher.tests[0].equals", detail: "an integer beyond signed 64 bits" });
    expect(at("int64", uint64(2n ** 63n - 1n))).toBeNull();
    expect(at("bigint", bigintExtension(40))).toMatchObject({ path: "matcher.tests[0].equals", detail: expect.stringContaining("extension type 66") });
    expect(at("date", packr.pack(new Date(0)))).toMatchObject({ detail: expect.stringContaining("extension type -1") });
    expect(at("undefined", packr.pack(undefined))).toBeNull();
  });

  it("refuses keys that are not strings, locating them at their map", () => {
    expect(checkMsgpack(new Uint8Array([0x81, 0x01, 0x02]), bounds)).toEqual({ kind: "out-of-bounds", path: "", detail: "a map key must be a string" });
    const nested = packWithRaw({ a: [raw("m")] }, { m: new Uint8Array([0x81, 0x90, 0x02]) });
    expect(checkMsgpack(nested, bounds)).toMatchObject({ path: "a[0]", detail: "a map key must be a string" });
  });

  it("calls truncated values, reserved bytes and trailing bytes unreadable", () => {
    expect(checkMsgpack(new Uint8Array([0x92, 0x01]), bounds)).toMatchObject({ kind: "unreadable", path: "[1]", detail: "truncated msgpack" });
    expect(checkMsgpack(new Uint8Array([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]), bounds)).toMatchObject({ kind: "unreadable", detail: "truncated msgpack" });
    expect(checkMsgpack(new Uint8Array([0xc1]), bounds)).toMatchObject({ kind: "unreadable", detail: "the reserved byte 0xc1" });
    expect(checkMsgpack(new Uint8Array([0x01, 0x02]), bounds)).toMatchObject({ kind: "unreadable", detail: "1 bytes after the end of the value" });
    expect(checkMsgpack(new Uint8Array(), bounds)).toMatchObject({ kind: "unreadable" });
  });

  it("finds a request's type and id wherever they are, past a value it would refuse", () => {
    const bytes = packWithRaw({ type: "subscribe", matcher: raw("deep"), requestId: 7 }, { deep: nestedArrays(5000) });
    expect(peekRequestFields(bytes)).toEqual({ isMap: true, type: "subscribe", requestId: 7 });
    expect(peekRequestFields(packr.pack([1, 2]))).toEqual({ isMap: false, type: null, requestId: 0 });
    expect(peekRequestFields(packr.pack({ requestId: 2 ** 40 }))).toMatchObject({ requestId: 2 ** 40 });
  });
});
