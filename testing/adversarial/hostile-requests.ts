/**
 * fast-check arbitraries for session requests with hostile field values: every request type,
 * each field either well-formed, of a wrong type, out of range, missing, or bytes msgpackr
 * would never write (deep nesting, huge maps, NaN, integers past 64 bits, extension types),
 * plus unknown fields. Shared by the session fuzz over a fake connection and the live one.
 */
import fc from "fast-check";
import { Packr } from "msgpackr";
import { encodeMessage } from "../../src/protocols/persistence/message-codec.js";
import { limits } from "../../src/kernel/limits.js";
import { message } from "../../src/protocols/persistence/message.js";
import { checksum } from "../../src/wire/checksum.js";
import { encodeFrame } from "../../src/wire/frame.js";
import { bigintExtension, float64, nestedArrays, packWithRaw, raw, uint64, wideMap } from "../../src/wire/msgpack-test-support.js";
import { decodeSessionRequest, sessionProtocolVersion } from "../../src/wire/session-codec.js";

const packr = new Packr({ useRecords: false });

/** A value msgpackr cannot or will not write, spliced in as bytes by `packHostile`. */
export class RawValue {
  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
  ) {}
}

export interface HostileRequest {
  /** Field values, RawValue among them; `requestId` is only here when it is itself hostile. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export const rawValues: fc.Arbitrary<RawValue> = fc.oneof(
  fc.integer({ min: 65, max: 3000 }).map((depth) => new RawValue(nestedArrays(depth), `${depth} nested arrays`)),
  fc.integer({ min: 1025, max: 1100 }).map((entries) => new RawValue(wideMap(entries), `a map of ${entries} keys`)),
  fc.constantFrom(Number.NaN, Infinity, -Infinity).map((value) => new RawValue(float64(value), String(value))),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }).map((value) => new RawValue(uint64(value), `uint64 ${value}`)),
  fc.integer({ min: 9, max: 64 }).map((length) => new RawValue(bigintExtension(length), `a ${length}-byte bigint extension`)),
  fc.constant(new RawValue(new Uint8Array(packr.pack(new Date(0))), "a timestamp extension")),
  fc.constant(new RawValue(new Uint8Array([0xc1]), "the reserved byte 0xc1")),
);

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

/** Values msgpackr writes, of the wrong type or range for most fields. */
export const plainHostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, -1, 0.5, 2 ** 53, -(2 ** 53), "", "toString", "__proto__", "constructor", 2n ** 62n, -(2n ** 63n)),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  int64,
  fc.uint8Array({ maxLength: 12 }),
  fc.constant("x".repeat(70_000)),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 6 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxKeys: 4 }),
  fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 257, maxLength: 300 }),
);

const anyHostile = fc.oneof({ weight: 3, arbitrary: plainHostile }, { weight: 1, arbitrary: rawValues });

const encodedMessage = fc
  .record({ subject: fc.constantFrom("ORDERS.EU.new", "JOBS.build"), symbol: fc.constantFrom("ACME", "GLOBEX"), n: fc.bigInt({ min: 0n, max: 100n }) })
  .map((fields) => encodeMessage(message(fields)));
const messageBytes = fc.oneof(
  { weight: 4, arbitrary: encodedMessage },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(70_000)) },
);

const taggedValue = fc.oneof(
  fc.record({
    type: fc.constantFrom("int", "float", "string", "bool", "message", "timestamp", "nope"),
    value: fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.string({ maxLength: 4 }), fc.double(), fc.boolean(), fc.constant(null)),
  }),
  fc.record({
    type: fc.constant("array"),
    elementType: fc.constantFrom("int", "array", "x"),
    values: fc.array(fc.oneof(fc.record({ type: fc.constant("int"), value: int64 }), plainHostile), { maxLength: 3 }),
  }),
);
const fieldPath = fc.constantFrom("id", "customer.region", "subject", "", "a..b", "1x");
const fieldTest = fc.oneof(
  fc.record({ field: fieldPath, equals: fc.oneof(fc.string({ maxLength: 6 }), int64, fc.double(), fc.boolean(), taggedValue, anyHostile) }),
  fc.record({ field: fieldPath, present: fc.constantFrom(true, false, 1) }),
  fc.record({ field: fieldPath, absent: fc.constant(true) }),
  fc.record({ field: fieldPath, subject: fc.constantFrom("ORDERS.*", "A..B", ">") }),
  anyHostile,
);
const matcherSpec = fc.oneof(
  fc.constant(null),
  fc.record({ subject: fc.constantFrom("ORDERS.>", "A..B", "*", ""), subjectField: fc.constantFrom("subject", "kind", "") }, { requiredKeys: ["subject"] }),
  fc.record({ tests: fc.array(fieldTest, { maxLength: 3 }) }),
  fc.record({ tests: fc.array(fc.constant({ field: "id", present: true }), { minLength: 65, maxLength: 70 }) }),
  fc.record({ tests: fc.constant([]), extra: plainHostile }),
  anyHostile,
);

const subscriptionId = fc.integer({ min: 1, max: 4 });
const endpoint = fc.constantFrom("orders-in", "prices-in", "nowhere");
const mapName = fc.constantFrom("table", "billing", "nope");
const key = fc.constantFrom("ACME", "GLOBEX", "");

