/**
 * The session fuzz, live half: one `holdfast server` process (a one-service cluster, so it
 * leads) takes hostile requests and broken frames on its client port while a real client
 * library publisher keeps publishing with confirms. Every hostile frame gets an answer (an
 * error, or a closing frame with a typed code), the process stays up, and every publish
 * confirms. The pure half, with many more runs, is session-fuzz.test.ts.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import type { ConnectionEvent } from "../../src/client/connection.js";
import { nestedArrays, packWithRaw, raw } from "../../src/wire/msgpack-test-support.js";
import { logEntries } from "../process/child-process.js";
import { RealmCluster, testCredentials } from "../process/realm-cluster.js";
import { sendChecked } from "./answer-check.js";
import { brokenFrames, hostileRequests, packHostile } from "./hostile-requests.js";
import { SessionProbe } from "./session-probe.js";

let cluster: RealmCluster;
let address: string;
let client: Connection;

beforeAll(async () => {
  cluster = await RealmCluster.start({ mode: "process", serverCount: 1, keepLogLines: 20_000 });
  await cluster.waitForLeader(60_000);
  address = cluster.addresses[0] as string;
  client = await connect({ servers: [address], ...testCredentials });
}, 90_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

const serverUp = (): boolean => {
  const child = cluster.children.get("s1");
  return child !== undefined && child.exitCode === null && child.signalCode === null;
};

const confirmsOne = async (n: number): Promise<void> => {
  const confirm = await client.publisher("orders-in").publish({ subject: "ORDERS.EU.new", n: BigInt(n) });
  expect(confirm.ackPoint).toBe("quorum-fsync");
};

describe("one authenticated frame", () => {
  it("a subscribe whose matcher is nested 2,000 deep is refused, and the server keeps serving", async () => {
    const attacker = await SessionProbe.open(address, testCredentials);
    const matcher = { tests: [{ field: "region", equals: raw("deep") }] };
    const subscribe = { type: "subscribe", requestId: 2, subscriptionId: 1, endpoint: "orders-in", durable: "deep", template: "worker", prefetch: 1 };
    attacker.send(packWithRaw({ ...subscribe, durableType: null, matcher }, { deep: nestedArrays(2000) }));
    expect(await attacker.answer(2)).toMatchObject({ type: "error", code: "invalid-matcher", message: expect.stringContaining("nested deeper than") });
    expect(serverUp()).toBe(true);
    await confirmsOne(0);
    attacker.close();
  });
});

describe("hostile frames on the client port", () => {
  it("each gets an answer, the server stays up, and a real publisher's confirms all arrive", async () => {
    const events: ConnectionEvent[] = [];
    client.on((event) => events.push(event));
    let fuzzing = true;
    let confirmed = 0;
    const publishing = (async () => {
      for (let n = 1; n <= 2000 && (fuzzing || confirmed < 50); n += 1) {
        await confirmsOne(n);
        confirmed += 1;
      }
    })();
    const requests = hostileRequests(testCredentials);
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(requests, { minLength: 1, maxLength: 5 }), brokenFrames, fc.boolean(), async (hostile, broken, authenticated) => {
        const attacker = await SessionProbe.open(address, testCredentials);
        for (const [index, request] of hostile.entries()) {
          if (attacker.closeReason !== null) break;
          const until = (done: () => boolean) => attacker.until(done);
          await sendChecked(attacker, packHostile(request, 1_000 + index), Number.MAX_SAFE_INTEGER - index, { authenticated: true, until });
          frames += 1;
        }
        attacker.close();
        const breaker = await SessionProbe.open(address, authenticated ? testCredentials : null);
        breaker.sendBytes(broken.bytes);
        frames += 1;
        if (broken.code === null) return breaker.close();
        await breaker.closed();
        expect(breaker.closing?.code, JSON.stringify(breaker.received)).toBe(broken.code);
      }),
      { numRuns: 60, endOnFailure: true },
    );
    fuzzing = false;
    await publishing;
    expect(frames).toBeGreaterThan(100);
    expect(serverUp()).toBe(true);
    expect(confirmed).toBeGreaterThanOrEqual(50);
    expect(events.filter((event) => event.type === "disconnect")).toEqual([]);
    expect(logEntries(cluster.logLines).length, "the server's log is JSON lines").toBeGreaterThan(0);
    expect(logEntries(cluster.logLines).filter((entry) => entry.msg.includes(" request failed, closing the session"))).toEqual([]);
  });
});
