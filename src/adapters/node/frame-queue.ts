import { assert } from "../../kernel/assert.js";

/**
 * Frames waiting for one peer, bounded in bytes. Past the bound the oldest frames go first:
 * consensus retries anything that matters, and the newest messages (latest term, latest
 * commit index) are the useful ones when the peer comes back.
 */
export class FrameQueue {
  private frames: Uint8Array[] = [];
  /** Index of the oldest frame still queued; the array is compacted lazily. */
  private head = 0;
  private queuedBytes = 0;
  private droppedFrameCount = 0;

  constructor(private readonly bytesMax: number) {
    assert(bytesMax > 0, `queue bound must be positive, got ${bytesMax}`);
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  /** Frames dropped to respect the bound since the queue was made. */
  get dropped(): number {
    return this.droppedFrameCount;
  }

  /** Queues `frame`, dropping the oldest frames to stay within the bound; returns how many. */
  push(frame: Uint8Array): number {
    let droppedNow = 0;
    if (frame.length > this.bytesMax) {
      // Larger than the whole queue: it can never fit, and keeping it would evict everything.
      this.droppedFrameCount += 1;
      return 1;
    }
    while (this.queuedBytes + frame.length > this.bytesMax) {
      this.shift();
      droppedNow += 1;
    }
    this.frames.push(frame);
    this.queuedBytes += frame.length;
    this.droppedFrameCount += droppedNow;
    return droppedNow;
  }

  /** Takes the oldest frames up to `bytesMax` in total (at least one if any is queued). */
  take(bytesMax: number): Uint8Array[] {
    const taken: Uint8Array[] = [];
    let takenBytes = 0;
    while (this.length > 0) {
      const next = this.frames[this.head] as Uint8Array;
      if (taken.length > 0 && takenBytes + next.length > bytesMax) break;
      taken.push(this.shift());
      takenBytes += next.length;
    }
    return taken;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private shift(): Uint8Array {
    assert(this.length > 0, "shift from an empty frame queue");
    const frame = this.frames[this.head] as Uint8Array;
    this.head += 1;
    this.queuedBytes -= frame.length;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frame;
  }
}
