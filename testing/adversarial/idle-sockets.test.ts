/**
 * Connections that never say hello: they must not fill the server, must be timed out, and a
 * refused one must hear why. Against a real server process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/client.js";
import { limits } from "../../src/kernel/limits.js";
import { settle, waitFor } from "../process/wait-for.js";
import { LoneServer, publisherCredentials } from "./lone-server.js";
import { RawClient } from "./raw-client.js";

let server: LoneServer;

beforeAll(async () => {
  server = await LoneServer.start();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const unauthenticatedNow = async (): Promise<number | undefined> => (await server.status())?.admission?.unauthenticated;

describe("idle connections before hello", () => {
  it("4,200 idle sockets from one address do not lock out a client from another, and are closed with a typed reason", async () => {
    const attacker = await RawClient.openMany(server.clientPort, 4200, "127.0.0.2");
    const client = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 8000 });
    try {
      const confirm = await client.publisher("orders-in").publish({ subject: "ORDERS.EU.new", n: 1n });
      expect(confirm.storeSequence).toBeGreaterThan(0);
      // Past the per-address cap the attacker was refused at once; the connections the server
      // held are closed by the hello deadline. Each was told why, but for refusals past the
      // bound on refused connections lingering at once (dropped without a reason, to spare
      // file descriptors): at least that many heard it.
      // On a loaded machine some connects wait for a SYN retry and are accepted after the first
      // held ones timed out, and are held in turn: allow two deadlines.
      await waitFor(() => attacker.every((socket) => socket.isClosed), 2 * limits.helloDeadlineMs + 5000);
      const held = limits.unauthenticatedConnectionsPerAddressMax;
      const tally: Record<string, number> = {};
      for (const socket of attacker) tally[socket.refusalCode ?? "none"] = (tally[socket.refusalCode ?? "none"] ?? 0) + 1;
      const seen = `${JSON.stringify(tally)}\n${server.logLines.slice(-20).join("\n")}`;
      expect(Object.keys(tally).filter((code) => !["hello-timeout", "too-many-connections", "none"].includes(code)), seen).toEqual([]);
      const timedOut = tally["hello-timeout"] ?? 0;
      expect(timedOut, seen).toBeGreaterThanOrEqual(held);
      expect(tally["too-many-connections"] ?? 0, seen).toBeGreaterThanOrEqual(Math.min(attacker.length - timedOut, limits.refusedConnectionsLingeringMax));
      expect(await settle(unauthenticatedNow, (count) => count === 0)).toBe(0);
      expect((await server.status())?.sessions, server.logLines.slice(-20).join("\n")).toBe(1);
    } finally {
      for (const socket of attacker) socket.close();
      client.close();
    }
    expect(server.running).toBe(true);
  });

  it("past the server-wide cap a new client is refused at once with a typed reason, and gets in once the attacker left", async () => {
    // Enough sources that no one address reaches its own cap.
    const sources = Math.ceil((limits.unauthenticatedConnectionsMax + 1) / limits.unauthenticatedConnectionsPerAddressMax);
    const attacker: RawClient[] = [];
    try {
      for (let source = 0; source < sources; source += 1) {
        attacker.push(...(await RawClient.openMany(server.clientPort, limits.unauthenticatedConnectionsPerAddressMax, `127.0.0.${source + 3}`)));
      }
      await waitFor(() => attacker.filter((socket) => !socket.isClosed).length <= limits.unauthenticatedConnectionsMax, 5000);
      const failure = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 30_000 }).then(
        (connection) => {
          connection.close();
          return null;
        },
        (error: unknown) => error as { code?: string; message?: string },
      );
      expect(failure?.code).toBe("too-many-connections");
    } finally {
      for (const socket of attacker) socket.close();
    }
    expect(await settle(unauthenticatedNow, (count) => count === 0)).toBe(0);
    const client = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 8000 });
    client.close();
  });
});
