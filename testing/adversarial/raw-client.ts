import { connect as netConnect, type Socket } from "node:net";
import { limits } from "../../src/kernel/limits.js";
import { encodeFrame, FrameDecoder } from "../../src/wire/frame.js";
import { decodeSessionResponse, encodeSessionMessage, sessionProtocolVersion, type SessionResponse } from "../../src/wire/session-codec.js";

/**
 * An attacker's (or a bare) connection to a client port: raw bytes out, every frame the server
 * sends decoded and kept, so a test can check the typed reason a refused connection was given.
 */
export class RawClient {
  readonly responses: SessionResponse[] = [];
  private readonly decoder = new FrameDecoder(limits.frameBytesMax);
  private ended = false;
  private readonly endListeners: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let result = this.decoder.next(); result?.ok === true; result = this.decoder.next()) {
        const decoded = decodeSessionResponse(result.payload);
        if (decoded.ok) this.responses.push(decoded.value);
      }
    });
    // Writes to a connection the server closed fail: that is the point of most attacks here.
    socket.on("error", () => this.end());
    socket.on("close", () => this.end());
  }

  /** Connects to 127.0.0.1:`port` from `localAddress` (any 127.x address is another source). */
  static open(port: number, localAddress = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: "127.0.0.1", port, localAddress });
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Opens `count` connections, `parallel` at a time; connections the server refused at once count too. */
  static async openMany(port: number, count: number, localAddress = "127.0.0.1", parallel = 64): Promise<RawClient[]> {
    const clients: RawClient[] = [];
    for (let at = 0; at < count; at += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, count - at) }, () => RawClient.open(port, localAddress)));
      clients.push(...batch);
    }
    return clients;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** The typed reason the server gave: the `closing` code, else the code of an error answer. */
  get refusalCode(): string | undefined {
    for (const response of this.responses) if (response.type === "closing" && response.code !== undefined) return response.code;
    for (const response of this.responses) if (response.type === "error") return response.code;
    return undefined;
  }

  get retryAfterMs(): number | undefined {
    for (const response of this.responses) {
      if ((response.type === "closing" || response.type === "error") && response.retryAfterMs !== undefined) return response.retryAfterMs;
    }
    return undefined;
  }

  write(bytes: Uint8Array): void {
    if (!this.ended) this.socket.write(bytes);
  }

  /** Writes `bytes` zero bytes in 1 MiB chunks, waiting for the socket to drain; stops once it is closed. */
  async writeFiller(bytes: number): Promise<void> {
    const chunk = new Uint8Array(Math.min(bytes, 1024 * 1024));
    for (let sent = 0; sent < bytes && !this.ended; sent += chunk.length) {
      const ok = this.socket.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (!ok) await Promise.race([new Promise((resolve) => this.socket.once("drain", resolve)), this.closed()]);
    }
  }

  hello(credentials: { app: string; user: string; password: string }): void {
    this.write(encodeFrame(encodeSessionMessage({ type: "hello", requestId: 1, protocol: sessionProtocolVersion, client: "raw", ...credentials })));
  }

  /** Resolves once the connection is closed (by either side). */
  closed(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.endListeners.push(resolve));
  }

  close(): void {
    this.socket.destroy();
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.endListeners.splice(0)) listener();
  }
}
