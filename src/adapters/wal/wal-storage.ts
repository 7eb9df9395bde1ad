import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { PersistBatch } from "../../protocols/consensus/effects.js";
import type { RecoveredState } from "../../protocols/consensus/inputs.js";
import type { Entry, HardState } from "../../protocols/consensus/types.js";
import type { FileSystem } from "../../runtime/file-system.js";
import type { LogStorage } from "../../runtime/ports.js";
import { corruptPrefix, parseSegmentName, parseSnapshotName, segmentName, snapshotName } from "./file-names.js";
import { GroupCommit } from "./group-commit.js";
import { type PendingRecord, type SnapshotMarker, encodeRecords, entriesRecords } from "./record-codec.js";
import { RecordType } from "./record-format.js";
import { type SegmentInfo, replayLog } from "./replay.js";
import { encodeSnapshotFile } from "./snapshot-file.js";

export interface WalLogger {
  warn(message: string): void;
}

export interface WalStorageOptions {
  /** A segment rolls over once it reaches this size. Default: limits.walSegmentBytesMax. */
  readonly segmentBytesMax?: number;
  /** Told about torn tails cut away and corruption moved aside. */
  readonly logger?: WalLogger;
}

/** What a member with no trustworthy data starts from (FTL's empty member). */
const emptyHardState: HardState = { term: 0, votedFor: null, empty: true };

/**
 * A log with records but no hard state record: the consensus never replaced the hard state it
 * started from, which for a new member is the empty one ("no data"). Stay empty: the
 * consensus clears the flag by persisting a hard state once it has caught up.
 */
const initialHardState: HardState = emptyHardState;

/**
 * One member's durable log: a segmented write-ahead log with a CRC on every record, group
 * commit, snapshots in their own files, and recovery that cuts a crash's torn tail but turns
 * any damage into an empty member rather than a log with holes. Format and rules: README.md.
 */
export class WalStorage implements LogStorage {
  private readonly segmentBytesMax: number;
  private readonly logger: WalLogger | null;
  private readonly commit: GroupCommit;
  /** Segments in order; the last one is being appended to. */
  private segments: SegmentInfo[] = [];
  private nextSequence = 1;
  /** Latest hard state and snapshot written, copied to the head of every new segment. */
  private hardState: HardState | null = null;
  private snapshotMarker: SnapshotMarker | null = null;
  private recovered = false;
  /**
   * Set by recovery: the last segment's head may have lost part of its checkpoint in the
   * crash, so new records go to a new segment that starts with a whole one.
   */
  private rollAtNextWrite = false;
  private closed = false;

  constructor(
    private readonly fileSystem: FileSystem,
    options: WalStorageOptions = {},
  ) {
    this.segmentBytesMax = options.segmentBytesMax ?? limits.walSegmentBytesMax;
    assert(this.segmentBytesMax > 0, `segmentBytesMax ${this.segmentBytesMax}`);
    this.logger = options.logger ?? null;
    this.commit = new GroupCommit(fileSystem);
  }

  recover(): RecoveredState & { readonly emptyReason: string | null } {
    assert(!this.recovered, "recover is called once, at start");
    this.recovered = true;
    const replay = replayLog(this.fileSystem);
    if (replay.kind === "corrupt") {
      const reason = `WAL corrupt: ${replay.reason}; files moved aside as ${corruptPrefix}*`;
      this.logger?.warn(reason);
      this.moveAside();
      return { hardState: emptyHardState, snapshot: null, entries: [], emptyReason: reason };
    }
    if (replay.cut !== null) {
      this.logger?.warn(`WAL torn tail: ${replay.cut.reason}; cut away`);
      this.applyCut(replay.segments);
    }
    this.removeOrphanSnapshots(replay.snapshot?.index ?? null);
    this.segments = replay.segments;
    this.nextSequence = replay.nextSequence;
    this.hardState = replay.hardState;
    this.snapshotMarker = replay.snapshot === null ? null : { index: replay.snapshot.index, term: replay.snapshot.term, checkpoint: true };
    this.rollAtNextWrite = true;
    const hasData = this.nextSequence > 1 || replay.snapshot !== null;
    let emptyReason: string | null = null;
    if (replay.cut !== null && hasData) {
      emptyReason = `WAL tail cut (${replay.cut.reason}): it may have held records synced and acknowledged before, so this member does not count until caught up`;
      this.markTailCut();
    } else if (replay.hardState?.empty === true && hasData) {
      emptyReason = "not caught up yet since it recovered empty (no data, corruption, or a cut WAL tail)";
    }
    // What was read back may sit only in the page cache: the first round syncs all of it.
    this.commit.startAt(this.nextSequence - 1);
    for (const segment of this.segments) this.commit.noteAppended(segment.name, this.nextSequence - 1);
    if (!hasData) {
      return { hardState: emptyHardState, snapshot: null, entries: [], emptyReason: "no data" };
    }
    return { hardState: this.hardState ?? initialHardState, snapshot: replay.snapshot, entries: replay.entries, emptyReason };
  }

