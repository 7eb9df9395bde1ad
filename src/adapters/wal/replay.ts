import type { FileSystem } from "../../runtime/file-system.js";
import type { Entry, HardState, Snapshot } from "../../protocols/consensus/types.js";
import { PayloadError, type SnapshotMarker, decodeEntries, decodeHardState, decodeSnapshotMarker, decodeTruncateFrom } from "./record-codec.js";
import { RecordType, readRecord } from "./record-format.js";
import { parseSegmentName, snapshotName } from "./file-names.js";
import { decodeSnapshotFile } from "./snapshot-file.js";

/** What a segment holds, for the writer: where to continue and what compaction may delete. */
export interface SegmentInfo {
  readonly name: string;
  readonly firstSequence: number;
  /** Bytes of whole records (after a cut). */
  size: number;
  /** Highest entry index written into this segment; 0 if none. */
  maxEntryIndex: number;
}

/** Where the log ends early: records at and after it never became durable as a whole. */
export interface Cut {
  readonly segment: number;
  readonly offset: number;
  readonly reason: string;
}

export type Replay =
  | {
      readonly kind: "recovered";
      readonly hardState: HardState | null;
      readonly snapshot: Snapshot | null;
      readonly entries: Entry[];
      readonly segments: SegmentInfo[];
      /** Sequence number of the next record to write. */
      readonly nextSequence: number;
      readonly cut: Cut | null;
    }
  | { readonly kind: "corrupt"; readonly reason: string };

interface Segment {
  readonly name: string;
  readonly firstSequence: number;
  readonly bytes: Buffer;
}

/** A failure that makes the whole log untrustworthy; `reason` names file, offset and check. */
class Corruption extends Error {}

/**
 * Reads every segment and replays its records in order (see README.md for the rules). Pure
 * with respect to the file system: it reads only; the caller applies the cut or moves files
 * aside.
 */
export function replayLog(fileSystem: FileSystem): Replay {
  const segments = readSegments(fileSystem);
  try {
    let limit: Cut | null = null;
    // Each pass either succeeds or moves the cut strictly earlier, so this terminates.
    while (true) {
      const scan = scanSegments(segments, limit);
      limit = scan.cut;
      const snapshot = scan.marker === null ? null : loadSnapshot(fileSystem, scan.marker);
      if (snapshot === "missing") {
        // The snapshot's file never finished writing: the install (and everything after it)
        // was never acknowledged, so the log ends just before its marker.
        const position = scan.markerPosition;
        if (position === null) {
          throw new Corruption(`${snapshotName(scan.marker?.index ?? 0)}: snapshot file missing, and the log was compacted on the strength of it`);
        }
        limit = { ...position, reason: `${snapshotName(scan.marker?.index ?? 0)} never finished writing` };
        continue;
      }
      checkContiguous(scan.entries, snapshot);
      return {
        kind: "recovered",
        hardState: scan.hardState,
        snapshot,
        entries: scan.entries,
        segments: scan.infos,
        nextSequence: scan.nextSequence,
        cut: limit,
      };
    }
  } catch (error) {
    if (error instanceof Corruption) return { kind: "corrupt", reason: error.message };
    throw error;
  }
}

