import { assert } from "../../kernel/assert.js";
import type { PersistBatch } from "../../protocols/consensus/effects.js";
import type { RecoveredState } from "../../protocols/consensus/inputs.js";
import type { Entry, HardState, Snapshot } from "../../protocols/consensus/types.js";
import type { LogStorage } from "../../runtime/ports.js";

export interface MemoryLogStorageOptions {
  /** How durability callbacks are deferred; FIFO. Defaults to queueMicrotask. */
  readonly defer?: (callback: () => void) => void;
  /** Start from this state instead of a new member's (empty, no data). */
  readonly initial?: RecoveredState & { readonly emptyReason?: string | null };
}

/**
 * A log that is durable the moment it is written (the callback still arrives later, as from a
 * real disk). For fast unit tests of drivers; the simulator uses the real WAL over a simulated
 * file system instead. One instance may be recovered again to model a clean restart.
 */
export class MemoryLogStorage implements LogStorage {
  private hardState: HardState;
  private snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous: entries[i].index === firstIndex + i. */
  private entries: Entry[];
  private emptyReason: string | null;
  private readonly defer: (callback: () => void) => void;
  private closed = false;
  /** Batches written, for tests that want to look. */
  writes = 0;

  constructor(options: MemoryLogStorageOptions = {}) {
    this.defer = options.defer ?? queueMicrotask;
    const initial = options.initial;
    // A new member has no data: it is empty until a first formation or a leader catches it up.
    this.hardState = initial?.hardState ?? { term: 0, votedFor: null, empty: true };
    this.snapshot = initial?.snapshot ?? null;
    this.entries = initial === undefined ? [] : [...initial.entries];
    this.emptyReason = initial?.emptyReason ?? (this.hardState.empty ? "no data yet" : null);
  }

  recover(): RecoveredState & { readonly emptyReason: string | null } {
    this.closed = false;
    return {
      hardState: this.hardState,
      snapshot: this.snapshot,
      entries: this.entries.slice(),
      emptyReason: this.hardState.empty ? this.emptyReason : null,
    };
  }

  write(batch: PersistBatch, onDurable: (error?: Error) => void): void {
    assert(!this.closed, "write to a closed log");
    this.writes++;
    if (batch.snapshot !== null) this.installSnapshot(batch.snapshot);
    if (batch.truncateFrom !== null) this.truncateFrom(batch.truncateFrom);
    for (const entry of batch.entries) this.append(entry);
    if (batch.hardState !== null) this.hardState = batch.hardState;
    if (batch.compactThrough !== null) this.compactThrough(batch.compactThrough);
    this.defer(() => onDurable());
  }

  close(): void {
    this.closed = true;
  }

  /** The last index held (in the log or covered by the snapshot). */
  lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    return last?.index ?? this.snapshot?.index ?? 0;
  }

  private firstIndex(): number {
    return (this.snapshot?.index ?? 0) + 1;
  }

  private installSnapshot(snapshot: Snapshot): void {
    const keep = this.entries.filter((entry) => entry.index > snapshot.index);
    // Entries after a snapshot survive only if they continue it (same term at its index).
    const atSnapshot = this.entries.find((entry) => entry.index === snapshot.index);
    this.entries = atSnapshot !== undefined && atSnapshot.term === snapshot.term ? keep : [];
    this.snapshot = snapshot;
  }

  private truncateFrom(index: number): void {
    assert(index >= this.firstIndex(), `truncate from ${index} below the snapshot`);
    this.entries.length = Math.max(0, index - this.firstIndex());
  }

  private append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append ${entry.index} after ${this.lastIndex()}: not contiguous`);
    this.entries.push(entry);
  }

  private compactThrough(index: number): void {
    const snapshotIndex = this.snapshot?.index ?? 0;
    assert(index <= snapshotIndex, `compact through ${index} beyond the snapshot at ${snapshotIndex}`);
    // Entries are already dropped when the snapshot is installed; nothing is kept below it.
  }
}
