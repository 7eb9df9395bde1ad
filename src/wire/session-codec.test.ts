import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { limits } from "../kernel/limits.js";
import { nestedArrays, packWithRaw, raw, wideMap, float64 } from "./msgpack-test-support.js";
import { decodeSessionRequest, encodeSessionMessage } from "./session-codec.js";

const packr = new Packr({ useRecords: false });
const subscribe = { type: "subscribe", subscriptionId: 1, endpoint: "orders-in", durable: "eu", template: null, durableType: null, prefetch: 8 };

describe("decodeSessionRequest on hostile requests", () => {
  it("answers a matcher nested 2,000 deep with invalid-matcher to its request, without unpacking it", () => {
    const bytes = packWithRaw({ ...subscribe, matcher: { tests: [{ field: "x", equals: raw("deep") }] }, requestId: 9 }, { deep: nestedArrays(2000) });
    const decoded = decodeSessionRequest(bytes);
    expect(decoded).toMatchObject({ ok: false, fatal: false, code: "invalid-matcher", requestId: 9 });
    expect(!decoded.ok && decoded.error).toMatch(/^subscribe\.matcher\.tests\[0\]\.equals(\[0\])+.*: nested deeper than 64 levels/);
  });

  it("refuses a map of more than 65,535 keys and NaN where they sit, without closing the connection", () => {
    expect(decodeSessionRequest(packWithRaw({ type: "status", requestId: 3, extra: raw("wide") }, { wide: wideMap(65_536) }))).toMatchObject({
      ok: false,
      fatal: false,
      code: "malformed",
      requestId: 3,
      error: `status.extra: a map of 65536 entries; at most ${limits.sessionRequestMapEntriesMax}`,
    });
    const matcher = { tests: [{ field: "price", equals: raw("nan") }] };
    const nan = decodeSessionRequest(packWithRaw({ ...subscribe, requestId: 4, matcher }, { nan: float64(Number.NaN) }));
    const error = "subscribe.matcher.tests[0].equals: NaN is not accepted; send a finite number";
    expect(nan).toMatchObject({ ok: false, code: "invalid-matcher", requestId: 4, error });
  });

  it("takes a request type that names an Object.prototype member as unknown, not as a crash", () => {
    for (const type of ["toString", "constructor", "hasOwnProperty", "__proto__", "valueOf"]) {
      const decoded = decodeSessionRequest(packr.pack({ type, requestId: 5 }));
      expect(decoded).toMatchObject({ ok: false, fatal: false, code: "malformed", requestId: 5, error: expect.stringContaining("unknown request type") });
    }
  });

  it("refuses a publish of more messages than one request carries, naming the limit", () => {
    const publish = (count: number) => {
      const sequences = Array.from({ length: count }, (_, n) => n + 1);
      const messages = Array.from({ length: count }, () => new Uint8Array([1, 0]));
      return decodeSessionRequest(packr.pack({ type: "publish", requestId: 6, endpoint: "orders-in", publisherId: "p", sequences, messages }));
    };
    expect(publish(limits.publishItemsPerRequestMax)).toMatchObject({ ok: true });
    const error = "publish: 300 messages in one request; at most 256 (publishItemsPerRequestMax): send fewer per request";
    expect(publish(300)).toEqual({ ok: false, fatal: false, code: "too-large", requestId: 6, error });
  });

  it("closes on a frame that is not one msgpack map, and cuts a huge unknown type short", () => {
    expect(decodeSessionRequest(new Uint8Array([0xc1]))).toMatchObject({ ok: false, fatal: true, code: "malformed" });
    expect(decodeSessionRequest(packr.pack([1, 2, 3]))).toMatchObject({ ok: false, fatal: true });
    expect(decodeSessionRequest(packWithRaw([raw("nan")], { nan: float64(Number.NaN) }))).toMatchObject({ ok: false, fatal: true });
    const long = decodeSessionRequest(packr.pack({ type: "x".repeat(100_000), requestId: 1 }));
    expect(!long.ok && long.error.length).toBeLessThan(400);
  });

  it("still decodes what the client library sends", () => {
    const request = { ...subscribe, requestId: 2, matcher: { subject: "ORDERS.>", tests: [{ field: "id", equals: 5n }, { field: "price", equals: 9.5 }] } };
    const decoded = decodeSessionRequest(encodeSessionMessage(request as never));
    expect(decoded).toMatchObject({ ok: true, value: { type: "subscribe", matcher: { tests: [{ equals: 5n }, { equals: 9.5 }] } } });
  });
});
