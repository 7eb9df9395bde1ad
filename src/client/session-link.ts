import { connect as netConnect } from "node:net";
import { FramedConnection } from "../adapters/node/framed-connection.js";
import { limits } from "../kernel/limits.js";
import { encodeFrame } from "../wire/frame.js";
import {
  decodeSessionResponse,
  encodeSessionMessage,
  sessionProtocolVersion,
  type ErrorCode,
  type RealmInfo,
  type SessionClientKind,
  type SessionPurpose,
  type SessionRequest,
  type SessionResponse,
} from "../wire/session-codec.js";
import { HoldfastError } from "./errors.js";

export interface Credentials {
  readonly app: string;
  readonly user: string;
  readonly password: string;
  readonly client: string;
}

/** What arrives without being asked for; an error with request id 0 answers a fire-and-forget request. */
export type Push = Extract<SessionResponse, { type: "deliver" | "bus-message" | "subscription-lost" | "closing" | "error" | "realm-revision" }>;
export type Answer = Exclude<SessionResponse, Extract<SessionResponse, { type: "deliver" | "bus-message" | "subscription-lost" | "closing" | "realm-revision" }>>;

/** A request as callers write it: the link assigns the request id. */
type Unnumbered<T> = T extends { requestId: number } ? Omit<T, "requestId"> : T;
export type LinkRequest = Unnumbered<Exclude<SessionRequest, { type: "hello" }>>;

/**
 * One authenticated session with one server: numbered requests answered by id, pushes to one
 * handler, and the frames of one event-loop turn written together. When the connection ends,
 * every waiting request fails with `connection-lost` and `onClose` listeners hear why.
 */
export class SessionLink {
  private nextRequestId = 1;
  private readonly waiting = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  private outbox: Uint8Array[] = [];
  private flushScheduled = false;
  private pushHandler: (push: Push) => void = () => {};
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closeReason: string | null = null;
  /** The typed reason of a `closing` frame (a refusal before the welcome), for waiting requests. */
  private closeRefusal: { readonly code: ErrorCode; readonly retryAfterMs?: number } | null = null;
  server = "";

  private constructor(
    private readonly connection: FramedConnection,
    readonly address: string,
  ) {
    connection.setFrameHandler((payload) => this.receive(payload));
    connection.onClose((reason) => this.closed(reason));
  }

  /** The realm revision and failover servers the welcome named (null without realm roles). */
  realm: RealmInfo | null = null;
  /** Where the server said to reconnect when it closed (a backup handing clients back). */
  reconnectTo: string | null = null;
  /** The server's code for closing, when it said one (e.g. `frame-too-large`, `internal`). */
  closeCode: ErrorCode | null = null;

  /**
   * Connect, say hello, and resolve once the server welcomed us. `purpose`: `home` when this
   * is the client's realm server (admitted by its realm role), `leader` to reach a leader.
   */
  static async open(address: string, credentials: Credentials, purpose: SessionPurpose = "home", kind: SessionClientKind = "application", helloTimeoutMs: number = limits.helloTimeoutMs): Promise<SessionLink> {
    const [host, portText] = splitAddress(address);
    const socket = netConnect({ host, port: Number(portText) });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HoldfastError("timeout", `no connection to ${address} within ${limits.handshakeTimeoutMs} ms`));
      }, limits.handshakeTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(new HoldfastError("connection-lost", `cannot connect to ${address}: ${error.message}`));
      });
    });
    const link = new SessionLink(new FramedConnection(socket, limits.frameBytesMax), address);
    const hello = { type: "hello" as const, requestId: link.nextRequestId++, protocol: sessionProtocolVersion, ...credentials, purpose, kind };
    let answer: Answer;
    try {
      answer = await link.send(hello, helloTimeoutMs);
    } catch (error) {
      // A server that accepted the connection but does not answer (hung, or stopped).
      link.close("no welcome");
      throw error;
    }
    if (answer.type === "error") {
      link.close("refused");
      throw new HoldfastError(answer.code, answer.message, answer.servers ?? [], answer.retryAfterMs);
    }
    if (answer.type !== "welcome") {
      link.close("unexpected answer");
      throw new HoldfastError("malformed", `expected welcome from ${address}, got ${answer.type}`);
    }
    link.server = answer.server;
    link.realm = answer.realm ?? null;
    return link;
  }

  get isClosed(): boolean {
    return this.closeReason !== null;
  }

  onPush(handler: (push: Push) => void): void {
    this.pushHandler = handler;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closeReason !== null) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  /** Send a request and wait for its answer (or a timeout, or the connection's end). */
  request(request: LinkRequest, timeoutMs: number = limits.requestTimeoutMs): Promise<Answer> {
    return this.send({ ...request, requestId: this.nextRequestId++ } as SessionRequest, timeoutMs);
  }

  /** Send something that has no answer (credit, async ack with requestId 0, bus publish). */
  post(request: SessionRequest): void {
    this.write(request);
  }

  close(reason = "closed by the client"): void {
    this.flush();
    this.connection.close(reason);
  }

  private send(request: SessionRequest, timeoutMs: number): Promise<Answer> {
    if (this.closeReason !== null) return Promise.reject(new HoldfastError("connection-lost", `connection to ${this.address} is closed: ${this.closeReason}`));
    const requestId = (request as { requestId: number }).requestId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new HoldfastError("timeout", `no answer from ${this.address} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.write(request);
    });
  }

  private write(request: SessionRequest): void {
    if (this.closeReason !== null) return;
    this.outbox.push(encodeFrame(encodeSessionMessage(request)));
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    this.connection.write(frames);
  }

  private receive(payload: Uint8Array): void {
    const decoded = decodeSessionResponse(payload);
    if (!decoded.ok) {
      this.connection.close(`malformed answer from ${this.address}: ${decoded.error}`);
      return;
    }
    const response = decoded.value;
    if ("requestId" in response && response.requestId > 0) {
      const waiter = this.waiting.get(response.requestId);
      this.waiting.delete(response.requestId);
      waiter?.resolve(response as Answer);
      return;
    }
    if (response.type === "closing") {
      this.closeReason ??= response.code === undefined ? response.reason : `${response.reason} (${response.code})`;
      this.reconnectTo = response.reconnectTo ?? null;
      this.closeCode = response.code ?? null;
      const retry = response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs };
      if (response.code !== undefined) this.closeRefusal = { code: response.code, ...retry };
    }
    if (response.type === "deliver" || response.type === "bus-message" || response.type === "subscription-lost" || response.type === "closing" || response.type === "error" || response.type === "realm-revision") {
      this.pushHandler(response);
    }
  }

  private closed(reason: string): void {
    this.closeReason ??= reason;
    // A server that refused the connection (too many connections, the hello deadline) said why.
    const refusal = this.closeRefusal;
    const error =
      refusal === null
        ? new HoldfastError("connection-lost", `connection to ${this.address} closed: ${this.closeReason}`)
        : new HoldfastError(refusal.code, `${this.address} refused the connection: ${this.closeReason}`, [], refusal.retryAfterMs);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    for (const listener of this.closeListeners.splice(0)) listener(this.closeReason);
  }
}

export function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf(":");
  if (at <= 0) throw new HoldfastError("malformed", `server address "${address}": expected host:port`);
  return [address.slice(0, at), address.slice(at + 1)];
}
