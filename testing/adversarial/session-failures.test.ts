/**
 * One session's failure stays with that session: a request whose handling throws, a hostile
 * matcher, a frame error. The real Session over a fake connection (fake-session-host.ts).
 */
import { Packr } from "msgpackr";
import { beforeAll, describe, expect, it } from "vitest";
import { AssertionError } from "../../src/kernel/assert.js";
import { encodeMessage } from "../../src/protocols/persistence/message-codec.js";
import { message } from "../../src/protocols/persistence/message.js";
import type { RealmDefinition } from "../../src/realm/schema.js";
import type { SessionHost } from "../../src/services/server/session.js";
import { nestedArrays, packWithRaw, raw } from "../../src/wire/msgpack-test-support.js";
import { sessionProtocolVersion, type SessionResponse } from "../../src/wire/session-codec.js";
import { waitFor } from "../process/wait-for.js";
import { answerTo, closingOf } from "./answer-check.js";
import { fakeCredentials, fakeHost, fakeRealm, InstantService, openSession, recordingLogger, settle, type FakeConnection } from "./fake-session-host.js";

const packr = new Packr({ useRecords: false });
let realm: RealmDefinition;

beforeAll(async () => {
  realm = await fakeRealm();
});

function setUp(): { host: SessionHost; service: InstantService; log: string[] } {
  const log: string[] = [];
  const service = new InstantService(realm);
  return { host: fakeHost(realm, service, recordingLogger(log)), service, log };
}

async function welcomed(host: SessionHost): Promise<FakeConnection> {
  const { connection } = openSession(host);
  connection.send(packr.pack({ type: "hello", requestId: 1, protocol: sessionProtocolVersion, client: "c", ...fakeCredentials }));
  await waitFor(() => connection.received.some((response) => response.type === "welcome"));
  return connection;
}

/** Waits (bounded) for the answer to `requestId`, or for the session to close. */
async function answered(connection: FakeConnection, requestId: number): Promise<SessionResponse | undefined> {
  await waitFor(() => answerTo(connection, requestId) !== undefined || connection.closeReason !== null, 2000);
  await settle();
  return answerTo(connection, requestId);
}
const closing = closingOf;
const publish = (requestId: number) => {
  const messages = [encodeMessage(message({ n: BigInt(requestId) }))];
  return packr.pack({ type: "publish", requestId, endpoint: "orders-in", publisherId: "p", sequences: [requestId], messages });
};

describe("a request whose handling throws", () => {
  it("closes only its own session, with an internal error to the request and one log line", async () => {
    const { host, service, log } = setUp();
    const failing = await welcomed(host);
    const other = await welcomed(host);
    service.failWith = new TypeError("the store went away");
    failing.send(publish(7));
    expect(await answered(failing, 7)).toMatchObject({ type: "error", code: "internal", message: expect.stringContaining("publish request") });
    expect(closing(failing)).toMatchObject({ code: "internal" });
    expect(failing.closeReason).not.toBeNull();
    const logged = /^error session s1-\d+ \(tester@127\.0\.0\.1:50000\): publish request failed, closing the session: TypeError: the store went away$/;
    expect(log.filter((line) => line.startsWith("error"))).toEqual([expect.stringMatching(logged)]);

    service.failWith = null;
    other.send(publish(8));
    expect(await answered(other, 8)).toMatchObject({ type: "published", statuses: ["stored"] });
    expect(other.closeReason).toBeNull();
  });

  it("fails the same way when the throw comes after an await (subscribe, map writes)", async () => {
    const { host, service } = setUp();
    const connection = await welcomed(host);
    service.failWith = new RangeError("Maximum call stack size exceeded");
    const value = encodeMessage(message({ symbol: "ACME" }));
    connection.send(packr.pack({ type: "map-set", requestId: 5, endpoint: "prices-in", map: "table", key: "ACME", message: value }));
    expect(await answered(connection, 5)).toMatchObject({ type: "error", code: "internal" });
    expect(closing(connection)).toMatchObject({ code: "internal" });
  });

  it("still ends the process on a broken invariant (an assertion is a programmer error)", async () => {
    const { host, service } = setUp();
    const connection = await welcomed(host);
    service.failWith = new AssertionError("an invariant broke");
    expect(() => connection.send(publish(9))).toThrow(AssertionError);
  });
});