function readSegments(fileSystem: FileSystem): Segment[] {
  const segments: Segment[] = [];
  for (const name of fileSystem.list()) {
    const firstSequence = parseSegmentName(name);
    if (firstSequence === null) continue;
    const bytes = fileSystem.read(name) ?? new Uint8Array(0);
    segments.push({ name, firstSequence, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  }
  return segments.sort((a, b) => a.firstSequence - b.firstSequence);
}

interface Scan {
  hardState: HardState | null;
  marker: SnapshotMarker | null;
  /** Position of the original (non-checkpoint) record of `marker`, if still in the log. */
  markerPosition: { segment: number; offset: number } | null;
  entries: Entry[];
  infos: SegmentInfo[];
  nextSequence: number;
  cut: Cut | null;
}

function scanSegments(segments: readonly Segment[], limit: Cut | null): Scan {
  const scan: Scan = { hardState: null, marker: null, markerPosition: null, entries: [], infos: [], nextSequence: 1, cut: limit };
  let expectedSequence: number | null = null;
  for (let segment = 0; segment < segments.length; segment += 1) {
    const { name, firstSequence, bytes } = segments[segment] as Segment;
    if (scan.cut !== null && segment > scan.cut.segment) break;
    if (expectedSequence !== null && firstSequence !== expectedSequence) {
      throw new Corruption(`${name}: sequence gap: expected a segment starting at record ${expectedSequence}`);
    }
    expectedSequence = firstSequence;
    const info: SegmentInfo = { name, firstSequence, size: 0, maxEntryIndex: 0 };
    scan.infos.push(info);
    const end = scan.cut !== null && segment === scan.cut.segment ? scan.cut.offset : bytes.length;
    let offset = 0;
    while (offset < end) {
      const read = readRecord(bytes, offset);
      if (read.kind === "corrupt") throw new Corruption(`${name} at offset ${offset}: ${read.reason}`);
      if (read.kind === "incomplete") {
        // A crash's tail can only be in the last segment: a segment gets its first bytes only
        // once every earlier one is durable (the segment barrier in group-commit.ts).
        if (segment !== segments.length - 1) throw new Corruption(`${name} at offset ${offset}: ${read.reason}, but later segments exist`);
        scan.cut = { segment, offset, reason: `${name} at offset ${offset}: ${read.reason}` };
        break;
      }
      if (read.sequence !== expectedSequence) {
        throw new Corruption(`${name} at offset ${offset}: sequence gap: record ${read.sequence}, expected ${expectedSequence}`);
      }
      try {
        applyRecord(scan, read.type, read.payload, info, { segment, offset });
      } catch (error) {
        if (error instanceof PayloadError || error instanceof Corruption) {
          throw new Corruption(`${name} at offset ${offset}: ${error.message}`);
        }
        throw error;
      }
      expectedSequence += 1;
      offset = read.end;
    }
    info.size = Math.min(offset, end);
    if (scan.cut !== null && segment === scan.cut.segment) break;
  }
  scan.nextSequence = expectedSequence ?? 1;
  return scan;
}

function applyRecord(scan: Scan, type: RecordType, payload: Buffer, info: SegmentInfo, position: { segment: number; offset: number }): void {
  switch (type) {
    case RecordType.entries: {
      const decoded = decodeEntries(payload);
      for (const entry of decoded) appendEntry(scan, entry);
      const last = decoded[decoded.length - 1];
      if (last !== undefined) info.maxEntryIndex = Math.max(info.maxEntryIndex, last.index);
      return;
    }
    case RecordType.hardState:
      scan.hardState = decodeHardState(payload);
      return;
    case RecordType.truncateFrom: {
      const index = decodeTruncateFrom(payload);
      const first = scan.entries[0];
      if (first !== undefined) scan.entries.length = Math.max(0, Math.min(scan.entries.length, index - first.index));
      return;
    }
    case RecordType.snapshotMarker: {
      const marker = decodeSnapshotMarker(payload);
      if (scan.marker !== null && scan.marker.index === marker.index && scan.marker.term === marker.term) return;
      if (scan.marker !== null && marker.index < scan.marker.index) throw new Corruption(`snapshot marker ${marker.index} goes back from ${scan.marker.index}`);
      scan.marker = marker;
      scan.markerPosition = marker.checkpoint ? null : position;
      scan.entries = scan.entries.filter((entry) => entry.index > marker.index);
      return;
    }
  }
}

/**
 * Entries arrive contiguous. Only an empty log may restart at any index: the first segments
 * and the entries they held may have been compacted away under a snapshot.
 */
function appendEntry(scan: Scan, entry: Entry): void {
  if (scan.marker !== null && entry.index <= scan.marker.index) return;
  const last = scan.entries[scan.entries.length - 1];
  if (last !== undefined && entry.index !== last.index + 1) {
    throw new Corruption(`entry ${entry.index} does not follow entry ${last.index}`);
  }
  scan.entries.push(entry);
}

function loadSnapshot(fileSystem: FileSystem, marker: SnapshotMarker): Snapshot | "missing" {
  const name = snapshotName(marker.index);
  const bytes = fileSystem.read(name);
  if (bytes === null) return "missing";
  let snapshot: Snapshot;
  try {
    snapshot = decodeSnapshotFile(bytes);
  } catch (error) {
    if (error instanceof PayloadError) throw new Corruption(`${name}: ${error.message}`);
    throw error;
  }
  if (snapshot.index !== marker.index || snapshot.term !== marker.term) {
    throw new Corruption(`${name}: holds ${snapshot.index}/${snapshot.term}, the log's marker says ${marker.index}/${marker.term}`);
  }
  return snapshot;
}

/** The recovered log may have no holes: it starts right after the snapshot, or at 1. */
function checkContiguous(entries: readonly Entry[], snapshot: Snapshot | null): void {
  const first = entries[0];
  if (first === undefined) return;
  const expected = snapshot === null ? 1 : snapshot.index + 1;
  if (first.index !== expected) {
    throw new Corruption(`log starts at entry ${first.index}, expected ${expected}${snapshot === null ? " (no snapshot)" : ` after snapshot ${snapshot.index}`}: entries are missing`);
  }
}
