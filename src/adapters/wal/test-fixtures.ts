/**
 * Helpers for the WAL's tests (not used by production code): a disk whose completions run
 * when the test says so, a sync-counting wrapper, batch builders and a reference model.
 */
import type { Prng } from "../../kernel/prng.js";
import type { PersistBatch } from "../../protocols/consensus/effects.js";
import type { RecoveredState } from "../../protocols/consensus/inputs.js";
import type { Configuration, Entry, HardState, Snapshot } from "../../protocols/consensus/types.js";
import type { FileSystem } from "../../runtime/file-system.js";
import { checksum } from "../../wire/checksum.js";
import { MemoryFileSystem } from "../memory/file-system.js";

/** A MemoryFileSystem whose sync and writeAtomic completions wait in a queue. */
export class ManualDisk {
  readonly queue: Array<() => void> = [];
  readonly fileSystem = new MemoryFileSystem({ defer: (callback) => this.queue.push(callback) });

  /** Runs queued completions (and any they queue) until none is left. */
  flush(): void {
    while (this.queue.length > 0) this.queue.shift()?.();
  }

  /**
   * Runs the completions queued so far, in order; or with `random`, a random number of them
   * picked in random order (a disk finishes independent requests in any order).
   */
  runSome(random?: Prng): void {
    if (random === undefined) {
      for (const callback of this.queue.splice(0)) callback();
      return;
    }
    for (let count = random.int(0, this.queue.length); count > 0 && this.queue.length > 0; count -= 1) {
      const [callback] = this.queue.splice(random.int(0, this.queue.length - 1), 1);
      callback?.();
    }
  }
}

/** Passes every call through and counts syncs, optionally failing them. */
export class CountingFileSystem implements FileSystem {
  syncs = 0;
  failSyncsWith: Error | null = null;

  constructor(private readonly inner: FileSystem) {}

  list(): string[] {
    return this.inner.list();
  }
  read(name: string): Uint8Array | null {
    return this.inner.read(name);
  }
  append(name: string, bytes: Uint8Array): void {
    this.inner.append(name, bytes);
  }
  sync(name: string, done: (error?: Error) => void): void {
    this.syncs += 1;
    const failure = this.failSyncsWith;
    this.inner.sync(name, (error) => done(failure ?? error));
  }
  truncate(name: string, length: number): void {
    this.inner.truncate(name, length);
  }
  writeAtomic(name: string, bytes: Uint8Array, done: (error?: Error) => void): void {
    this.inner.writeAtomic(name, bytes, done);
  }
  remove(name: string): void {
    this.inner.remove(name);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
}

export const testConfig: Configuration = {
  voters: [
    { id: "a", weight: 1 },
    { id: "b", weight: 2 },
  ],
  learners: [{ id: "c", weight: 0 }],
};

export function batch(parts: Partial<PersistBatch>): PersistBatch {
  return { snapshot: null, truncateFrom: null, entries: [], hardState: null, compactThrough: null, ...parts };
}

export function makeEntry(index: number, term: number, random: Prng, dataBytes = 16): Entry {
  const roll = random.int(0, 19);
  if (roll === 0) return { index, term, kind: "noop", data: new Uint8Array(0) };
  if (roll === 1) return { index, term, kind: "config", data: new Uint8Array(0), config: testConfig };
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < data.length; i += 1) data[i] = random.int(0, 255);
  return { index, term, kind: "command", data };
}

export function makeEntries(from: number, count: number, term: number, random: Prng, dataBytes = 16): Entry[] {
  return Array.from({ length: count }, (_, i) => makeEntry(from + i, term, random, dataBytes));
}

/** What a recovered state looks like for comparison: every field, data as hex. */
export function describeState(state: { hardState: HardState; snapshot: Snapshot | null; entries: readonly Entry[] }): string {
  return JSON.stringify({
    hardState: state.hardState,
    snapshot:
      state.snapshot === null
        ? null
        : { index: state.snapshot.index, term: state.snapshot.term, config: state.snapshot.config, data: Buffer.from(state.snapshot.data).toString("hex") },
    entries: state.entries.map((entry) => [entry.index, entry.term, entry.kind, checksum(entry.data), entry.data.length, entry.config ?? null]),
  });
}

