import { createServer, type Server, type Socket } from "node:net";
import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { Message } from "../../protocols/consensus/messages.js";
import type { MemberId } from "../../protocols/consensus/types.js";
import type { Transport } from "../../runtime/ports.js";
import { decodeMessage, encodeMessage } from "../../wire/consensus-codec.js";
import { encodeFrame } from "../../wire/frame.js";
import type { FramedConnection } from "./framed-connection.js";
import { acceptHandshake } from "./handshake.js";
import { HandshakeGate } from "./handshake-gate.js";
import { PeerLink, type PeerAddress, type TransportLogger } from "./peer-link.js";

export type { PeerAddress, TransportLogger } from "./peer-link.js";

export interface TcpTransportOptions {
  readonly selfId: MemberId;
  /** Port 0 picks a free port; read it from `port` after `start()`. */
  readonly listen: PeerAddress;
  /** Every other member of the group. Only these may connect; selfId is ignored if present. */
  readonly peers: Readonly<Record<MemberId, PeerAddress>>;
  /** The realm's shared secret: both ends prove they know it (see handshake.ts). */
  readonly secret: string;
  readonly logger?: TransportLogger;
  /** Overrides for tests; production uses kernel limits. */
  readonly limits?: Partial<TransportLimits>;
}

/** The kernel limits this transport obeys (see kernel/limits.ts for each one's meaning). */
export interface TransportLimits {
  readonly frameBytesMax: number;
  readonly peerQueueBytesMax: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  readonly handshakeTimeoutMs: number;
}

const consoleLogger: TransportLogger = {
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
};

/**
 * Consensus messages between servers over TCP. Each member dials every peer and sends only on
 * its own outbound connection; it receives only on connections peers dialed to it. One
 * direction per connection means no tie-breaking when two members dial each other at once,
 * and a member's send path never depends on a peer's reconnect logic.
 *
 * Delivery is best-effort (the port's contract): while a peer is unreachable its messages
 * wait in a bounded queue that drops the oldest first; consensus retries what matters.
 * Bad input (a bad frame, checksum, size, message, or a message claiming another sender)
 * closes that one connection with a logged reason; everything else keeps running.
 */
export class TcpTransport implements Transport {
  private readonly options: TcpTransportOptions;
  private readonly settings: TransportLimits;
  private readonly logger: TransportLogger;
  private readonly links = new Map<MemberId, PeerLink>();
  /** Authenticated inbound connections, one per peer: a newer one replaces the older. */
  private readonly inbound = new Map<MemberId, FramedConnection>();
  /** Inbound connections in their handshake: bounded, each for at most handshakeTimeoutMs. */
  private readonly gate: HandshakeGate;
  private readonly handlers: ((message: Message) => void)[] = [];
  private server: Server | undefined;
  private boundPort: number | undefined;
  private started = false;
  private closed = false;

  constructor(options: TcpTransportOptions) {
    assert(options.selfId.length > 0, "selfId must be a non-empty member id");
    assert(options.secret.length > 0, "the realm secret must not be empty");
    this.options = options;
    this.logger = options.logger ?? consoleLogger;
    this.settings = {
      frameBytesMax: options.limits?.frameBytesMax ?? limits.frameBytesMax,
      peerQueueBytesMax: options.limits?.peerQueueBytesMax ?? limits.peerQueueBytesMax,
      reconnectDelayMinMs: options.limits?.reconnectDelayMinMs ?? limits.reconnectDelayMinMs,
      reconnectDelayMaxMs: options.limits?.reconnectDelayMaxMs ?? limits.reconnectDelayMaxMs,
      handshakeTimeoutMs: options.limits?.handshakeTimeoutMs ?? limits.handshakeTimeoutMs,
    };
    assert(this.settings.reconnectDelayMinMs <= this.settings.reconnectDelayMaxMs, "reconnect delay min above max");
    this.gate = new HandshakeGate({ what: "peer connections", warn: (message) => this.logger.warn(message), frameBytesMax: this.settings.frameBytesMax });
    for (const [peerId, address] of Object.entries(options.peers)) this.setPeerAddress(peerId, address);
  }

  /** The bound listening port (useful with port 0). */
  get port(): number {
    assert(this.boundPort !== undefined, "TcpTransport.port read before start() resolved");
    return this.boundPort;
  }

