import type { Socket } from "node:net";
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
  private frameErrorListener: ((error: FrameError) => void) | undefined;
  private delivering = false;

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

  /**
   * Hears a frame error once, just before the connection closes for it, so the owner can write
   * one last frame saying why (the client port does; peer links just close).
   */
  onFrameError(listener: (error: FrameError) => void): void {
    this.frameErrorListener = listener;
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

  private deliver(): void {
    // A handler may swap handlers or close us; re-entrant calls would reorder frames.
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.handler !== undefined && !this.closed) {
        const result = this.decoder.next();
        if (result === undefined) break;
        if (!result.ok) {
          this.frameErrorListener?.(result.error);
          this.close(result.error.message);
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
