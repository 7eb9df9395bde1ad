import type { Socket } from "node:net";
import { limits } from "../../kernel/limits.js";
import { FrameDecoder, type FrameError } from "../../wire/frame.js";

export type FrameHandler = (payload: Uint8Array) => void;

/**
 * One TCP socket carrying frames, shared by server-to-server links and (later) client
 * connections. It owns the socket's life: any frame error, socket error or end closes it
 * exactly once, with a reason, and `onClose` hears that reason.
 *
 * Reading is pull-based: with no frame handler set (for example between the handshake and
 * the owner taking over), frames stay in the decoder and the socket is paused, so nothing is
 * lost and nothing piles up.
 */
export class FramedConnection {
  private readonly decoder: FrameDecoder;
  private handler: FrameHandler | undefined;
  private closeReason: string | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private delivering = false;
  private farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined;

  constructor(
    private readonly socket: Socket,
    frameBytesMax: number,
  ) {
    this.decoder = new FrameDecoder(frameBytesMax);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.deliver();
    });
    socket.on("error", (error) => this.close(`socket error: ${error.message}`));
    socket.on("end", () => this.close("closed by the remote end"));
    socket.on("close", () => this.close("socket closed"));
  }

  /** Where the other end is, for logs. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? "?"}:${this.socket.remotePort ?? "?"}`;
  }

  /** The other end's address without the port: what per-source bounds count by. */
  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "?";
  }

  /** Takes larger frames from now on: the peer authenticated (see FrameDecoder.raiseFrameBytesMax). */
  raiseFrameBytesMax(frameBytesMax: number): void {
    this.decoder.raiseFrameBytesMax(frameBytesMax);
  }

  /** Bytes written but not yet handed to the kernel: how far behind the other end reads. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  setFrameHandler(handler: FrameHandler | undefined): void {
    this.handler = handler;
    if (handler === undefined) {
      this.socket.pause();
    } else {
      this.deliver();
      if (!this.closed) this.socket.resume();
    }
  }

  /** What to send before closing on a bad frame (a protocol's typed reason); by default nothing. */
  setFarewell(farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined): void {
    this.farewell = farewell;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closeReason !== undefined) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  /**
   * Writes the frames in one socket write (one segment with TCP_NODELAY, one syscall).
   * Returns false when the socket's buffer is full: wait for `onDrain` before writing more.
   */
  write(frames: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    const bytes = frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames);
    return this.socket.write(bytes);
  }

  onDrain(listener: () => void): void {
    this.socket.once("drain", listener);
  }

  close(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.handler = undefined;
    this.socket.destroy();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  /**
   * Sends `frames` (why the connection ends) and then closes it, giving the other end
   * refusedConnectionLingerMs to read them: destroying at once could send a reset that makes
   * the other end drop what it had not read yet, the reason included.
   */
  closeWith(frames: readonly Uint8Array[], reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.handler = undefined;
    this.socket.removeAllListeners("data");
    endAfter(this.socket, frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames));
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private deliver(): void {
    // A handler may swap handlers or close us; re-entrant calls would reorder frames.
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.handler !== undefined && !this.closed) {
        const result = this.decoder.next();
        if (result === undefined) break;
        if (!result.ok) {
          const farewell = this.farewell?.(result.error);
          if (farewell === undefined) this.close(result.error.message);
          else this.closeWith(farewell, result.error.message);
          break;
        }
        this.handler(result.payload);
      }
      if (this.handler === undefined && !this.closed) this.socket.pause();
    } finally {
      this.delivering = false;
    }
  }
}

/** Sockets ended with a reason and not yet gone; each holds a file descriptor meanwhile. */
let lingering = 0;

/**
 * Writes `bytes` and ends the socket; what the other end still sends is read and dropped, up
 * to refusedConnectionDrainBytesMax, then left unread until the socket is destroyed.
 */
function endAfter(socket: Socket, bytes: Uint8Array): void {
  if (socket.destroyed) return;
  if (lingering >= limits.refusedConnectionsLingeringMax) {
    // A flood of refusals must not run the process out of descriptors: drop without a reason.
    socket.destroy();
    return;
  }
  lingering += 1;
  const timer = setTimeout(() => socket.destroy(), limits.refusedConnectionLingerMs);
  timer.unref();
  socket.once("close", () => {
    clearTimeout(timer);
    lingering -= 1;
  });
  socket.once("end", () => socket.destroy());
  let drainedBytes = 0;
  socket.on("data", (chunk: Buffer) => {
    drainedBytes += chunk.length;
    if (drainedBytes > limits.refusedConnectionDrainBytesMax) socket.pause();
  });
  socket.resume();
  socket.end(bytes);
}
