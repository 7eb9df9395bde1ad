import { connect } from "node:net";
import { limits } from "../../kernel/limits.js";
import { FrameQueue } from "./frame-queue.js";
import { FramedConnection } from "./framed-connection.js";
import { dialHandshake } from "./handshake.js";

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface PeerLinkOptions {
  readonly selfId: string;
  readonly peerId: string;
  readonly address: PeerAddress;
  readonly secret: string;
  readonly frameBytesMax: number;
  readonly queueBytesMax: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  readonly handshakeTimeoutMs: number;
  readonly logger: TransportLogger;
  /** Uniform in [0, 1); injectable so backoff tests are exact. */
  readonly random: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from min, capped at max, with
 * "equal jitter" (half fixed, half random) so members that lost a peer together do not all
 * redial in the same millisecond, yet no delay falls below min.
 */
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs, ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The outbound half of a link to one peer: dials, authenticates, redials with backoff, and
 * sends queued frames. Frames produced in one tick leave in one socket write (flushed on
 * setImmediate); when the socket pushes back, frames wait in the bounded queue until 'drain'.
 */
export class PeerLink {
  private address: PeerAddress;
  private readonly queue: FrameQueue;
  private connection: FramedConnection | undefined;
  private dialing: FramedConnection | undefined;
  private started = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;
  private blocked = false;
  private lastFailure: string | undefined;

  constructor(private readonly options: PeerLinkOptions) {
    this.address = options.address;
    this.queue = new FrameQueue(options.queueBytesMax);
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  get droppedFrames(): number {
    return this.queue.dropped;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.dial();
  }

  /** Takes effect at the next dial. */
  setAddress(address: PeerAddress): void {
    this.address = address;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    const dropped = this.queue.push(frame);
    if (dropped > 0 && this.queue.dropped === dropped) {
      this.options.logger.warn(`queue for ${this.options.peerId} is full (${this.options.queueBytesMax} bytes): dropping the oldest messages`);
    }
    this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    this.queue.clear();
    this.dialing?.close("transport closed");
    this.connection?.close("transport closed");
  }

  /**
   * The peer just proved it is up (it dialled us): if we are waiting out a backoff, dial now.
   * A peer returning after a long outage would otherwise hear nothing from us for up to
   * reconnectDelayMaxMs, long enough for it to time out and start an election we could have
   * prevented (after a force quorum, returning members must hear the new leader first).
   */
  dialNowIfWaiting(): void {
    if (this.closed || this.connection !== undefined || this.dialing !== undefined || this.reconnectTimer === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempt = 0;
    this.dial();
  }

  private dial(): void {
    if (this.closed) return;
    this.reconnectTimer = undefined;
    const { peerId, selfId, secret, handshakeTimeoutMs, frameBytesMax, logger } = this.options;
    const socket = connect({ host: this.address.host, port: this.address.port });
    // Only the listener's handshake answers (tiny) ever arrive on an outbound connection.
    const connection = new FramedConnection(socket, Math.min(limits.unauthenticatedFrameBytesMax, frameBytesMax));
    this.dialing = connection;
    connection.onClose((reason) => this.onClosed(connection, reason));
    void dialHandshake(connection, { selfId, peerId, secret, timeoutMs: handshakeTimeoutMs }).then((result) => {
      if (!result.ok || this.closed || connection.closed) return;
      this.dialing = undefined;
      this.connection = connection;
      this.attempt = 0;
      this.lastFailure = undefined;
      this.blocked = false;
      logger.info(`connected to ${peerId} at ${connection.remote}`);
      // Nothing is expected back on an outbound connection after the handshake.
      connection.setFrameHandler(() => connection.close("unexpected frame on an outbound connection"));
      this.scheduleFlush();
    });
  }

  private onClosed(connection: FramedConnection, reason: string): void {
    if (this.dialing === connection) this.dialing = undefined;
    const wasConnected = this.connection === connection;
    if (wasConnected) this.connection = undefined;
    if (this.closed) return;
    // Log changes, not every retry: a peer down for an hour would otherwise fill the log.
    if (wasConnected) this.options.logger.warn(`connection to ${this.options.peerId} lost: ${reason}`);
    else if (reason !== this.lastFailure) this.options.logger.warn(`cannot reach ${this.options.peerId}: ${reason}`);
    this.lastFailure = wasConnected ? undefined : reason;
    const delayMs = reconnectDelayMs(this.attempt, this.options.reconnectDelayMinMs, this.options.reconnectDelayMaxMs, this.options.random);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.dial(), delayMs);
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== undefined || this.connection === undefined || this.blocked) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  private flush(): void {
    const connection = this.connection;
    while (connection !== undefined && !connection.closed && !this.blocked && this.queue.length > 0) {
      if (!connection.write(this.queue.take(limits.writeBatchBytesMax))) {
        this.blocked = true;
        connection.onDrain(() => {
          this.blocked = false;
          if (this.connection === connection) this.flush();
        });
      }
    }
  }
}