  write(batch: PersistBatch, onDurable: (error?: Error) => void): void {
    assert(this.recovered, "recover before write");
    assert(!this.closed, "write after close");
    if (this.commit.failed !== null) {
      this.commit.enqueue({ through: 0, snapshotPending: false, whenDurable: null, onDurable });
      return;
    }
    checkBatch(batch, this.snapshotMarker);
    const records: PendingRecord[] = [];
    if (batch.snapshot !== null) {
      this.snapshotMarker = { index: batch.snapshot.index, term: batch.snapshot.term, checkpoint: false };
      records.push({ type: RecordType.snapshotMarker, marker: this.snapshotMarker });
    }
    if (batch.truncateFrom !== null) records.push({ type: RecordType.truncateFrom, index: batch.truncateFrom });
    if (batch.entries.length > 0) records.push(...entriesRecords(batch.entries));
    if (batch.hardState !== null) records.push({ type: RecordType.hardState, hardState: batch.hardState });
    try {
      if (records.length > 0) this.appendRecords(records, batch);
    } catch (error) {
      // The disk refused the append (full, gone): an operating error, reported like a failed sync.
      this.commit.fail(error instanceof Error ? error : new Error(String(error)));
      this.commit.enqueue({ through: 0, snapshotPending: false, whenDurable: null, onDurable });
      return;
    }
    if (batch.hardState !== null) this.hardState = batch.hardState;
    const snapshotIndex = this.snapshotMarker?.index ?? 0;
    const compactThrough = batch.compactThrough;
    const pending = this.commit.enqueue({
      through: this.nextSequence - 1,
      snapshotPending: batch.snapshot !== null,
      whenDurable: compactThrough === null ? null : () => this.compact(Math.min(compactThrough, snapshotIndex), snapshotIndex),
      onDurable,
    });
    if (batch.snapshot !== null) {
      this.fileSystem.writeAtomic(snapshotName(batch.snapshot.index), encodeSnapshotFile(batch.snapshot), (error) =>
        this.commit.snapshotWritten(pending, error),
      );
    }
  }

  /** Stops accepting writes. Callbacks of writes in flight still run when the disk answers. */
  close(): void {
    this.closed = true;
  }

  private appendRecords(records: PendingRecord[], batch: PersistBatch): void {
    let segment = this.segments[this.segments.length - 1];
    const startsSegment = segment === undefined || this.rollAtNextWrite || segment.size >= this.segmentBytesMax;
    if (segment === undefined || startsSegment) {
      this.rollAtNextWrite = false;
      // An empty recovered segment already has the right name: start it over.
      if (segment === undefined || segment.size > 0) {
        segment = { name: segmentName(this.nextSequence), firstSequence: this.nextSequence, size: 0, maxEntryIndex: 0 };
        this.segments.push(segment);
      }
      // A new segment starts with the state before this batch, so older segments can be
      // deleted without losing the hard state or the snapshot marker they held.
      const checkpoint: PendingRecord[] = [];
      if (this.hardState !== null) checkpoint.push({ type: RecordType.hardState, hardState: this.hardState });
      const previousMarker = batch.snapshot !== null ? null : this.snapshotMarker;
      if (previousMarker !== null) checkpoint.push({ type: RecordType.snapshotMarker, marker: { ...previousMarker, checkpoint: true } });
      records.unshift(...checkpoint);
    }
    const bytes = encodeRecords(records, this.nextSequence);
    this.commit.append(segment.name, bytes, this.nextSequence + records.length - 1, startsSegment);
    segment.size += bytes.length;
    const lastEntry = batch.entries[batch.entries.length - 1];
    if (lastEntry !== undefined) segment.maxEntryIndex = Math.max(segment.maxEntryIndex, lastEntry.index);
    this.nextSequence += records.length;
  }

