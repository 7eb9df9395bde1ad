import * as fs from "node:fs";
import * as path from "node:path";
import { assert } from "../../kernel/assert.js";
import type { FileSystem } from "../../runtime/file-system.js";

/** Suffix of `writeAtomic`'s temporary files; hidden from `list` and removed at open. */
const temporarySuffix = ".tmp";

/**
 * The FileSystem port over one real directory. Appends go to the page cache through cached
 * append-mode descriptors (cheap, synchronous); `sync` runs fsync on the thread pool so group
 * commit can keep appending meanwhile. A file created since the directory was last synced gets
 * a directory fsync with its first sync, or a crash could lose the file's name.
 */
export class NodeFileSystem implements FileSystem {
  readonly directory: string;
  private readonly descriptors = new Map<string, number>();
  /** Files created since the directory was last synced. */
  private readonly unsyncedNames = new Set<string>();
  private closed = false;

  constructor(directory: string) {
    this.directory = path.resolve(directory);
    fs.mkdirSync(this.directory, { recursive: true });
    for (const name of fs.readdirSync(this.directory)) {
      if (name.endsWith(temporarySuffix)) fs.rmSync(this.pathOf(name), { force: true });
    }
  }

  list(): string[] {
    return fs
      .readdirSync(this.directory)
      .filter((name) => !name.endsWith(temporarySuffix))
      .sort();
  }

  read(name: string): Uint8Array | null {
    try {
      return fs.readFileSync(this.pathOf(name));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  append(name: string, bytes: Uint8Array): void {
    const descriptor = this.descriptorOf(name);
    let written = 0;
    while (written < bytes.length) {
      written += fs.writeSync(descriptor, bytes, written, bytes.length - written);
    }
  }

  sync(name: string, done: (error?: Error) => void): void {
    let descriptor: number;
    try {
      descriptor = this.descriptorOf(name, false);
    } catch (error) {
      queueMicrotask(() => done(asError(error)));
      return;
    }
    const needsDirectorySync = this.unsyncedNames.has(name);
    fs.fsync(descriptor, (error) => {
      if (error !== null) return done(error);
      if (!needsDirectorySync) return done();
      this.syncDirectory((directoryError) => {
        if (directoryError === null) this.unsyncedNames.delete(name);
        done(directoryError ?? undefined);
      });
    });
  }

  truncate(name: string, length: number): void {
    assert(length >= 0 && Number.isInteger(length), `truncate ${name} to ${length}`);
    fs.ftruncateSync(this.descriptorOf(name, false), length);
  }

  writeAtomic(name: string, bytes: Uint8Array, done: (error?: Error) => void): void {
    const temporary = this.pathOf(name + temporarySuffix);
    const finish = (error: NodeJS.ErrnoException | null): void => done(error ?? undefined);
    fs.open(temporary, "w", (openError, descriptor) => {
      if (openError !== null) return finish(openError);
      fs.write(descriptor, bytes, 0, bytes.length, 0, (writeError, written) => {
        const shortWrite = writeError === null && written !== bytes.length;
        if (writeError !== null || shortWrite) {
          return fs.close(descriptor, () => finish(writeError ?? new Error(`short write to ${temporary}`)));
        }
        fs.fsync(descriptor, (syncError) => {
          fs.close(descriptor, (closeError) => {
            if (syncError !== null || closeError !== null) return finish(syncError ?? closeError);
            this.closeDescriptor(name);
            fs.rename(temporary, this.pathOf(name), (renameError) => {
              if (renameError !== null) return finish(renameError);
              this.syncDirectory(finish);
            });
          });
        });
      });
    });
  }

  remove(name: string): void {
    this.closeDescriptor(name);
    fs.unlinkSync(this.pathOf(name));
    this.unsyncedNames.delete(name);
    this.syncDirectorySynchronously();
  }

  rename(from: string, to: string): void {
    this.closeDescriptor(from);
    this.closeDescriptor(to);
    fs.renameSync(this.pathOf(from), this.pathOf(to));
    this.syncDirectorySynchronously();
    this.unsyncedNames.delete(from);
  }

  /** Closes every cached descriptor. Syncs still in flight then fail with EBADF. */
  close(): void {
    this.closed = true;
    for (const name of [...this.descriptors.keys()]) this.closeDescriptor(name);
  }

  private pathOf(name: string): string {
    assert(name.length > 0 && !name.includes("/") && !name.includes("\\") && name !== "." && name !== "..", `bad file name ${JSON.stringify(name)}`);
    return path.join(this.directory, name);
  }

  /** The cached append descriptor of `name`, opening (and with `create`, creating) it. */
  private descriptorOf(name: string, create = true): number {
    assert(!this.closed, `file system ${this.directory} is closed`);
    const cached = this.descriptors.get(name);
    if (cached !== undefined) return cached;
    const file = this.pathOf(name);
    const existed = fs.existsSync(file);
    if (!existed && !create) {
      const error = new Error(`${name}: no such file`) as NodeJS.ErrnoException;
      error.code = "ENOENT";
      throw error;
    }
    const descriptor = fs.openSync(file, "a");
    if (!existed) this.unsyncedNames.add(name);
    this.descriptors.set(name, descriptor);
    return descriptor;
  }

  private closeDescriptor(name: string): void {
    const descriptor = this.descriptors.get(name);
    if (descriptor === undefined) return;
    this.descriptors.delete(name);
    fs.closeSync(descriptor);
  }

  private syncDirectory(done: (error: NodeJS.ErrnoException | null) => void): void {
    fs.open(this.directory, "r", (openError, descriptor) => {
      if (openError !== null) return done(openError);
      fs.fsync(descriptor, (syncError) => fs.close(descriptor, (closeError) => done(syncError ?? closeError)));
    });
  }

  private syncDirectorySynchronously(): void {
    const descriptor = fs.openSync(this.directory, "r");
    try {
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOENT";
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
