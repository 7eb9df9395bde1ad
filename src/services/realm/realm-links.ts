import { connect as netConnect, createServer, type Server as NetServer, type Socket } from "node:net";
import { FramedConnection } from "../../adapters/node/framed-connection.js";
import { acceptHandshake, dialHandshake } from "../../adapters/node/handshake.js";
import { HandshakeGate } from "../../adapters/node/handshake-gate.js";
import type { Logger } from "../../adapters/node/logger.js";
import { limits } from "../../kernel/limits.js";
import type { RealmInput } from "../../protocols/realm/inputs.js";
import type { RealmMessage } from "../../protocols/realm/messages.js";
import { decodeRealmMessage, encodeRealmMessage } from "../../wire/realm-codec.js";
import { encodeFrame } from "../../wire/frame.js";

export interface RealmLinksOptions {
  readonly self: string;
  /** Where this server listens for affiliated servers (its `ports.realm`). */
  readonly host: string;
  readonly port: number;
  /** Where each affiliated server listens, by name. */
  readonly peers: ReadonlyMap<string, { readonly host: string; readonly port: number }>;
  readonly secret: string;
  readonly log: Logger;
  /** Every connection event becomes one protocol input, in the order it happened. */
  readonly input: (input: RealmInput) => void;
}

/**
 * The realm protocol's connections on real TCP: one authenticated, framed connection per pair
 * of affiliated servers (the handshake proves the realm secret both ways, as member links do).
 * It turns sockets into `connected`, `disconnected` and `message` inputs and carries out
 * `dial`, `send` and `close`. Only the protocol decides who dials whom and what a connection
 * means; this layer names the peer (from the handshake) and keeps at most one connection each.
 */
export class RealmLinks {
  private readonly server: NetServer;
  /** The connection the protocol knows about, per peer; older ones close without an input. */
  private readonly current = new Map<string, FramedConnection>();
  /** Inbound links in their handshake: bounded in number and frame size, as on the peer port. */
  private readonly gate: HandshakeGate;
  private stopped = false;

  private constructor(private readonly options: RealmLinksOptions) {
    this.server = createServer((socket) => this.accept(socket));
    this.gate = new HandshakeGate({ what: "realm links", warn: (message) => options.log.warn(`realm: ${message}`), frameBytesMax: limits.frameBytesMax });
  }

  static async start(options: RealmLinksOptions): Promise<RealmLinks> {
    const links = new RealmLinks(options);
    await new Promise<void>((resolve, reject) => {
      links.server.once("error", reject);
      links.server.listen(options.port, options.host, () => resolve());
    });
    return links;
  }

  dial(peer: string): void {
    const address = this.options.peers.get(peer);
    if (address === undefined || this.stopped) {
      queueMicrotask(() => this.options.input({ type: "disconnected", peer }));
      return;
    }
    const socket = netConnect({ host: address.host, port: address.port });
    // Small frames until the listener proved the realm secret (as for inbound links).
    const connection = new FramedConnection(socket, limits.unauthenticatedFrameBytesMax);
    // The protocol waits for every dial to end: a connect that hangs must fail in bounded time.
    const timer = setTimeout(() => connection.close(`no connection to ${peer} (${address.host}:${address.port}) within ${limits.handshakeTimeoutMs} ms`), limits.handshakeTimeoutMs);
    let settled = false;
    const failed = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.options.log.info(`realm: dial ${peer} failed: ${reason}`);
      if (!this.stopped) this.options.input({ type: "disconnected", peer });
    };
    connection.onClose(failed);
    socket.once("connect", () => {
      void dialHandshake(connection, { selfId: this.options.self, peerId: peer, secret: this.options.secret, timeoutMs: limits.handshakeTimeoutMs }).then((result) => {
        if (settled) return;
        if (!result.ok) return failed(result.reason);
        settled = true;
        clearTimeout(timer);
        connection.raiseFrameBytesMax(limits.frameBytesMax);
        this.adopt(peer, connection, false);
      });
    });
  }

  send(to: string, message: RealmMessage): void {
    this.current.get(to)?.write([encodeFrame(encodeRealmMessage(message))]);
  }

  close(peer: string, reason: string): void {
    const connection = this.current.get(peer);
    if (connection === undefined) return;
    // The protocol closed it and already counts the link as down: no input for this close.
    this.current.delete(peer);
    connection.close(reason);
  }

  stop(): void {
    this.stopped = true;
    this.server.close();
    for (const connection of this.gate.handshaking) connection.close("server stopping");
    this.gate.stop();
    for (const [peer, connection] of this.current) {
      this.current.delete(peer);
      connection.close("server stopping");
    }
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const connection = this.gate.admit(socket);
    if (connection === null) return;
    void acceptHandshake(connection, {
      selfId: this.options.self,
      secret: this.options.secret,
      timeoutMs: limits.handshakeTimeoutMs,
      // Any server of the definition may try; the protocol refuses those the table does not allow.
      isKnownMember: (id) => this.options.peers.has(id),
    }).then((result) => {
      this.gate.finished(connection, result);
      if (result.ok) this.adopt(result.peerId, connection, true);
    });
  }

  private adopt(peer: string, connection: FramedConnection, inbound: boolean): void {
    if (this.stopped) return connection.close("server stopping");
    const previous = this.current.get(peer);
    if (previous !== undefined) {
      // The protocol hears that the old connection is gone before it judges the new one: if it
      // refuses the new one, it must not go on believing the old link is up.
      this.current.delete(peer);
      previous.close(`a new connection with ${peer} replaces this one`);
      this.options.input({ type: "disconnected", peer });
    }
    this.current.set(peer, connection);
    connection.onClose(() => {
      if (this.current.get(peer) !== connection) return;
      this.current.delete(peer);
      if (!this.stopped) this.options.input({ type: "disconnected", peer });
    });
    this.options.input({ type: "connected", peer, inbound });
    connection.setFrameHandler((payload) => {
      const decoded = decodeRealmMessage(payload);
      if (!decoded.ok) {
        this.options.log.warn(`realm: ${peer} sent a message that does not decode (${decoded.error}); closing the link`);
        connection.close(`undecodable realm message: ${decoded.error}`);
        return;
      }
      if (this.current.get(peer) === connection) this.options.input({ type: "message", from: peer, message: decoded.message });
    });
  }
}