describe("matchers from clients", () => {
  const subscribe = (requestId: number, matcher: unknown) => {
    const durable = `d${requestId}`;
    const fields = { type: "subscribe", requestId, subscriptionId: requestId, endpoint: "orders-in", durable, template: "worker", durableType: null };
    return { ...fields, prefetch: 4, matcher };
  };

  it("a matcher nested 2,000 deep is answered invalid-matcher and never reaches the log", async () => {
    const { host, service } = setUp();
    const connection = await welcomed(host);
    connection.send(packWithRaw(subscribe(3, { tests: [{ field: "x", equals: raw("deep") }] }), { deep: nestedArrays(2000) }));
    expect(await answered(connection, 3)).toMatchObject({ type: "error", code: "invalid-matcher", message: expect.stringContaining("nested deeper than 64") });
    expect(service.proposed).toEqual([]);
    connection.send(packr.pack({ type: "ping", requestId: 4 }));
    expect(await answered(connection, 4)).toEqual({ type: "ok", requestId: 4 });
  });

  it("a spec that does not compile is refused at the session with its errors, not proposed", async () => {
    const { host, service } = setUp();
    const connection = await welcomed(host);
    connection.send(packr.pack(subscribe(3, { subject: "A..B", tests: [{ field: "x", equals: { type: "int", value: "5" } }] })));
    const errors = /^the matcher for durable "d3" is invalid: subject: .*; tests\[0\]\.equals: expected an int as a bigint, got a string$/;
    expect(await answered(connection, 3)).toMatchObject({ type: "error", code: "invalid-matcher", message: expect.stringMatching(errors) });
    expect(service.proposed).toEqual([]);
  });

  it("a valid one creates the durable from its compiled form", async () => {
    const { host, service } = setUp();
    const connection = await welcomed(host);
    connection.send(packr.pack(subscribe(3, { subject: "ORDERS.>", tests: [{ field: "id", equals: 5n }] })));
    expect(await answered(connection, 3)).toEqual({ type: "ok", requestId: 3 });
    expect(service.proposed).toMatchObject([{ type: "create-durable", durable: "d3" }]);
  });
});

describe("hostile frames before and after hello", () => {
  it("a request type named after an Object.prototype member is an error, not a crash", async () => {
    const { host } = setUp();
    const { connection } = openSession(host);
    connection.send(packr.pack({ type: "toString", requestId: 2 }));
    const message = expect.stringContaining('unknown request type "toString"');
    expect(await answered(connection, 2)).toMatchObject({ type: "error", code: "malformed", message });
  });

  it("a frame error is answered with a closing frame naming its code, and logged once", async () => {
    const { host, log } = setUp();
    const connection = await welcomed(host);
    connection.failFrame({ kind: "checksum-mismatch", payloadBytes: 10, expected: 1, actual: 2, message: "frame checksum mismatch on 10 payload bytes" });
    expect(closing(connection)).toEqual({ type: "closing", code: "checksum-mismatch", reason: "frame checksum mismatch on 10 payload bytes" });
    expect(log.filter((line) => line.includes("checksum-mismatch"))).toHaveLength(1);
  });

  it("an undecodable frame closes with code malformed", async () => {
    const { host } = setUp();
    const connection = await welcomed(host);
    connection.send(new Uint8Array([0xc1]));
    expect(closing(connection)).toMatchObject({ type: "closing", code: "malformed", reason: expect.stringContaining("reserved byte") });
  });
});
