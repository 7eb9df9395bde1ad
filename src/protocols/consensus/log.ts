import { assert } from "../../kernel/assert.js";
import type { Entry, LogPosition, Snapshot } from "./types.js";

/**
 * The member's view of its log: the last snapshot plus the entries after it, in memory. The
 * durable copy is written by the driver from `persist` effects; this is what the protocol
 * reasons about.
 */
export class MemoryLog {
  private entries: Entry[];
  private snapshotValue: Snapshot | null;
  /** Indexes of the config entries in `entries`, ascending: the latest is asked for often. */
  private configIndexes: number[] = [];

  constructor(snapshot: Snapshot | null, entries: readonly Entry[]) {
    this.snapshotValue = snapshot;
    this.entries = [...entries];
    const first = this.snapshotIndex() + 1;
    this.entries.forEach((entry, offset) => {
      assert(entry.index === first + offset, `log not contiguous at ${entry.index}, expected ${first + offset}`);
      if (entry.kind === "config") this.configIndexes.push(entry.index);
    });
  }

  snapshot(): Snapshot | null {
    return this.snapshotValue;
  }

  snapshotIndex(): number {
    return this.snapshotValue?.index ?? 0;
  }

  snapshotTerm(): number {
    return this.snapshotValue?.term ?? 0;
  }

  firstIndex(): number {
    return this.snapshotIndex() + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  lastTerm(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.term : this.snapshotTerm();
  }

  lastPosition(): LogPosition {
    return { term: this.lastTerm(), index: this.lastIndex() };
  }

  /** Term of the entry at `index`, or undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex()) return this.snapshotTerm();
    return this.entries[index - this.firstIndex()]?.term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.firstIndex()];
  }

  /** Entries in [from, to] inclusive, at most `countMax` of them and about `bytesMax` bytes. */
  slice(from: number, to: number, countMax: number, bytesMax: number): Entry[] {
    assert(from >= this.firstIndex(), `slice from ${from} below first index ${this.firstIndex()}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= to && result.length < countMax; index += 1) {
      const entry = this.entries[index - this.firstIndex()];
      if (!entry) break;
      // Always include one entry so an entry larger than bytesMax still moves.
      if (result.length > 0 && bytes + entry.data.length > bytesMax) break;
      bytes += entry.data.length;
      result.push(entry);
    }
    return result;
  }

  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index}, expected ${this.lastIndex() + 1}`);
    assert(entry.term >= this.lastTerm(), `append term ${entry.term} below last term ${this.lastTerm()}`);
    this.entries.push(entry);
    if (entry.kind === "config") this.configIndexes.push(entry.index);
  }

  /** Drop every entry with index >= from. */
  truncateFrom(from: number): void {
    assert(from > this.snapshotIndex(), `truncate from ${from} into snapshot ${this.snapshotIndex()}`);
    this.entries.length = Math.max(0, from - this.firstIndex());
    while (this.configIndexes.length > 0 && (this.configIndexes[this.configIndexes.length - 1] ?? 0) >= from) this.configIndexes.pop();
  }

  /** Local compaction: the application's snapshot covers every entry up to snapshot.index. */
  compact(snapshot: Snapshot): void {
    assert(snapshot.index <= this.lastIndex(), "snapshot beyond the log");
    assert(this.term(snapshot.index) === snapshot.term, "snapshot term does not match the log");
    this.entries = this.entries.slice(snapshot.index - this.snapshotIndex());
    this.snapshotValue = snapshot;
    this.configIndexes = this.configIndexes.filter((index) => index > snapshot.index);
  }

  /** Install a leader's snapshot: the whole log is replaced. */
  restore(snapshot: Snapshot): void {
    this.entries = [];
    this.snapshotValue = snapshot;
    this.configIndexes = [];
  }

  /** True when a log ending at (lastTerm, lastIndex) is at least as up to date as this one (Raft §5.4.1). */
  isUpToDate(lastTerm: number, lastIndex: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** The last config entry still in the log (not compacted), if any. */
  lastConfigEntry(): Entry | undefined {
    const index = this.configIndexes[this.configIndexes.length - 1];
    return index === undefined ? undefined : this.entry(index);
  }
}
