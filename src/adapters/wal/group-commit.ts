import { assert } from "../../kernel/assert.js";
import type { FileSystem } from "../../runtime/file-system.js";

/** One write waiting to become durable. */
export interface PendingWrite {
  /** Sequence number of the last record appended for (or before) this write. */
  readonly through: number;
  /** The write's snapshot file is still being written (its marker is not durable before it). */
  snapshotPending: boolean;
  /** Runs just before `onDurable`, once the write is durable (compaction deletes files here). */
  readonly whenDurable: (() => void) | null;
  readonly onDurable: (error?: Error) => void;
}

/** Bytes for a new segment, held back until everything before them is durable. */
interface HeldAppend {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly through: number;
  readonly startsSegment: boolean;
}

/**
 * Group commit: at most one sync round in flight; every file appended to while it runs is
 * synced by the next single round; callbacks run in write order. One failure fails every
 * pending and later write: the member must stop, since it can no longer tell what is durable.
 *
 * Segment barrier: the first bytes of a new segment are appended only once every earlier
 * record is durable (later writes queue behind them meanwhile). So a segment that has any
 * bytes on disk proves every earlier segment is whole, and recovery can treat a short or
 * missing earlier segment as damage rather than a crash's tail.
 */
export class GroupCommit {
  private readonly pending: PendingWrite[] = [];
  /** Files appended to or cut since the last round started. */
  private readonly dirty = new Set<string>();
  private readonly held: HeldAppend[] = [];
  private appendedThrough = 0;
  private durableThrough = 0;
  private syncInFlight = false;
  private drainScheduled = false;
  private failure: Error | null = null;

  constructor(private readonly fileSystem: FileSystem) {}

  get failed(): Error | null {
    return this.failure;
  }

  /**
   * Appends `bytes` (records up to `through`) to `name` now, or holds them back behind the
   * segment barrier. Throws if the disk refuses the append.
   */
  append(name: string, bytes: Uint8Array, through: number, startsSegment: boolean): void {
    const mustWait = startsSegment && this.durableThrough < this.appendedThrough;
    if (this.held.length > 0 || mustWait) {
      this.held.push({ name, bytes, through, startsSegment });
      if (!this.syncInFlight && this.dirty.size > 0) this.startRound();
      return;
    }
    this.fileSystem.append(name, bytes);
    this.noteAppended(name, through);
  }

  /** Records that `name` got bytes up to record `sequence` (or a cut) that need a sync. */
  noteAppended(name: string, sequence: number): void {
    assert(sequence >= this.appendedThrough, `sequence went back from ${this.appendedThrough} to ${sequence}`);
    this.appendedThrough = sequence;
    this.dirty.add(name);
  }

  /** Where the log stands after recovery: everything read back counts as appended. */
  startAt(sequence: number): void {
    this.appendedThrough = sequence;
    this.durableThrough = 0;
  }

  /** A removed file: nothing left to sync. */
  forget(name: string): void {
    this.dirty.delete(name);
  }

  enqueue(write: PendingWrite): PendingWrite {
    const pending: PendingWrite = { ...write };
    if (this.failure !== null) {
      const failure = this.failure;
      queueMicrotask(() => pending.onDurable(failure));
      return pending;
    }
    this.pending.push(pending);
    this.syncOrDrain();
    return pending;
  }

  snapshotWritten(write: PendingWrite, error?: Error): void {
    if (error !== undefined) return this.fail(error);
    write.snapshotPending = false;
    this.drain();
  }

  fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    this.held.length = 0;
    const failed = this.pending.splice(0);
    for (const write of failed) write.onDurable(this.failure);
  }

  private syncOrDrain(): void {
    if (this.syncInFlight) return;
    if (this.dirty.size > 0) return this.startRound();
    // Nothing new to sync (a write with no records, or one already covered): answer without
    // re-entering the caller.
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
  }

  private startRound(): void {
    const names = [...this.dirty];
    this.dirty.clear();
    const target = this.appendedThrough;
    this.syncInFlight = true;
    let remaining = names.length;
    let roundError: Error | null = null;
    for (const name of names) {
      this.fileSystem.sync(name, (error) => {
        if (error !== undefined && roundError === null) roundError = error;
        remaining -= 1;
        if (remaining > 0) return;
        this.syncInFlight = false;
        if (roundError !== null) return this.fail(roundError);
        this.durableThrough = Math.max(this.durableThrough, target);
        this.drain();
        this.releaseHeld();
        if (this.pending.length > 0 || this.dirty.size > 0) this.syncOrDrain();
      });
    }
  }

  private releaseHeld(): void {
    while (this.failure === null) {
      const head = this.held[0];
      if (head === undefined || (head.startsSegment && this.durableThrough < this.appendedThrough)) return;
      this.held.shift();
      try {
        this.fileSystem.append(head.name, head.bytes);
      } catch (error) {
        return this.fail(error instanceof Error ? error : new Error(String(error)));
      }
      this.noteAppended(head.name, head.through);
    }
  }

  private drain(): void {
    if (this.failure !== null) return;
    while (true) {
      const head = this.pending[0];
      if (head === undefined || head.through > this.durableThrough || head.snapshotPending) return;
      this.pending.shift();
      try {
        head.whenDurable?.();
      } catch (error) {
        this.pending.unshift(head);
        return this.fail(error instanceof Error ? error : new Error(String(error)));
      }
      head.onDurable();
    }
  }
}
