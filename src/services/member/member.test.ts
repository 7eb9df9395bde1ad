import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FramedConnection } from "../../adapters/node/framed-connection.js";
import { dialHandshake } from "../../adapters/node/handshake.js";
import { silentLogger, type Logger } from "../../adapters/node/logger.js";
import { ClusterClient } from "../../client/cluster-client.js";
import { encodeFrame } from "../../wire/frame.js";
import { freePort } from "../../../testing/process/free-port.js";
import type { ClusterFile } from "./cluster-file.js";
import { startMember, type RunningMember } from "./member.js";

/** A one-member cluster in this process: real TCP, real files, forms alone. */
describe("member client port: bad input is refused, everyone else keeps being served", () => {
  let directory: string;
  let member: RunningMember;
  let cluster: ClusterFile;
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "holdfast-member-"));
    cluster = {
      name: "solo",
      secret: "correct horse battery",
      members: [{ id: "a", weight: 1, host: "127.0.0.1", peerPort: await freePort(), clientPort: await freePort() }],
      timing: {},
    };
    member = await startMember({ cluster, id: "a", dataDirectory: directory, log, recordCommandsMax: 1000 });
  });

  afterAll(async () => {
    await member.stop({ graceful: false });
    rmSync(directory, { recursive: true, force: true });
  });

  const client = (secret = cluster.secret): ClusterClient => new ClusterClient({ members: cluster.members, secret, requestTimeoutMs: 5000 });

  it("commits proposals from a well-behaved client", async () => {
    const good = client();
    const committed = await good.propose(new TextEncoder().encode("hello"));
    expect(committed.index).toBeGreaterThan(0);
    good.close();
  });

  it("refuses a client with the wrong secret, and keeps serving others", async () => {
    const impostor = client("not the secret at all");
    await expect(impostor.status("a")).rejects.toThrow(/handshake|closed|secret/i);
    impostor.close();
    const good = client();
    expect((await good.status("a")).status.id).toBe("a");
    good.close();
  });

  it("closes a connection that sends garbage or an oversized frame, naming why, and keeps serving others", async () => {
    for (const bytes of [Buffer.from("GET / HTTP/1.1\r\n\r\n"), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]) {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port: member.clientPort }, () => socket.write(bytes));
        socket.on("close", () => resolve(true));
        socket.on("error", () => undefined);
        setTimeout(() => {
          socket.destroy();
          resolve(false);
        }, 3000);
      });
      expect(closed).toBe(true);
    }
    const good = client();
    const committed = await good.propose(new TextEncoder().encode("still serving"));
    expect(committed.index).toBeGreaterThan(0);
    good.close();
  });

  it("closes an authenticated connection whose request is malformed, naming the field", async () => {
    const good = client();
    await good.status("a");
    const before = warnings.length;
    // The client library never sends a malformed request: authenticate a raw framed socket.
    const socket = connect({ host: "127.0.0.1", port: member.clientPort });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const connection = new FramedConnection(socket, 1 << 20);
    const result = await dialHandshake(connection, { selfId: "client:raw", peerId: "a", secret: cluster.secret, timeoutMs: 2000 });
    expect(result.ok).toBe(true);
    const closedReason = new Promise<string>((resolve) => connection.onClose(resolve));
    connection.write([encodeFrame(new Packr({ useRecords: false }).pack({ type: "propose", requestIds: [1], payloads: ["not bytes"] }))]);
    const reason = await closedReason;
    expect(reason.length).toBeGreaterThan(0);
    expect(warnings.slice(before).join("\n")).toContain("propose.payloads: expected an array of byte strings");
    const committed = await good.propose(new TextEncoder().encode("others unaffected"));
    expect(committed.index).toBeGreaterThan(0);
    good.close();
  });
});
