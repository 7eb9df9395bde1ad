import { MemoryFileSystem } from "../../src/adapters/memory/file-system.js";
import { WalStorage } from "../../src/adapters/wal/wal-storage.js";
import { parseSegmentName } from "../../src/adapters/wal/file-names.js";
import { readRecord } from "../../src/adapters/wal/record-format.js";
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

  /**
   * The disk loses the synced tail of the last WAL segment: the last 1..`recordsMax` whole
   * records, the cut landing inside one of them, so recovery sees a torn record. (A loss that
   * ends exactly between records leaves a log that ends cleanly: no local check can tell,
   * and no rule here covers it.) Call only while the member is down. Null when the last
   * segment holds no whole record.
   */
  loseSyncedTail(recordsMax: number): { name: string; fromBytes: number; toBytes: number; records: number } | null {
    const fileSystem = this.fileSystem;
    const segments = fileSystem.list().filter((name) => parseSegmentName(name) !== null);
    const name = segments[segments.length - 1];
    if (name === undefined) return null;
    const bytes = Buffer.from(fileSystem.read(name) ?? new Uint8Array(0));
    const starts: Array<{ start: number; end: number }> = [];
    for (let offset = 0; offset < bytes.length; ) {
      const read = readRecord(bytes, offset);
      if (read.kind !== "record") break;
      starts.push({ start: offset, end: read.end });
      offset = read.end;
    }
    if (starts.length === 0) return null;
    const records = this.random.int(1, Math.min(recordsMax, starts.length));
    const victim = starts[starts.length - records] as { start: number; end: number };
    const toBytes = this.random.int(victim.start + 1, victim.end - 1);
    fileSystem.loseTail(name, toBytes);
    return { name, fromBytes: bytes.length, toBytes, records };
  }

  private complete(callback: () => void): void {
    const nowMs = this.scheduler.now();
    // Issued at the member's local time: later than the world's while it is busy with work.
    const atMs = Math.max(this.scheduler.localNow(this.owner.member) + this.random.int(this.options.syncDelayMinMs, this.options.syncDelayMaxMs), this.lastCompletionMs);
    this.lastCompletionMs = atMs;
    this.scheduler.schedule(atMs - nowMs, this.owner, callback);
  }
}
