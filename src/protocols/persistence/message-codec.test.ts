import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { messageLimits } from "./limits.js";
import { array, float, int, message, messageBytes, messagesEqual, string, type Message } from "./message.js";
import { arbitraryMessage } from "./message-arbitraries.js";
import { decodeMessage, encodeMessage, type DecodeErrorKind } from "./message-codec.js";

const decodeOk = (bytes: Uint8Array): Message => {
  const result = decodeMessage(bytes);
  if (!result.ok) throw new Error(`decode failed: ${JSON.stringify(result.error)}`);
  return result.message;
};

describe("message codec", () => {
  it("round-trips every message exactly, and its size is messageBytes", () => {
    fc.assert(
      fc.property(arbitraryMessage(), (original) => {
        const encoded = encodeMessage(original);
        expect(encoded.length).toBe(messageBytes(original));
        expect(messagesEqual(decodeOk(encoded), original)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic: field order does not change the bytes, and re-encoding is stable", () => {
    fc.assert(
      fc.property(arbitraryMessage(), (original) => {
        const reversed = new Map([...original].reverse());
        const encoded = encodeMessage(original);
        expect(encodeMessage(reversed)).toEqual(encoded);
        expect(encodeMessage(decodeOk(encoded))).toEqual(encoded);
      }),
    );
  });

  it("keeps 64-bit extremes, -0, NaN and a leading byte-order mark", () => {
    const original = message({
      low: int(-(2n ** 63n)),
      high: int(2n ** 63n - 1n),
      negativeZero: -0,
      notANumber: NaN,
      bom: "\ufeffx",
      payloadNaN: new Float64Array(new Uint8Array([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]).buffer)[0] ?? 0,
      empty: array("bytes", []),
    });
    expect(messagesEqual(decodeOk(encodeMessage(original)), original)).toBe(true);
  });

  it("never throws on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void decodeMessage(bytes)), { numRuns: 5000 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => void decodeMessage(new Uint8Array([1, ...tail]))),
      { numRuns: 5000 },
    );
  });

  it("never throws on a corrupted valid encoding", () => {
    fc.assert(
      fc.property(arbitraryMessage(), fc.nat(), fc.integer({ min: 0, max: 255 }), (original, position, byte) => {
        const encoded = encodeMessage(original);
        encoded[position % encoded.length] = byte;
        const result = decodeMessage(encoded);
        if (result.ok) expect(encodeMessage(result.message)).toEqual(encoded);
      }),
    );
  });

  it("reports every strict prefix as truncated", () => {
    fc.assert(
      fc.property(arbitraryMessage(), (original) => {
        const encoded = encodeMessage(original);
        for (let length = 0; length < encoded.length; length++) {
          const result = decodeMessage(encoded.subarray(0, length));
          expect(result.ok === false && result.error.kind).toBe("truncated");
        }
      }),
      { numRuns: 100 },
    );
  });

  // A one-field message `{ a: ... }` is: 1 (format), 1 (count), 1 (name length), 0x61 ("a"), tag, payload.
  const field = (...value: number[]): Uint8Array => new Uint8Array([1, 1, 1, 0x61, ...value]);
  const cases: [string, Uint8Array, DecodeErrorKind, RegExp][] = [
    ["empty input", new Uint8Array([]), "truncated", /format version/],
    ["unknown format", new Uint8Array([2, 0]), "invalid", /format version 2/],
    ["unknown type tag", field(42), "unknown-type", /type tag 42/],
    ["unknown array element tag", field(8, 9, 0), "unknown-type", /element type tag 9/],
    ["array of arrays", field(8, 8, 0), "unknown-type", /element type tag 8/],
    ["trailing bytes", new Uint8Array([1, 0, 0]), "invalid", /trailing/],
    ["bool byte 2", field(4, 2), "invalid", /bool/],
    ["overlong varint", field(2, 0x80, 0x00), "invalid", /not minimal/],
    ["int over 64 bits", field(2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), "invalid", /64 bits/],
    ["non-canonical NaN", field(3, 1, 0, 0, 0, 0, 0, 0xf8, 0x7f), "invalid", /canonical NaN/],
    ["bad UTF-8", field(1, 1, 0xff), "invalid", /UTF-8/],
    ["string longer than input", field(1, 5, 0x61), "truncated", /string/],
    ["bad field name", new Uint8Array([1, 1, 1, 0x2e, 4, 1]), "invalid", /field name/],
    ["repeated field", new Uint8Array([1, 2, 1, 0x61, 4, 1, 1, 0x61, 4, 0]), "invalid", /out of order or repeated/],
    ["unsorted fields", new Uint8Array([1, 2, 1, 0x62, 4, 1, 1, 0x61, 4, 0]), "invalid", /out of order/],
    ["too many fields", new Uint8Array([1, 0x81, 0x08]), "oversized", /fields exceeds/],
  ];
  it.each(cases)("rejects %s", (_title, bytes, kind, detail) => {
    const result = decodeMessage(bytes);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe(kind);
    expect(result.error.detail).toMatch(detail);
  });

  it("rejects oversized input and nesting past the limit", () => {
    const small = { ...messageLimits, messageBytesMax: 8, nestingDepthMax: 2 };
    const tooBig = decodeMessage(encodeMessage(message({ text: "0123456789" })), small);
    expect(tooBig.ok === false && tooBig.error.kind).toBe("oversized");
    const deep = encodeMessage(message({ a: message({ b: message({ c: 1n }) }) }));
    const tooDeep = decodeMessage(deep, { ...messageLimits, nestingDepthMax: 2 });
    expect(tooDeep.ok === false && tooDeep.error.kind).toBe("oversized");
  });

  it("encodes small values compactly", () => {
    expect(encodeMessage(message({ a: 1n }))).toEqual(new Uint8Array([1, 1, 1, 0x61, 2, 2]));
    expect(encodeMessage(message({ a: -1n }))).toEqual(new Uint8Array([1, 1, 1, 0x61, 2, 1]));
    expect(encodeMessage(message({ a: float(1) })).length).toBe(13);
    expect(encodeMessage(message({ a: string("hi") }))).toEqual(new Uint8Array([1, 1, 1, 0x61, 1, 2, 0x68, 0x69]));
  });
});