  /** Resolves once listening; dialing peers starts at the same time. */
  async start(): Promise<void> {
    assert(!this.started, "TcpTransport.start() called twice");
    assert(!this.closed, "TcpTransport.start() after close()");
    this.started = true;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => this.logger.warn(`listener error: ${error.message}`));
    const address = server.address();
    assert(address !== null && typeof address === "object", "listening server without an address");
    this.boundPort = address.port;
    this.logger.info(`${this.options.selfId} listening on ${this.options.listen.host}:${this.boundPort}`);
    for (const link of this.links.values()) link.start();
  }

  /**
   * Adds a peer or changes its address (taking effect at the next dial). Lets members learn
   * each other's ports when they listen on port 0, and follows realm membership changes.
   */
  setPeerAddress(peerId: MemberId, address: PeerAddress): void {
    if (peerId === this.options.selfId || this.closed) return;
    const existing = this.links.get(peerId);
    if (existing !== undefined) return existing.setAddress(address);
    const link = new PeerLink({
      selfId: this.options.selfId,
      peerId,
      address,
      secret: this.options.secret,
      frameBytesMax: this.settings.frameBytesMax,
      queueBytesMax: this.settings.peerQueueBytesMax,
      reconnectDelayMinMs: this.settings.reconnectDelayMinMs,
      reconnectDelayMaxMs: this.settings.reconnectDelayMaxMs,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      logger: this.logger,
      random: Math.random,
    });
    this.links.set(peerId, link);
    if (this.started) link.start();
  }

  send(message: Message): void {
    if (this.closed) return;
    const link = this.links.get(message.to);
    if (link === undefined) {
      this.logger.warn(`dropping ${message.type} to unknown member ${message.to}`);
      return;
    }
    const frame = encodeFrame(encodeMessage(message));
    if (frame.length > this.settings.frameBytesMax) {
      // The receiver would close the connection on it; consensus must split appends smaller.
      this.logger.warn(`dropping ${message.type} to ${message.to}: ${frame.length} bytes exceeds the frame bound ${this.settings.frameBytesMax}`);
      return;
    }
    link.send(frame);
  }

  onMessage(handler: (message: Message) => void): void {
    this.handlers.push(handler);
  }

  /** Per peer, for tests and status: connected outbound, bytes queued, frames dropped. */
  peerStatus(peerId: MemberId): { connected: boolean; queuedBytes: number; droppedFrames: number } | undefined {
    const link = this.links.get(peerId);
    if (link === undefined) return undefined;
    return { connected: link.connected, queuedBytes: link.queuedBytes, droppedFrames: link.droppedFrames };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server?.close();
    for (const link of this.links.values()) link.close();
    for (const connection of [...this.inbound.values(), ...this.gate.handshaking]) connection.close("transport closed");
    this.inbound.clear();
    this.gate.stop();
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const connection = this.gate.admit(socket);
    if (connection === null) return;
    void acceptHandshake(connection, {
      selfId: this.options.selfId,
      secret: this.options.secret,
      timeoutMs: this.settings.handshakeTimeoutMs,
      isKnownMember: (id) => this.links.has(id),
    }).then((result) => {
      if (this.closed) return connection.close("transport closed");
      this.gate.finished(connection, result);
      if (result.ok) this.adopt(result.peerId, connection);
    });
  }

  private adopt(peerId: MemberId, connection: FramedConnection): void {
    // A peer that restarted may leave a half-open old connection behind; the new one wins.
    this.inbound.get(peerId)?.close(`replaced by a newer connection from ${peerId}`);
    this.inbound.set(peerId, connection);
    this.logger.info(`accepted ${peerId} from ${connection.remote}`);
    this.links.get(peerId)?.dialNowIfWaiting();
    connection.onClose((reason) => {
      if (this.inbound.get(peerId) === connection) this.inbound.delete(peerId);
      if (!this.closed) this.logger.warn(`inbound connection from ${peerId} closed: ${reason}`);
    });
    connection.setFrameHandler((payload) => {
      const decoded = decodeMessage(payload);
      if (!decoded.ok) return connection.close(decoded.error);
      const message = decoded.message;
      if (message.from !== peerId || message.to !== this.options.selfId) {
        return connection.close(`message from ${message.from} to ${message.to} on the connection authenticated as ${peerId} to ${this.options.selfId}`);
      }
      for (const handler of this.handlers) handler(message);
    });
  }
}
