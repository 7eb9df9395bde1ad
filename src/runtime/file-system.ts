/**
 * The one directory a member's write-ahead log lives in. The WAL is written against this port
 * so the simulator runs the real WAL code over a disk that loses unsynced writes on crash,
 * tears writes and flips bits (adapters/memory/file-system.ts), while production runs it over
 * real files with fsync (adapters/node/file-system.ts).
 *
 * Synchronous calls are cheap (page cache in production, memory in simulation); only `sync`
 * and `writeAtomic` wait for the disk, and they report through a callback so group commit can
 * overlap them with new work.
 */
export interface FileSystem {
  /** File names in the directory, sorted. */
  list(): string[];
  /** Whole file, or null if it does not exist. */
  read(name: string): Uint8Array | null;
  /** Append to `name` (created if missing). Not durable until `sync`. */
  append(name: string, bytes: Uint8Array): void;
  /** Make every append and truncate of `name` so far durable, then call `done`. */
  sync(name: string, done: (error?: Error) => void): void;
  /** Cut `name` to `length` bytes (durable after the next `sync` of that file). */
  truncate(name: string, length: number): void;
  /** Replace `name` with `bytes` atomically and durably (temp file, fsync, rename, fsync dir). */
  writeAtomic(name: string, bytes: Uint8Array, done: (error?: Error) => void): void;
  /** Delete `name` (durable: the directory is synced). */
  remove(name: string): void;
  /** Rename (durable: the directory is synced). Used to move corrupt files aside. */
  rename(from: string, to: string): void;
}
