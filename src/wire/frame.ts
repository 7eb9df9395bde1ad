import { limits } from "../kernel/limits.js";
import { checksum } from "./checksum.js";

/**
 * Length-prefixed, checksummed frames: the unit every stream connection (server to server,
 * client to server) carries. Pure: no sockets here, so the decoder is tested one byte at a time.
 *
 *   [u32 payload length, big-endian][u32 CRC-32 of payload, big-endian][payload]
 *
 * The checksum catches corruption TCP's weak 16-bit sum lets through and, more often, a peer
 * speaking something else on our port; the length bound stops a bad header from making us
 * allocate gigabytes.
 */

export const frameHeaderBytes = 8;

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(frameHeaderBytes + payload.length);
  writeFrameHeader(frame, 0, payload);
  frame.set(payload, frameHeaderBytes);
  return frame;
}

/** Writes the header for `payload` at `offset` of `target` (for callers building batches). */
export function writeFrameHeader(target: Uint8Array, offset: number, payload: Uint8Array): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, frameHeaderBytes);
  view.setUint32(0, payload.length);
  view.setUint32(4, checksum(payload));
}

export type FrameError =
  | {
      readonly kind: "frame-too-large";
      /** Header plus the payload length the header announced. */
      readonly frameBytes: number;
      readonly frameBytesMax: number;
      readonly message: string;
    }
  | {
      readonly kind: "checksum-mismatch";
      readonly payloadBytes: number;
      /** What the header said. */
      readonly expected: number;
      /** What the payload hashes to. */
      readonly actual: number;
      readonly message: string;
    };

export type FrameResult =
  | { readonly ok: true; readonly payload: Uint8Array }
  | { readonly ok: false; readonly error: FrameError };

/** Buffer capacity kept once drained; after one large frame we give the memory back. */
const retainedBufferBytesMax = limits.decoderRetainedBytesMax;

/**
 * Reassembles frames from arbitrarily split chunks. After an error the stream is out of sync
 * (we cannot know where the next frame starts), so the decoder stays failed and keeps
 * returning that error: the owner must close the connection.
 *
 * Usage: `push(chunk)`, then call `next()` until it returns `undefined`.
 */
export class FrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  private failure: FrameError | undefined;
  private frameBytesMax: number;

  constructor(frameBytesMax: number = limits.frameBytesMax) {
    this.frameBytesMax = frameBytesMax;
  }

  /**
   * Raises the bound: a connection starts with a small one until its peer authenticated (a
   * stranger must not make us buffer a large frame), then takes the full one. Frames already
   * buffered are judged by the new bound.
   */
  raiseFrameBytesMax(frameBytesMax: number): void {
    if (frameBytesMax < this.frameBytesMax) throw new Error(`raiseFrameBytesMax(${frameBytesMax}) below the current bound ${this.frameBytesMax}`);
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  get failed(): FrameError | undefined {
    return this.failure;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== undefined || chunk.length === 0) return;
    this.reserve(chunk.length);
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next whole frame, an error (sticky), or `undefined` when more bytes are needed. */
  next(): FrameResult | undefined {
    if (this.failure !== undefined) return { ok: false, error: this.failure };
    const available = this.end - this.start;
    if (available < frameHeaderBytes) return undefined;
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + this.start, frameHeaderBytes);
    const payloadBytes = view.getUint32(0);
    const expected = view.getUint32(4);
    const frameBytes = frameHeaderBytes + payloadBytes;
    if (frameBytes > this.frameBytesMax) {
      return this.fail({
        kind: "frame-too-large",
        frameBytes,
        frameBytesMax: this.frameBytesMax,
        message: `frame of ${frameBytes} bytes announced, at most ${this.frameBytesMax} allowed`,
      });
    }
    if (available < frameBytes) return undefined;
    const payloadStart = this.start + frameHeaderBytes;
    // A copy: the caller may keep the payload (and views into it) past our next compaction.
    const payload = this.buffer.slice(payloadStart, payloadStart + payloadBytes);
    const actual = checksum(payload);
    if (actual !== expected) {
      return this.fail({
        kind: "checksum-mismatch",
        payloadBytes,
        expected,
        actual,
        message: `frame checksum mismatch on ${payloadBytes} payload bytes: header says ${hex(expected)}, payload hashes to ${hex(actual)}`,
      });
    }
    this.start += frameBytes;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      if (this.buffer.length > retainedBufferBytesMax) this.buffer = new Uint8Array(0);
    }
    return { ok: true, payload };
  }

  private fail(error: FrameError): FrameResult {
    this.failure = error;
    this.buffer = new Uint8Array(0);
    this.start = 0;
    this.end = 0;
    return { ok: false, error };
  }

  /** Makes room for `bytes` more at `end`, compacting or growing the buffer. */
  private reserve(bytes: number): void {
    if (this.end + bytes <= this.buffer.length) return;
    const live = this.end - this.start;
    if (live + bytes <= this.buffer.length) {
      this.buffer.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(live + bytes, this.buffer.length * 2, 1024));
      grown.set(this.buffer.subarray(this.start, this.end));
      this.buffer = grown;
    }
    this.start = 0;
    this.end = live;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
