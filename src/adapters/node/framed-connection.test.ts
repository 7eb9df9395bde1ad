import { createServer, connect, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { limits } from "../../kernel/limits.js";
import { encodeFrame, FrameDecoder, frameHeaderBytes } from "../../wire/frame.js";
import { FramedConnection } from "./framed-connection.js";

const opened: { close(): void }[] = [];
afterEach(() => {
  for (const thing of opened.splice(0)) thing.close();
});

/** A listener on loopback whose every connection is a FramedConnection taking frames up to `frameBytesMax`, refusing larger ones with `farewell`. */
async function listen(frameBytesMax: number, farewell: Uint8Array): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server: Server = createServer((socket) => {
    accepted.push(socket);
    const connection = new FramedConnection(socket, frameBytesMax);
    connection.setFarewell(() => [farewell]);
    connection.setFrameHandler(() => {});
  });
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, accepted };
}

describe("a connection refused for a bad frame", () => {
  it("hears why, and cannot stream what it still sends through the server during the linger", async () => {
    const farewell = encodeFrame(new TextEncoder().encode("frame too large"));
    const { port, accepted } = await listen(1024, farewell);
    // Half-open allowed: an attacker that ignores the server's end and keeps sending.
    const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    opened.push({ close: () => client.destroy() });
    const decoder = new FrameDecoder(1024);
    const heard: string[] = [];
    client.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      for (let result = decoder.next(); result?.ok === true; result = decoder.next()) heard.push(new TextDecoder().decode(result.payload));
    });
    let clientClosed = false;
    client.on("error", () => {});
    client.on("close", () => (clientClosed = true));
    await new Promise((resolve) => client.once("connect", resolve));
    // A header announcing a frame over the bound, then up to 16 MiB more, as fast as the socket takes it.
    const header = new Uint8Array(frameHeaderBytes);
    new DataView(header.buffer).setUint32(0, 1_000_000);
    client.write(header);
    const chunk = new Uint8Array(1024 * 1024);
    const deadline = Date.now() + limits.refusedConnectionLingerMs + 5000;
    for (let sent = 0; sent < 16 && !clientClosed && Date.now() < deadline; sent += 1) {
      if (client.write(chunk)) continue;
      await Promise.race([new Promise((resolve) => client.once("drain", resolve)), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    while (accepted[0]?.destroyed !== true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(heard).toEqual(["frame too large"]);
    expect(accepted[0]?.destroyed).toBe(true);
    // The drain bound and the few reads already under way when it was crossed, not the 16 MiB sent.
    expect(accepted[0]?.bytesRead).toBeLessThan(1024 * 1024);
  });
});
