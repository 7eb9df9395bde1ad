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

/**
 * Group commit: at most one sync round in flight; every file appended to while it runs is
 * synced by the next single round; callbacks run in write order. One failure fails every
 * pending and later write: the member must stop, since it can no longer tell what is durable.
 */
export class GroupCommit {
  private readonly pending: PendingWrite[] = [];
  /** Files appended to or cut since the last round started. */
  private readonly dirty = new Set<string>();
  private appendedThrough = 0;
  private durableThrough = 0;
  private syncInFlight = false;
  private drainScheduled = false;
  private failure: Error | null = null;

  constructor(private readonly fileSystem: FileSystem) {}

  get failed(): Error | null {
    return this.failure;
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

  enqueue(write: Omit<PendingWrite, "through">): PendingWrite {
    const pending: PendingWrite = { ...write, through: this.appendedThrough };
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
        if (this.pending.length > 0 || this.dirty.size > 0) this.syncOrDrain();
      });
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