  /**
   * Runs once the batch that asked for it is durable (so is its snapshot): deletes the oldest
   * segments whose entries are all at or below `through`, never the one being appended to, and
   * snapshot files older than the current one.
   */
  private compact(through: number, snapshotIndex: number): void {
    while (this.segments.length > 1 && (this.segments[0] as SegmentInfo).maxEntryIndex <= through) {
      const oldest = this.segments.shift() as SegmentInfo;
      this.commit.forget(oldest.name);
      this.fileSystem.remove(oldest.name);
    }
    for (const name of this.fileSystem.list()) {
      const index = parseSnapshotName(name);
      if (index !== null && index < snapshotIndex) this.fileSystem.remove(name);
    }
  }

  /** Truncates the segment holding the cut and removes every later segment (never synced whole). */
  private applyCut(kept: readonly SegmentInfo[]): void {
    const keptNames = new Set(kept.map((segment) => segment.name));
    for (const name of this.fileSystem.list()) {
      if (parseSegmentName(name) !== null && !keptNames.has(name)) this.fileSystem.remove(name);
    }
    const last = kept[kept.length - 1];
    if (last !== undefined) this.fileSystem.truncate(last.name, last.size);
  }

  /**
   * A cut tail looks the same whether the crash tore records never synced (harmless) or the
   * disk lost records it had synced, and so acknowledged (a lying or damaged disk, an old copy
   * restored): recovery cannot tell which. So the member comes back empty (FTL's non-empty
   * rule, held by the consensus) with its log kept: it counts toward no quorum until a
   * current leader has caught it up. The flag (a hard state record) goes into the cut segment
   * itself, right where the cut was, and the first sync covers the cut and the flag together:
   * a crash before then leaves the old torn tail or a torn flag record, both cut again. (A real
   * file system may make the truncate durable before the appended bytes; a second crash inside
   * that one sync would forget the cut. Nothing this member sends counts before then anyway.)
   */
  private markTailCut(): void {
    const last = this.segments[this.segments.length - 1];
    assert(last !== undefined, "a log with data after a cut has a segment");
    this.hardState = { ...(this.hardState ?? initialHardState), empty: true };
    const bytes = encodeRecords([{ type: RecordType.hardState, hardState: this.hardState }], this.nextSequence);
    this.fileSystem.append(last.name, bytes);
    last.size += bytes.length;
    this.nextSequence += 1;
  }

  /** Snapshot files newer than the recovered snapshot belong to installs that never finished. */
  private removeOrphanSnapshots(snapshotIndex: number | null): void {
    for (const name of this.fileSystem.list()) {
      const index = parseSnapshotName(name);
      if (index !== null && (snapshotIndex === null || index > snapshotIndex)) this.fileSystem.remove(name);
    }
  }

  /**
   * Corruption: keep every WAL and snapshot file for an operator, and start from nothing.
   * Order matters if this is interrupted: snapshot files go first, then segments oldest first,
   * so what is left is never a valid-looking prefix of the log.
   */
  private moveAside(): void {
    const existing = new Set(this.fileSystem.list());
    for (const name of [...existing]) {
      if (parseSegmentName(name) === null && parseSnapshotName(name) === null) continue;
      let target = `${corruptPrefix}${name}`;
      for (let copy = 1; existing.has(target); copy += 1) target = `${corruptPrefix}${name}.${copy}`;
      this.fileSystem.rename(name, target);
      existing.add(target);
    }
  }
}

/** The consensus hands over well-formed batches; anything else is a programmer error. */
function checkBatch(batch: PersistBatch, marker: SnapshotMarker | null): void {
  if (batch.snapshot !== null) {
    assert(marker === null || batch.snapshot.index >= marker.index, `snapshot ${batch.snapshot.index} goes back from ${marker?.index}`);
  }
  const entries = batch.entries;
  for (let i = 1; i < entries.length; i += 1) {
    assert((entries[i] as Entry).index === (entries[i - 1] as Entry).index + 1, `batch entries not contiguous at ${i}`);
  }
}
