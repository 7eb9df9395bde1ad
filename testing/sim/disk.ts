import { MemoryFileSystem } from "../../src/adapters/memory/file-system.js";
import { WalStorage } from "../../src/adapters/wal/wal-storage.js";
import type { Prng } from "../../src/kernel/prng.js";
import type { LogStorage } from "../../src/runtime/ports.js";
import type { EventOwner, Scheduler } from "./scheduler.js";

export interface DiskOptions {
  readonly syncDelayMinMs: number;
  readonly syncDelayMaxMs: number;
  readonly segmentBytesMax: number;
}

/**
 * One member's disk: a MemoryFileSystem whose syncs complete after a random virtual delay, in
 * order (a disk finishes flushes first-in, first-out). It outlives the member's incarnations:
 * a restart recovers from whatever it still holds.
 */
export class SimDisk {
  fileSystem: MemoryFileSystem;
  private lastCompletionMs = 0;
  /** Disk completions are held while the member is paused, like everything of its process. */
  private readonly owner: EventOwner;

  constructor(
    member: string,
    private readonly scheduler: Scheduler,
    private readonly random: Prng,
    private readonly options: DiskOptions,
  ) {
    this.owner = { member, alive: true };
    this.fileSystem = new MemoryFileSystem({ defer: (callback) => this.complete(callback) });
  }

  /**
   * The real write-ahead log for a new incarnation of the member, over what the disk holds now.
   * Small segments, so rollover and multi-segment recovery run often.
   */
  openLog(): LogStorage {
    return new WalStorage(this.fileSystem, { segmentBytesMax: this.options.segmentBytesMax });
  }

  /** The process died: unsynced bytes are lost (or partly kept, torn). */
  crash(tornWrites: boolean): void {
    this.fileSystem.crash(this.random, { tornWrites });
  }

  /** The disk was replaced by a blank one. */
  wipe(): void {
    this.fileSystem.wipe();
  }

  /** Flip one bit of durable data; null when there is nothing durable yet. */
  flipBit(): { name: string; offset: number } | null {
    return this.fileSystem.flipBit(this.random);
  }

  private complete(callback: () => void): void {
    const nowMs = this.scheduler.now();
    const atMs = Math.max(nowMs + this.random.int(this.options.syncDelayMinMs, this.options.syncDelayMaxMs), this.lastCompletionMs);
    this.lastCompletionMs = atMs;
    this.scheduler.schedule(atMs - nowMs, this.owner, callback);
  }
}
