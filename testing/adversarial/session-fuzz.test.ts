/**
 * The session fuzz, pure half: hostile requests of every type (hostile-requests.ts) against the
 * session codec and against a real Session over a fake connection (fake-session-host.ts).
 * Every request is answered as its decoding says (an error with the decoder's code, a closing
 * when the frame is not a msgpack map, an answer when it decodes and its type answers), no
 * handler ever fails with `internal`, and a probe after each request is still answered.
 * The live half is live-server-fuzz.test.ts.
 */
import fc from "fast-check";
import { Packr } from "msgpackr";
import { beforeAll, describe, expect, it } from "vitest";
import type { RealmDefinition } from "../../src/realm/schema.js";
import { decodeSessionRequest, sessionProtocolVersion, type SessionResponse } from "../../src/wire/session-codec.js";
import { waitFor } from "../process/wait-for.js";
import { fakeCredentials, fakeHost, fakeRealm, InstantService, openSession, recordingLogger, settle, type FakeConnection } from "./fake-session-host.js";
import { answeredTypes, hostileRequests, packHostile } from "./hostile-requests.js";

const packr = new Packr({ useRecords: false });
const requests = hostileRequests(fakeCredentials);
let realm: RealmDefinition;

beforeAll(async () => {
  realm = await fakeRealm();
});

const answerTo = (connection: FakeConnection, requestId: number): SessionResponse | undefined => connection.received.find((response) => "requestId" in response && response.requestId === requestId);
const closing = (connection: FakeConnection) => connection.received.find((response) => response.type === "closing");

/**
 * Waits (bounded) until `done` holds or the session closed: a few event-loop turns settle
 * everything but hello, whose scrypt runs on the thread pool.
 */
async function until(connection: FakeConnection, done: () => boolean): Promise<void> {
  const finished = (): boolean => done() || connection.closeReason !== null;
  for (let turn = 0; turn < 20 && !finished(); turn += 1) await settle();
  if (!finished()) await waitFor(finished, 5000);
  await settle();
}

/** Sends one hostile request and checks it is answered as its decoding says. */
async function sendAndCheck(connection: FakeConnection, bytes: Uint8Array, probeId: number, authenticated: boolean): Promise<void> {
  const decoded = decodeSessionRequest(bytes);
  const before = connection.received.length;
  const fresh = (requestId: number): SessionResponse | undefined => connection.received.slice(before).find((response) => "requestId" in response && response.requestId === requestId);
  connection.send(bytes);
  connection.send(packr.pack({ type: "ping", requestId: probeId }));
  // A request numbers its own answer; ack with requestId 0 and the fire-and-forget types have none.
  const answerId = decoded.ok ? ("requestId" in decoded.value ? decoded.value.requestId : 0) : decoded.requestId;
  const answers = answerId >= 1 && (!decoded.ok || answeredTypes.has(decoded.value.type));
  await until(connection, () => fresh(probeId) !== undefined && (!answers || fresh(answerId) !== undefined));
  const context = `request ${Buffer.from(bytes.subarray(0, 200)).toString("hex")}; received ${JSON.stringify(connection.received.slice(-4), (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value))}`;
  expect(connection.received.filter((response) => (response.type === "error" || response.type === "closing") && response.code === "internal"), context).toEqual([]);
  if (!decoded.ok && decoded.fatal) {
    expect(closing(connection), context).toMatchObject({ code: "malformed" });
    return;
  }
  if (!decoded.ok) {
    if (answers) expect(fresh(answerId), context).toMatchObject({ type: "error", code: decoded.code });
  } else if (!authenticated && decoded.value.type !== "hello") {
    expect(closing(connection), context).toBeDefined();
    return;
  } else if (answers) {
    expect(fresh(answerId) ?? closing(connection), context).toBeDefined();
  }
  if (connection.closeReason === null) expect(fresh(probeId), context).toEqual({ type: "ok", requestId: probeId });
}

describe("the session codec on hostile requests", () => {
  it("never throws, on hostile structures or on any bytes", () => {
    fc.assert(
      fc.property(fc.oneof(requests.map((request) => packHostile(request, 7)), fc.uint8Array({ maxLength: 80 })), (bytes) => {
        const decoded = decodeSessionRequest(bytes);
        if (!decoded.ok) expect(decoded.error.length).toBeLessThan(2000);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("a session fed hostile requests", () => {
  it("answers every one as its decoding says, never fails inside, and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(requests, { minLength: 1, maxLength: 6 }), async (authenticate, hostile) => {
        const service = new InstantService(realm);
        const { connection } = openSession(fakeHost(realm, service, recordingLogger([])));
        if (authenticate) {
          connection.send(packr.pack({ type: "hello", requestId: 1, protocol: sessionProtocolVersion, client: "fuzz", ...fakeCredentials }));
          await until(connection, () => answerTo(connection, 1) !== undefined);
          expect(answerTo(connection, 1)).toMatchObject({ type: "welcome" });
        }
        for (const [index, request] of hostile.entries()) {
          if (connection.closeReason !== null) break;
          const welcomed = connection.received.some((response) => response.type === "welcome");
          // Probe ids far from the small ones the requests themselves may carry.
          await sendAndCheck(connection, packHostile(request, 1_000 + index), Number.MAX_SAFE_INTEGER - index, welcomed);
        }
      }),
      { numRuns: 300, endOnFailure: true },
    );
  });
});
