/**
 * Partial frames before hello: a connection that has not authenticated must not make the
 * server buffer a large frame, nor hold a small one past the hello deadline. Against a real
 * server process; memory is the resident size the kernel reports for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import { limits } from "../../src/kernel/limits.js";
import { waitFor } from "../process/wait-for.js";
import { frameHeader, partialFrames } from "./attacks.js";
import { LoneServer, publisherCredentials } from "./lone-server.js";
import { keepPublishing, sleep } from "./publish-loop.js";
import { RawClient } from "./raw-client.js";

const mebibyte = 1024 * 1024;
let server: LoneServer;
let client: Connection;

beforeAll(async () => {
  server = await LoneServer.start();
  client = await connect({ servers: [server.clientAddress], ...publisherCredentials, requestTimeoutMs: 8000 });
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe("partial frames before hello", () => {
  it("40 connections sending most of a 16 MiB frame do not grow the server's memory, and hear why they were closed", async () => {
    const loop = keepPublishing(client);
    const baselineBytes = server.rssBytes();
    let peakBytes = baselineBytes;
    const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, server.rssBytes())), 50);
    // From two addresses, so that each stays under the per-address cap on connections.
    let attackers: RawClient[] = [];
    try {
      attackers = await partialFrames(server.clientPort, ["127.0.0.2", "127.0.0.4"], 20);
      await sleep(500);
      peakBytes = Math.max(peakBytes, server.rssBytes());
    } finally {
      clearInterval(sampler);
      for (const attacker of attackers) attacker.close();
    }
    const result = await loop.stop();
    expect(result.failures).toEqual([]);
    expect(result.confirmed).toBeGreaterThan(0);
    // Generous bounds: 40 buffered frames would be 640 MiB.
    expect(peakBytes - baselineBytes).toBeLessThan(128 * mebibyte);
    // Each is told why; the reason can still be lost to the reset when the attacker does not
    // read it within the server's linger (a loaded machine), so nearly all, and never another.
    const codes = attackers.map((attacker) => attacker.refusalCode);
    expect(new Set(codes.filter((code) => code !== undefined))).toEqual(new Set(["frame-too-large"]));
    expect(codes.filter((code) => code === "frame-too-large").length).toBeGreaterThanOrEqual(36);
    await sleep(1000);
    expect(server.rssBytes() - baselineBytes).toBeLessThan(64 * mebibyte);
    expect(server.running).toBe(true);
  });

  it("small partial frames are dropped at the hello deadline, with that reason", async () => {
    const attackers = await RawClient.openMany(server.clientPort, limits.unauthenticatedConnectionsPerAddressMax, "127.0.0.3");
    try {
      // Each announces a frame under the small limit and then trickles it, a byte a second.
      const payloadBytes = limits.unauthenticatedFrameBytesMax / 2;
      for (const attacker of attackers) attacker.write(frameHeader(payloadBytes));
      const trickle = setInterval(() => {
        for (const attacker of attackers) attacker.write(new Uint8Array(1));
      }, 1000);
      try {
        await waitFor(() => attackers.every((attacker) => attacker.isClosed), limits.helloDeadlineMs + 5000);
      } finally {
        clearInterval(trickle);
      }
      expect(new Set(attackers.map((attacker) => attacker.refusalCode))).toEqual(new Set(["hello-timeout"]));
    } finally {
      for (const attacker of attackers) attacker.close();
    }
  });
});
