import type { Prng } from "../../kernel/prng.js";
import { assert } from "../../kernel/assert.js";
import type { FileSystem } from "../../runtime/file-system.js";

export interface MemoryFileSystemOptions {
  /**
   * Runs the completion of `sync` and `writeAtomic`. The simulator passes a function that
   * schedules the callback at a virtual time, so a crash can land between a write and its
   * durability. Default: `queueMicrotask`.
   */
  readonly defer?: (callback: () => void) => void;
}

export interface CrashOptions {
  /** Keep a random-length prefix of each file's unsynced bytes (may cut mid-record). */
  readonly tornWrites: boolean;
}

/**
 * One file: what the process sees (`content`) and what survives a crash (`durable`). The two
 * agree on `[0, agreeLength)`; bytes of `content` past it were appended or cut since the last
 * completed sync.
 */
class MemoryFile {
  content = new GrowableBytes();
  durable = new GrowableBytes();
  agreeLength = 0;

  /** Called at sync completion with the length recorded when the sync was called. */
  makeDurable(syncedLength: number): void {
    const length = Math.min(syncedLength, this.content.length);
    const from = Math.min(this.agreeLength, length);
    this.durable.truncate(from);
    this.durable.append(this.content.view(from, length));
    this.agreeLength = length;
  }

  /** What the disk holds after a crash; with torn writes a random prefix of unsynced bytes too. */
  crash(random: Prng, tornWrites: boolean): void {
    const unsynced = this.content.length - this.agreeLength;
    const kept = tornWrites && unsynced > 0 ? random.int(0, unsynced) : 0;
    if (kept > 0) {
      // Part of what the process wrote reached the platter: the cut (if any) and a prefix of
      // the appends after it.
      this.content.truncate(this.agreeLength + kept);
      this.durable.truncate(0);
      this.durable.append(this.content.view(0, this.content.length));
    } else {
      this.content.truncate(0);
      this.content.append(this.durable.view(0, this.durable.length));
    }
    this.agreeLength = this.content.length;
  }

  static withDurableContent(bytes: Uint8Array): MemoryFile {
    const file = new MemoryFile();
    file.content.append(bytes);
    file.durable.append(bytes);
    file.agreeLength = bytes.length;
    return file;
  }
}

/**
 * The simulator's disk for one directory. Appends and truncates are lost in a crash until a
 * sync of that file completes; rename and remove are durable at once; `writeAtomic` replaces
 * the old content only when its completion runs. Faults: `crash`, `flipBit`, `wipe`.
 */
