import type { PersistBatch } from "../../src/protocols/consensus/effects.js";
import type { RecoveredState } from "../../src/protocols/consensus/inputs.js";
import type { Entry, HardState } from "../../src/protocols/consensus/types.js";
import type { LogStorage } from "../../src/runtime/ports.js";

/**
 * What the checkers know of one member's log: what it holds (every batch it wrote, as the node
 * sees its own log) and what is durable (batches whose write completed). Rebuilt from what
 * storage recovers at every restart.
 */
export class MemberLog {
  snapshotIndex = 0;
  snapshotTerm = 0;
  /** Entries after the snapshot, contiguous from snapshotIndex + 1. */
  entries: Entry[] = [];
  /** What is known durable: the hard state and the last index of the durable log. */
  durableHardState: HardState = { term: 0, votedFor: null, empty: false };
  durableLastIndex = 0;
  /** The first hard state with a term above 0 made durable since the member last recovered
   * (evidence that it took part since its data loss; see Checkers.grantedVote). */
  firstDurableTerm: { term: number; votedFor: string | null } | null = null;

  reset(recovered: RecoveredState): void {
    this.snapshotIndex = recovered.snapshot?.index ?? 0;
    this.snapshotTerm = recovered.snapshot?.term ?? 0;
    this.entries = recovered.entries.slice();
    this.durableHardState = recovered.hardState;
    const { term, votedFor } = recovered.hardState;
    this.firstDurableTerm = term > 0 ? { term, votedFor } : null;
    this.durableLastIndex = this.lastIndex();
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  /** The entry at `index`, or null when it is not held or is covered by the snapshot. */
  entryAt(index: number): Entry | null {
    if (index <= this.snapshotIndex) return null;
    return this.entries[index - this.snapshotIndex - 1] ?? null;
  }

  written(batch: PersistBatch): void {
    if (batch.snapshot !== null) {
      const snapshot = batch.snapshot;
      const at = this.entryAt(snapshot.index);
      const keep = at !== null && at.term === snapshot.term ? this.entries.slice(snapshot.index - this.snapshotIndex) : [];
      this.entries = snapshot.index >= this.lastIndex() ? [] : keep;
      this.snapshotIndex = snapshot.index;
      this.snapshotTerm = snapshot.term;
    }
    if (batch.truncateFrom !== null && batch.truncateFrom <= this.lastIndex()) {
      this.entries.length = Math.max(0, batch.truncateFrom - this.snapshotIndex - 1);
    }
    for (const entry of batch.entries) this.entries.push(entry);
  }

  durable(batch: PersistBatch): void {
    if (batch.hardState !== null) {
      this.durableHardState = batch.hardState;
      const { term, votedFor } = batch.hardState;
      if (this.firstDurableTerm === null && term > 0) this.firstDurableTerm = { term, votedFor };
    }
    if (batch.snapshot !== null) this.durableLastIndex = Math.max(this.durableLastIndex, batch.snapshot.index);
    if (batch.truncateFrom !== null) this.durableLastIndex = Math.min(this.durableLastIndex, batch.truncateFrom - 1);
    const last = batch.entries[batch.entries.length - 1];
    if (last !== undefined) this.durableLastIndex = last.index;
  }
}

export interface StorageObserver {
  written(member: string, batch: PersistBatch, log: MemberLog): void;
  recovered(member: string, recovered: RecoveredState & { readonly emptyReason: string | null }): void;
}

/** Wraps a member's LogStorage so the checkers see every batch as it is written and made durable. */
export class ObservedStorage implements LogStorage {
  constructor(
    private readonly member: string,
    private readonly inner: LogStorage,
    readonly log: MemberLog,
    private readonly observer: StorageObserver,
  ) {}

  recover(): RecoveredState & { readonly emptyReason: string | null } {
    const recovered = this.inner.recover();
    this.log.reset(recovered);
    this.observer.recovered(this.member, recovered);
    return recovered;
  }

  write(batch: PersistBatch, onDurable: (error?: Error) => void): void {
    this.log.written(batch);
    this.observer.written(this.member, batch, this.log);
    this.inner.write(batch, (error) => {
      if (error === undefined) this.log.durable(batch);
      onDurable(error);
    });
  }

  close(): void {
    this.inner.close();
  }
}
