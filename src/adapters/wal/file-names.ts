/**
 * Names of the files a WAL keeps in its directory. Numbers are 16 lowercase hex digits so the
 * directory's sorted listing is also numeric order.
 */

const segmentPattern = /^wal-([0-9a-f]{16})\.log$/;
const snapshotPattern = /^snapshot-([0-9a-f]{16})\.snap$/;

/** Prefix given to files moved aside after corruption; they are kept for an operator. */
export const corruptPrefix = "corrupt-";

function hex16(value: number): string {
  return value.toString(16).padStart(16, "0");
}

/** A segment is named by the sequence number of its first record. */
export function segmentName(firstSequence: number): string {
  return `wal-${hex16(firstSequence)}.log`;
}

export function snapshotName(index: number): string {
  return `snapshot-${hex16(index)}.snap`;
}

/** First sequence number of a segment file name, or null if `name` is not a segment. */
export function parseSegmentName(name: string): number | null {
  const match = segmentPattern.exec(name);
  return match === null ? null : Number.parseInt(match[1] as string, 16);
}

/** Index of a snapshot file name, or null if `name` is not a snapshot file. */
export function parseSnapshotName(name: string): number | null {
  const match = snapshotPattern.exec(name);
  return match === null ? null : Number.parseInt(match[1] as string, 16);
}
