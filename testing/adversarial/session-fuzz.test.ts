/**
 * The session fuzz, pure half: hostile requests of every type (hostile-requests.ts) against the
 * session codec and against a real Session over a fake connection (fake-session-host.ts), each
 * checked by answer-check.ts. The live half is live-server-fuzz.test.ts.
 */
import fc from "fast-check";
import { Packr } from "msgpackr";
import { beforeAll, describe, expect, it } from "vitest";
import type { RealmDefinition } from "../../src/realm/schema.js";
import { decodeSessionRequest, sessionProtocolVersion } from "../../src/wire/session-codec.js";
import { waitFor } from "../process/wait-for.js";
import { answerTo, sendChecked } from "./answer-check.js";
import { fakeCredentials, fakeHost, fakeRealm, InstantService, openSession, recordingLogger, settle, type FakeConnection } from "./fake-session-host.js";
import { hostileRequests, packHostile } from "./hostile-requests.js";

const packr = new Packr({ useRecords: false });
const requests = hostileRequests(fakeCredentials);
let realm: RealmDefinition;

beforeAll(async () => {
  realm = await fakeRealm();
});

/**
 * Waits (bounded) until `done` holds or the session closed: a few event-loop turns settle
 * everything but hello, whose scrypt runs on the thread pool.
 */
function until(connection: FakeConnection): (done: () => boolean) => Promise<void> {
  return async (done) => {
    const finished = (): boolean => done() || connection.closeReason !== null;
    for (let turn = 0; turn < 20 && !finished(); turn += 1) await settle();
    if (!finished()) await waitFor(finished, 5000);
    await settle();
  };
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
        const { connection } = openSession(fakeHost(realm, new InstantService(realm), recordingLogger([])));
        if (authenticate) {
          connection.send(packr.pack({ type: "hello", requestId: 1, protocol: sessionProtocolVersion, client: "fuzz", ...fakeCredentials }));
          await until(connection)(() => answerTo(connection, 1) !== undefined);
          expect(answerTo(connection, 1)).toMatchObject({ type: "welcome" });
        }
        for (const [index, request] of hostile.entries()) {
          if (connection.closeReason !== null) break;
          const authenticated = connection.received.some((response) => response.type === "welcome");
          // Probe ids far from the small ones the requests themselves may carry.
          await sendChecked(connection, packHostile(request, 1_000 + index), Number.MAX_SAFE_INTEGER - index, { authenticated, until: until(connection) });
        }
      }),
      { numRuns: 300, endOnFailure: true },
    );
  });
});
