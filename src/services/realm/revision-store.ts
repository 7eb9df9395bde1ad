import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { Revision, RevisionId } from "../../protocols/realm/messages.js";
import type { FileSystem } from "../../runtime/file-system.js";
import { decodeRevision, encodeRevision, revisionFileName, revisionNumberOf } from "./revision-file.js";

export interface RevisionStoreOptions {
  /** Revisions kept for redeploy; past it the oldest file is removed. The newest always stays. */
  readonly revisionsKeptMax: number;
}

/** A revision file that could not be read: moved aside as `<name>.corrupt`, never deleted. */
export interface RevisionStoreProblem {
  readonly file: string;
  readonly problem: string;
}

/**
 * The history of deployed revisions on one server's disk, one file per revision (revision-file.ts),
 * over the FileSystem port: real files with fsync in production, the simulator's disk in tests.
 * It carries out the realm protocol's `store-revision` effect (durable when `done` runs, which
 * is what the protocol's ordering contract waits for), gives the newest revision to a restarting
 * server, and the text of any earlier one to deploy again (a rollback is a new revision).
 */
export class RevisionStore {
  /** Revisions written by this process (durable or on their way), by number. */
  private readonly revisions = new Map<number, Revision>();

  private constructor(
    private readonly fileSystem: FileSystem,
    private readonly options: RevisionStoreOptions,
  ) {}

  /** Reads every revision file; a damaged one is moved aside and reported, the rest are kept. */
  static open(fileSystem: FileSystem, options: Partial<RevisionStoreOptions> = {}): { store: RevisionStore; problems: RevisionStoreProblem[] } {
    const store = new RevisionStore(fileSystem, { revisionsKeptMax: limits.realmRevisionsKeptMax, ...options });
    assert(store.options.revisionsKeptMax >= 1, "realm: keep at least the newest revision");
    const problems: RevisionStoreProblem[] = [];
    for (const name of fileSystem.list()) {
      const number = revisionNumberOf(name);
      if (number === null) continue;
      const decoded = decodeRevision(fileSystem.read(name) ?? new Uint8Array(), number);
      if (decoded.ok) {
        store.revisions.set(number, decoded.revision);
        continue;
      }
      fileSystem.rename(name, `${name}.corrupt`);
      problems.push({ file: name, problem: decoded.problem });
    }
    return { store, problems };
  }

  newest(): Revision | null {
    let newest: Revision | null = null;
    for (const revision of this.revisions.values()) if (newest === null || revision.number > newest.number) newest = revision;
    return newest;
  }

  /** Every kept revision, oldest first, without its text (for `admin status` and the API). */
  history(): RevisionId[] {
    return [...this.revisions.values()].sort((a, b) => a.number - b.number).map(({ number, hash }) => ({ number, hash }));
  }

  get(number: number): Revision | null {
    return this.revisions.get(number) ?? null;
  }

  /**
   * Writes `revision` durably (temporary file, fsync, rename, directory fsync), then calls
   * `done`. Revisions arrive in increasing numbers: the protocol never stores an older one.
   */
  store(revision: Revision, done: (error?: Error) => void): void {
    const newest = this.newest();
    assert(newest === null || revision.number > newest.number, `realm: store revision ${revision.number} after ${newest?.number}`);
    this.revisions.set(revision.number, revision);
    this.fileSystem.writeAtomic(revisionFileName(revision.number), encodeRevision(revision), (error) => {
      if (error === undefined) this.prune();
      done(error);
    });
  }

  /** Removes the oldest revisions past `revisionsKeptMax` (bounded history on disk and here). */
  private prune(): void {
    const numbers = [...this.revisions.keys()].sort((a, b) => a - b);
    const excess = numbers.length - this.options.revisionsKeptMax;
    for (const number of numbers.slice(0, Math.max(0, excess))) {
      this.revisions.delete(number);
      const name = revisionFileName(number);
      // A file whose write has not completed yet (an out-of-order completion) is left for next time.
      if (this.fileSystem.list().includes(name)) this.fileSystem.remove(name);
    }
  }
}
