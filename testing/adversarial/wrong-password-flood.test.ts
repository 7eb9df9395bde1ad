/**
 * A flood of wrong passwords at the production scrypt cost: a real publisher's confirms keep
 * coming (password checks run in workers of their own, not in the pool the WAL's fsync uses),
 * every refused hello hears a typed reason, and the attacking address is backed off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import { limits } from "../../src/kernel/limits.js";
import { wrongHellos } from "./attacks.js";
import { LoneServer, publisherCredentials } from "./lone-server.js";
import { keepPublishing } from "./publish-loop.js";
import { RawClient } from "./raw-client.js";

let server: LoneServer;
let client: Connection;

beforeAll(async () => {
  server = await LoneServer.start();
  // Requests fail after 5 s: a publish stalled behind the flood counts as a failure.
  client = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 5000 });
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe("a flood of wrong passwords", () => {
  it("does not stall a real publisher; every refused hello gets a typed reason; the attackers are backed off", async () => {
    const loop = keepPublishing(client);
    // 100 wrong hellos at once, from 4 addresses (each under its cap on connections), until
    // every address is backed off (bounded: 45 s; about 10 s here, longer on a loaded machine,
    // where each of the 40 checks the budgets take costs more than its 0.25 s of scrypt).
    const sources = Array.from({ length: 4 }, (_, n) => `127.0.0.${n + 2}`);
    const codes = new Map<string, (string | undefined)[]>(sources.map((source) => [source, []]));
    const attackEndsMs = Date.now() + 45_000;
    const backedOff = (): boolean => [...codes.values()].every((refused) => refused.includes("backed-off"));
    // A new client (the real user, from an address that did not fail) logs in during the flood:
    // the attackers used its user name, and it may be told `busy` and wait, but it gets in.
    let newcomer: Promise<Connection> | undefined;
    try {
      while (!backedOff() && Date.now() < attackEndsMs) {
        const round = Promise.all(sources.map((source) => wrongHellos(server.clientPort, 25, source, publisherCredentials)));
        newcomer ??= connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 10_000 });
        (await round).forEach((refused, at) => codes.get(sources[at] as string)?.push(...refused));
      }
      (await newcomer)?.close();
    } finally {
      const result = await loop.stop();
      expect(result.failures).toEqual([]);
      expect(result.confirmed).toBeGreaterThan(0);
    }
    const all = [...codes.values()].flat();
    expect(all.filter((code) => code === undefined)).toEqual([]);
    // A few at a time are checked (busy past that, or, on a loaded machine, past the hello
    // deadline while queued), then each address is backed off.
    expect(all).toContain("unauthenticated");
    expect(all).toContain("busy");
    expect([...new Set(all)].filter((code) => !["unauthenticated", "busy", "backed-off", "hello-timeout"].includes(code as string))).toEqual([]);
    for (const [source, refused] of codes) {
      expect(refused, source).toContain("backed-off");
      // Only the budget's worth was checked with scrypt, plus those in flight when it ran out.
      const checked = refused.filter((code) => code === "unauthenticated").length;
      expect(checked, source).toBeLessThanOrEqual(limits.loginFailuresPerAddressMax + limits.passwordChecksPerAddressMax);
    }
    expect(server.running).toBe(true);
  }, 90_000);

  it("a backed-off address is refused with a retry-after hint, without a password check", async () => {
    const attacker = await RawClient.open(server.clientPort, "127.0.0.2");
    attacker.hello({ ...publisherCredentials, password: "not-the-password" });
    await attacker.closed();
    expect(attacker.refusalCode).toBe("backed-off");
    expect(attacker.retryAfterMs).toBeGreaterThan(0);
  });
});
