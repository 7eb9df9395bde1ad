import type { Entry, Snapshot } from "../protocols/consensus/types.js";

/**
 * The application replicated by one consensus group. `apply` receives committed entries in log
 * order (every kind: commands, noops and configuration entries, so indexes stay contiguous);
 * `restore` replaces the whole state with a snapshot's. Both run only after the entries or
 * snapshot are durable on this member, except on a leader with `applyBeforeCommit`, which
 * applies its own entries as it appends them and, if it stops leading before they commit, is
 * restored to its last snapshot (or to its initial state, captured with `snapshot` at start)
 * and given the committed entries again.
 *
 * The replica calls these in slices (application-driver.ts): `apply` with a few entries at a
 * time, and, for a large state, the sliced forms of restore and snapshot when the application
 * has them, so no call blocks the event loop for long.
 */
export interface ReplicaApplication {
  apply(entries: readonly Entry[]): void;
  restore(snapshot: Snapshot): void;
  /** The application state through the last applied entry, as bytes (for compaction). */
  snapshot?(): Uint8Array;
  /**
   * Restore in slices: each `step` does some of the work while `more()` holds and returns true
   * once the state is replaced. Nothing is visible until then: the state stays as it was.
   */
  beginRestore?(snapshot: Snapshot): SlicedRestore;
  /**
   * Take the state as it is now (a quick capture of references to immutable parts) and encode
   * it in slices while applying goes on: `step` returns the bytes once they are complete.
   * The bytes must equal what `snapshot()` would have returned at the capture.
   */
  captureSnapshot?(): SnapshotEncoding;
}

export interface SlicedRestore {
  step(more: () => boolean): boolean;
  /** Bytes of the snapshot read so far, if the application counts them (the simulator charges by it). */
  readonly progressBytes?: number;
}

export interface SnapshotEncoding {
  step(more: () => boolean): Uint8Array | null;
  /** Bytes encoded so far, if the application counts them. */
  readonly progressBytes?: number;
}
