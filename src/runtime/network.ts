import type { FrameError } from "../wire/frame.js";

/**
 * The connection-oriented transport port: ordered, framed streams between two processes, as a
 * TCP connection carries them. The client port, the peer links between persistence services
 * and the realm links between realm servers all run over it, so the simulator can carry them
 * over its own network (testing/sim/sim-network.ts) while production uses TCP
 * (adapters/node/node-network.ts).
 *
 * A stream owns its life: any frame error, socket error or end closes it exactly once, with a
 * reason, and `onClose` hears that reason. Reading is pull-based: with no frame handler set,
 * frames wait and nothing more is read.
 */
export interface FramedStream {
  /** Where the other end is (`host:port`), for logs. */
  readonly remote: string;
  /** The other end's address without the port: what per-source bounds count by. */
  readonly remoteAddress: string;
  /** Bytes written but not yet taken by the network: how far behind the other end reads. */
  readonly bufferedBytes: number;
  readonly closed: boolean;
  setFrameHandler(handler: ((payload: Uint8Array) => void) | undefined): void;
  onClose(listener: (reason: string) => void): void;
  /** All frames in one write; false when the buffer is full: wait for `onDrain`. */
  write(frames: readonly Uint8Array[]): boolean;
  onDrain(listener: () => void): void;
  close(reason: string): void;
  /** Sends `frames` (why it ends), then closes, giving the other end a moment to read them. */
  closeWith(frames: readonly Uint8Array[], reason: string): void;
  /** What to send before closing on a bad frame (a protocol's typed reason). */
  setFarewell(farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined): void;
  /** Takes larger frames from now on (the peer authenticated). */
  raiseFrameBytesMax(frameBytesMax: number): void;
}

export interface NetworkAddress {
  readonly host: string;
  /** 0 when listening: any free port (read it from the listener). */
  readonly port: number;
}

export interface Listener {
  readonly port: number;
  close(): void;
}

export interface ConnectOptions {
  /** Frames larger than this close the stream (a small bound until the peer authenticated). */
  readonly frameBytesMax: number;
  /** The local address to connect from (tests: another loopback source). */
  readonly localAddress?: string;
}

export interface Network {
  /** Accepts streams on `address`; each new one is handed to `onStream` with `frameBytesMax`. */
  listen(address: NetworkAddress, frameBytesMax: number, onStream: (stream: FramedStream) => void): Promise<Listener>;
  /**
   * A stream to `address`, at once: frames written before it is open wait; if it cannot open,
   * it closes with the reason (`connect ECONNREFUSED …`). `opened` settles when it is open.
   */
  connect(address: NetworkAddress, options: ConnectOptions): { readonly stream: FramedStream; readonly opened: Promise<void> };
}
