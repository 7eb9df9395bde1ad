import type { Socket } from "node:net";
import { limits } from "../../kernel/limits.js";
import { FramedConnection } from "./framed-connection.js";
import { refusalFrame, type HandshakeResult } from "./handshake.js";
import { RefusalLog } from "./refusal-log.js";

export interface HandshakeGateOptions {
  /** What the port carries, plural, for the log: "peer connections", "realm links". */
  readonly what: string;
  readonly warn: (message: string) => void;
  /** The frame bound once the handshake succeeded. */
  readonly frameBytesMax: number;
  readonly pendingMax?: number;
  readonly pendingPerAddressMax?: number;
}

/**
 * The door of a port whose peers prove a shared secret (handshake.ts): the peer port and the
 * realm port. At most pendingHandshakesMax connections are in their handshake at once, at most
 * pendingHandshakesPerAddressMax from one address; until the handshake succeeded a connection
 * takes frames of at most unauthenticatedFrameBytesMax (the handshake's are tiny). A refused
 * connection hears why (`refused` with a code) before the close; refusals and failed
 * handshakes are logged once and then summarised.
 */
export class HandshakeGate {
  private readonly pending = new Map<FramedConnection, string>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusals: RefusalLog;
  private readonly pendingMax: number;
  private readonly pendingPerAddressMax: number;

  constructor(private readonly options: HandshakeGateOptions) {
    this.refusals = new RefusalLog({ what: options.what, warn: options.warn });
    this.pendingMax = options.pendingMax ?? limits.pendingHandshakesMax;
    this.pendingPerAddressMax = options.pendingPerAddressMax ?? limits.pendingHandshakesPerAddressMax;
  }

  /** Connections in their handshake now. */
  get handshaking(): readonly FramedConnection[] {
    return [...this.pending.keys()];
  }

  /** The connection to run the handshake on, or null when refused (it was told why). */
  admit(socket: Socket): FramedConnection | null {
    const connection = new FramedConnection(socket, Math.min(limits.unauthenticatedFrameBytesMax, this.options.frameBytesMax));
    const address = connection.remoteAddress;
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.pendingPerAddressMax) {
      this.refuse(connection, `${fromAddress} handshakes from ${address} are in progress (at most ${this.pendingPerAddressMax} per address)`);
      return null;
    }
    if (this.pending.size >= this.pendingMax) {
      this.refuse(connection, `${this.pending.size} handshakes are in progress (at most ${this.pendingMax})`);
      return null;
    }
    this.pending.set(connection, address);
    this.perAddress.set(address, fromAddress + 1);
    connection.onClose(() => this.leave(connection));
    return connection;
  }

  /** The handshake ended: a failure is logged; a success may now carry full-size frames. */
  finished(connection: FramedConnection, result: HandshakeResult): void {
    const address = this.pending.get(connection) ?? connection.remoteAddress;
    this.leave(connection);
    if (!result.ok) this.refusals.refused(address, "handshake-failed", result.reason);
    else if (!connection.closed) connection.raiseFrameBytesMax(this.options.frameBytesMax);
  }

  stop(): void {
    this.refusals.stop();
  }

  private refuse(connection: FramedConnection, reason: string): void {
    this.refusals.refused(connection.remoteAddress, "too-many-handshakes", reason);
    connection.closeWith([refusalFrame(reason, "too-many-handshakes")], reason);
  }

  private leave(connection: FramedConnection): void {
    const address = this.pending.get(connection);
    if (address === undefined) return;
    this.pending.delete(connection);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