/** Well-formed values of each request type's fields (requestId aside: the sender numbers it). */
function validFields(credentials: { app: string; user: string; password: string }): Record<string, Record<string, fc.Arbitrary<unknown>>> {
  return {
    hello: {
      protocol: fc.constant(sessionProtocolVersion),
      client: fc.constant("fuzz"),
      app: fc.constant(credentials.app),
      user: fc.constant(credentials.user),
      password: fc.constant(credentials.password),
      purpose: fc.constantFrom(undefined, "home", "leader"),
    },
    publish: {
      endpoint,
      publisherId: fc.constantFrom("fuzz-1", "fuzz-2"),
      sequences: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
      messages: fc.array(messageBytes, { minLength: 1, maxLength: 4 }),
    },
    subscribe: {
      subscriptionId,
      endpoint,
      durable: fc.constantFrom("billing", "jobs", "fuzz-a", "fuzz-b", "table"),
      template: fc.constantFrom(null, "worker", "nope"),
      durableType: fc.constantFrom(null, "standard", "shared", "last-value"),
      matcher: matcherSpec,
      prefetch: fc.integer({ min: 1, max: 20 }),
    },
    unsubscribe: { subscriptionId },
    ack: { subscriptionId, sequences: fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 4 }) },
    credit: { subscriptionId, count: fc.integer({ min: 1, max: 10 }) },
    "map-get": { endpoint, map: mapName, key },
    "map-set": { endpoint, map: mapName, key, message: messageBytes },
    "map-remove": { endpoint, map: mapName, key },
    "map-iterate": { endpoint, map: mapName, afterKey: fc.constantFrom("", "A"), countMax: fc.integer({ min: 1, max: 10_000 }) },
    "bus-subscribe": { subscriptionId, subject: fc.constantFrom("ORDERS.>", "a..b", ">") },
    "bus-unsubscribe": { subscriptionId },
    "bus-publish": { subject: fc.constantFrom("ORDERS.EU", "a..b", "*"), replyTo: fc.constantFrom(null, "INBOX.1", ""), message: messageBytes },
    status: {},
    ping: { revision: fc.constantFrom(undefined, 0, 3, -1) },
    "realm-status": {
      number: fc.integer({ min: 0, max: 3 }),
      hash: fc.constantFrom("abc", ""),
      test: fc.boolean(),
      status: fc.constantFrom("running", "needs-restart", "exception", "other"),
      detail: fc.constantFrom("", "x".repeat(2000)),
    },
  };
}

const missing = Symbol("missing");

export function hostileRequests(credentials: { app: string; user: string; password: string }): fc.Arbitrary<HostileRequest> {
  const types = validFields(credentials);
  const field = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 12, arbitrary: valid },
      { weight: 2, arbitrary: plainHostile },
      { weight: 1, arbitrary: rawValues },
      { weight: 1, arbitrary: fc.constant(missing) },
    );
  const unknownType = fc.constantFrom("nope", "toString", "__proto__");
  const type = fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...Object.keys(types)) }, { weight: 1, arbitrary: unknownType });
  return type.chain((name) => {
    const valid = types[name] ?? {};
    return fc
      .record({
        type: fc.oneof({ weight: 30, arbitrary: fc.constant<unknown>(name) }, { weight: 1, arbitrary: anyHostile }),
        fields: fc.record(Object.fromEntries(Object.entries(valid).map(([fieldName, arbitrary]) => [fieldName, field(arbitrary)]))),
        extra: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), anyHostile, { maxKeys: 3 }), { freq: 4 }),
        requestId: fc.option(anyHostile, { freq: 6 }),
      })
      .map(({ type: typeValue, fields, extra, requestId }) => {
        const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== missing));
        return { fields: { ...(extra ?? {}), ...present, type: typeValue, ...(requestId === null ? {} : { requestId }) } };
      });
  });
}

/** The request's bytes; `requestId` numbers it unless its own requestId is hostile. */
export function packHostile(request: HostileRequest, requestId: number): Uint8Array {
  const replacements: Record<string, Uint8Array> = {};
  let count = 0;
  const swap = (value: unknown, depth: number): unknown => {
    if (value instanceof RawValue) {
      const name = `r${count++}`;
      replacements[name] = value.bytes;
      return raw(name);
    }
    if (depth > 8 || value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
    if (Array.isArray(value)) return value.map((item) => swap(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, swap(item, depth + 1)]));
  };
  const fields = swap("requestId" in request.fields ? request.fields : { ...request.fields, requestId }, 0);
  return packWithRaw(fields, replacements);
}

/** Request types the session answers when they decode (the others are fire and forget). */
export const answeredTypes: ReadonlySet<string> = new Set([
  "hello",
  "publish",
  "subscribe",
  "unsubscribe",
  "ack",
  "map-get",
  "map-set",
  "map-remove",
  "map-iterate",
  "bus-subscribe",
  "status",
  "ping",
]);

/**
 * Frames the decoder refuses, each for a connection of its own (the stream is lost after one),
 * with the closing code the server must give (null: a random frame that happens to decode).
 */
export const brokenFrames: fc.Arbitrary<{ bytes: Uint8Array; code: string | null }> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((payload) => {
    const frame = encodeFrame(payload);
    new DataView(frame.buffer).setUint32(4, (checksum(payload) + 1) >>> 0);
    return { bytes: frame, code: "checksum-mismatch" };
  }),
  fc.integer({ min: limits.frameBytesMax, max: 2 ** 32 - 1 }).map((length) => {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, length);
    return { bytes: header, code: "frame-too-large" };
  }),
  // An oversized frame actually on its way, not only announced.
  fc.constant({ bytes: new Uint8Array(64 * 1024).fill(0xff), code: "frame-too-large" }),
  // A whole frame of random bytes: not msgpack (almost always), so closed as malformed.
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((payload) => {
    const decoded = decodeSessionRequest(payload);
    return { bytes: encodeFrame(payload), code: !decoded.ok && decoded.fatal ? "malformed" : null };
  }),
);