/**
 * The log as the consensus sees it, applying a batch in the documented order. `steps` yields
 * the state after each part of a batch, because a crash may cut a batch between its records.
 */
export class ReferenceLog {
  /** A new member starts empty (WalStorage's "no data"). */
  hardState: HardState = { term: 0, votedFor: null, empty: true };
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  static from(state: RecoveredState): ReferenceLog {
    const log = new ReferenceLog();
    log.hardState = state.hardState;
    log.snapshot = state.snapshot;
    log.entries = [...state.entries];
    return log;
  }

  get lastIndex(): number {
    return this.entries[this.entries.length - 1]?.index ?? this.snapshot?.index ?? 0;
  }

  describe(): string {
    return describeState(this);
  }

  /** Applies `batch`, returning the description after each of its parts. */
  apply(persist: PersistBatch): string[] {
    const states: string[] = [];
    if (persist.snapshot !== null) {
      const snapshot = persist.snapshot;
      this.snapshot = snapshot;
      this.entries = this.entries.filter((entry) => entry.index > snapshot.index);
      states.push(this.describe());
    }
    if (persist.truncateFrom !== null) {
      const from = persist.truncateFrom;
      this.entries = this.entries.filter((entry) => entry.index < from);
      states.push(this.describe());
    }
    // One entries record per batch here (walRecordBytesMax is far above test batches), and a
    // record is recovered whole or not at all.
    if (persist.entries.length > 0) {
      this.entries.push(...persist.entries);
      states.push(this.describe());
    }
    if (persist.hardState !== null) {
      this.hardState = persist.hardState;
      states.push(this.describe());
    }
    return states;
  }
}

/** A random batch that keeps the log well formed: appends, votes, conflicts, snapshots. */
export function randomBatch(log: ReferenceLog, random: Prng, term: { value: number }): PersistBatch {
  const roll = random.int(0, 99);
  if (roll < 8) {
    term.value += 1;
    return batch({ hardState: { term: term.value, votedFor: random.pick(["a", "b", null]), empty: false } });
  }
  const snapshotIndex = log.snapshot?.index ?? 0;
  if (roll < 14 && log.lastIndex > snapshotIndex + 1) {
    const from = random.int(snapshotIndex + 1, log.lastIndex);
    return batch({ truncateFrom: from, entries: makeEntries(from, random.int(0, 3), term.value, random) });
  }
  if (roll < 17) {
    // What the consensus's ReadyBuilder makes of "append, then a conflict past it": a
    // truncation beyond the disk's log, with entries starting before it.
    const from = log.lastIndex + 1;
    return batch({ truncateFrom: from + 1, entries: makeEntries(from, random.int(1, 3), term.value, random) });
  }
  if (roll < 23) {
    // A local snapshot inside the log (compacting), or a leader's install that replaces it.
    const install = random.chance(0.3);
    const index = install ? random.int(snapshotIndex + 1, log.lastIndex + 5) : random.int(snapshotIndex, log.lastIndex);
    if (index > snapshotIndex) {
      const snapshot: Snapshot = { index, term: term.value, config: testConfig, data: new Uint8Array([index & 0xff, random.int(0, 255)]) };
      if (!install) return batch({ snapshot, compactThrough: random.chance(0.7) ? index : null });
      return batch({ snapshot, truncateFrom: index + 1, entries: makeEntries(index + 1, random.int(0, 2), term.value, random) });
    }
  }
  const count = random.int(1, 12);
  return batch({
    entries: makeEntries(log.lastIndex + 1, count, term.value, random, random.int(0, 200)),
    hardState: random.chance(0.1) ? { term: term.value, votedFor: null, empty: false } : null,
  });
}
