/**
 * A client-port connection that sends whatever bytes a test gives it (frames the client
 * library would never write, or no frame at all) and keeps every answer the server sends.
 */
import { connect as netConnect } from "node:net";
import { Packr } from "msgpackr";
import { FramedConnection } from "../../src/adapters/node/framed-connection.js";
import { limits } from "../../src/kernel/limits.js";
import { encodeFrame } from "../../src/wire/frame.js";
import { decodeSessionResponse, sessionProtocolVersion, type SessionResponse } from "../../src/wire/session-codec.js";
import { waitFor } from "../process/wait-for.js";
import { answerTo, closingOf } from "./answer-check.js";

const packr = new Packr({ useRecords: false });

export class SessionProbe {
  readonly received: SessionResponse[] = [];
  closeReason: string | null = null;

  private constructor(
    private readonly connection: FramedConnection,
    private readonly socket: import("node:net").Socket,
  ) {
    connection.setFrameHandler((payload) => {
      const decoded = decodeSessionResponse(payload);
      if (!decoded.ok) throw new Error(`the server sent an undecodable frame: ${decoded.error}`);
      this.received.push(decoded.value);
    });
    connection.onClose((reason) => {
      this.closeReason = reason;
    });
  }

  /** Connects (from `localAddress`: another loopback address is another source); with credentials, says hello and waits for the welcome. */
  static async open(address: string, credentials: { app: string; user: string; password: string } | null, localAddress?: string): Promise<SessionProbe> {
    const at = address.lastIndexOf(":");
    const socket = netConnect({ host: address.slice(0, at), port: Number(address.slice(at + 1)), ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    const client = new SessionProbe(new FramedConnection(socket, limits.frameBytesMax), socket);
    if (credentials !== null) {
      client.send(packr.pack({ type: "hello", requestId: 1, protocol: sessionProtocolVersion, client: "raw", ...credentials }));
      const welcome = await client.answer(1, 10_000);
      if (welcome?.type !== "welcome") throw new Error(`no welcome: ${JSON.stringify(welcome)} (${client.closeReason ?? "open"})`);
    }
    return client;
  }

  /** One frame around `payload`. */
  send(payload: Uint8Array): void {
    this.connection.write([encodeFrame(payload)]);
  }

  /** Bytes as they are: a bad header, a wrong checksum, half a frame. */
  sendBytes(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  get closing(): Extract<SessionResponse, { type: "closing" }> | undefined {
    return closingOf(this);
  }

  /** The answer to `requestId`, or undefined once the connection closed or the time ran out. */
  async answer(requestId: number, timeoutMs = 5000): Promise<SessionResponse | undefined> {
    await this.until(() => answerTo(this, requestId) !== undefined, timeoutMs).catch(() => {});
    return answerTo(this, requestId);
  }

  /** Waits (bounded) until `done` holds or the connection closed. */
  async until(done: () => boolean, timeoutMs = 5000): Promise<void> {
    await waitFor(() => done() || this.closeReason !== null, timeoutMs);
  }

  /** Waits until the server closed the connection (bounded). */
  async closed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closeReason !== null, timeoutMs);
  }

  close(): void {
    this.connection.close("closed by the test");
  }
}