export class MemoryFileSystem implements FileSystem {
  private readonly defer: (callback: () => void) => void;
  private readonly entries = new Map<string, MemoryFile>();
  /** Bumped by every crash and wipe: completions scheduled before it must never run. */
  private generation = 0;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.defer = options.defer ?? queueMicrotask;
  }

  list(): string[] {
    return [...this.entries.keys()].sort();
  }

  read(name: string): Uint8Array | null {
    const file = this.entries.get(name);
    return file === undefined ? null : file.content.view(0, file.content.length).slice();
  }

  append(name: string, bytes: Uint8Array): void {
    let file = this.entries.get(name);
    if (file === undefined) {
      file = new MemoryFile();
      this.entries.set(name, file);
    }
    file.content.append(bytes);
  }

  sync(name: string, done: (error?: Error) => void): void {
    const file = this.entries.get(name);
    if (file === undefined) {
      this.complete(() => done(notFound("sync", name)));
      return;
    }
    const syncedLength = file.content.length;
    this.complete(() => {
      // A file removed or renamed meanwhile: its data went with it (rename is durable).
      if (this.entries.get(name) === file) file.makeDurable(syncedLength);
      done();
    });
  }

  truncate(name: string, length: number): void {
    const file = this.entries.get(name);
    if (file === undefined) throw notFound("truncate", name);
    assert(length >= 0 && Number.isInteger(length), `truncate ${name} to ${length}`);
    if (length >= file.content.length) return;
    file.content.truncate(length);
    file.agreeLength = Math.min(file.agreeLength, length);
  }

  writeAtomic(name: string, bytes: Uint8Array, done: (error?: Error) => void): void {
    const copy = bytes.slice();
    this.complete(() => {
      this.entries.set(name, MemoryFile.withDurableContent(copy));
      done();
    });
  }

  remove(name: string): void {
    if (!this.entries.delete(name)) throw notFound("remove", name);
  }

  rename(from: string, to: string): void {
    const file = this.entries.get(from);
    if (file === undefined) throw notFound("rename", from);
    this.entries.delete(from);
    this.entries.set(to, file);
  }

  // --- faults ------------------------------------------------------------------------------

  /**
   * The process died. Every file loses its unsynced appends and truncates, or with torn writes
   * keeps a random-length prefix of them. Pending completions never run.
   */
  crash(random: Prng, options: CrashOptions): void {
    this.generation += 1;
    for (const name of this.list()) {
      const file = this.entries.get(name);
      assert(file !== undefined, `crash: ${name} listed but missing`);
      file.crash(random, options.tornWrites);
    }
  }

  /** Flips one random bit inside the durable bytes of a random non-empty file. */
  flipBit(random: Prng): { name: string; offset: number } | null {
    const candidates = this.list().filter((name) => (this.entries.get(name)?.durable.length ?? 0) > 0);
    if (candidates.length === 0) return null;
    const name = random.pick(candidates);
    const file = this.entries.get(name);
    assert(file !== undefined, `flipBit: ${name} missing`);
    const offset = random.int(0, file.durable.length - 1);
    const mask = 1 << random.int(0, 7);
    file.durable.xor(offset, mask);
    // The process reads the same sector back from disk unless it has rewritten it since.
    if (offset < file.agreeLength) file.content.xor(offset, mask);
    return { name, offset };
  }

  /**
   * The disk lost the end of `name`, synced bytes included (a lying fsync, a damaged disk, an
   * old copy restored): `name` keeps only its first `length` bytes, durably.
   */
  loseTail(name: string, length: number): void {
    const file = this.entries.get(name);
    if (file === undefined) throw notFound("loseTail", name);
    assert(length >= 0 && Number.isInteger(length), `loseTail ${name} to ${length}`);
    file.content.truncate(length);
    file.durable.truncate(length);
    file.agreeLength = Math.min(file.agreeLength, length);
  }

  /** The disk was replaced: everything is gone, and pending completions never run. */
  wipe(): void {
    this.generation += 1;
    this.entries.clear();
  }

  // --- test helpers ------------------------------------------------------------------------

  files(): string[] {
    return this.list();
  }

  /** Current size as the process sees it, or null if the file does not exist. */
  sizeOf(name: string): number | null {
    return this.entries.get(name)?.content.length ?? null;
  }

  /** Bytes that would survive a crash without torn writes, or null if the file does not exist. */
  durableSizeOf(name: string): number | null {
    return this.entries.get(name)?.durable.length ?? null;
  }

  private complete(callback: () => void): void {
    const generation = this.generation;
    this.defer(() => {
      if (generation === this.generation) callback();
    });
  }
}

function notFound(operation: string, name: string): Error {
  const error = new Error(`${operation} ${name}: no such file`) as Error & { code: string };
  error.code = "ENOENT";
  return error;
}

/** A byte array that grows by doubling, so appends stay amortized O(bytes appended). */
class GrowableBytes {
  private bytes = new Uint8Array(0);
  length = 0;

  append(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2, 256));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length = needed;
  }

  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  view(from: number, to: number): Uint8Array {
    return this.bytes.subarray(from, to);
  }

  xor(offset: number, mask: number): void {
    assert(offset < this.length, `xor at ${offset} past ${this.length}`);
    this.bytes[offset] = (this.bytes[offset] ?? 0) ^ mask;
  }
}
