import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../../adapters/memory/file-system.js";
import { NodeFileSystem } from "../../adapters/node/file-system.js";
import { Prng } from "../../kernel/prng.js";
import type { RealmEffect } from "../../protocols/realm/effects.js";
import type { Revision } from "../../protocols/realm/messages.js";
import { realmServiceOptions } from "../../protocols/realm/options.js";
import { RealmServiceNode } from "../../protocols/realm/realm-service-node.js";
import { revisionFileName } from "./revision-file.js";
import { RevisionStore } from "./revision-store.js";

function manualDisk(): { fileSystem: MemoryFileSystem; runAll(): void } {
  const queue: Array<() => void> = [];
  const fileSystem = new MemoryFileSystem({ defer: (callback) => queue.push(callback) });
  return { fileSystem, runAll: () => queue.splice(0).forEach((callback) => callback()) };
}

const revision = (number: number, text = `definition ${number}\nwith ünïcode\n`): Revision => ({ number, hash: `h${number}`, text });

describe("the revision store", () => {
  it("keeps every deployed revision across a restart, newest last", () => {
    const { fileSystem, runAll } = manualDisk();
    const { store } = RevisionStore.open(fileSystem);
    const durable: number[] = [];
    for (const number of [1, 2, 3]) store.store(revision(number), (error) => (error === undefined ? durable.push(number) : undefined));
    runAll();
    expect(durable).toEqual([1, 2, 3]);
    fileSystem.crash(new Prng(1), { tornWrites: true });
    const reopened = RevisionStore.open(fileSystem);
    expect(reopened.problems).toEqual([]);
    expect(reopened.store.newest()).toEqual(revision(3));
    expect(reopened.store.history()).toEqual([1, 2, 3].map((number) => ({ number, hash: `h${number}` })));
    expect(reopened.store.get(2)).toEqual(revision(2));
  });

  it("a crash before the write is durable loses that revision, never half of it", () => {
    const { fileSystem, runAll } = manualDisk();
    const { store } = RevisionStore.open(fileSystem);
    store.store(revision(1), () => undefined);
    runAll();
    let done = false;
    store.store(revision(2), () => (done = true));
    expect(store.newest()?.number).toBe(2);
    fileSystem.crash(new Prng(2), { tornWrites: true });
    runAll();
    expect(done).toBe(false);
    const reopened = RevisionStore.open(fileSystem);
    expect(reopened.problems).toEqual([]);
    expect(reopened.store.newest()).toEqual(revision(1));
  });

  it("a damaged file is moved aside and reported; the other revisions are kept", () => {
    const { fileSystem, runAll } = manualDisk();
    const { store } = RevisionStore.open(fileSystem);
    for (const number of [1, 2]) store.store(revision(number), () => undefined);
    runAll();
    const name = revisionFileName(2);
    const bytes = fileSystem.read(name)!;
    const at = bytes.length - 3;
    bytes[at] = (bytes[at] ?? 0) ^ 0x04;
    fileSystem.remove(name);
    fileSystem.append(name, bytes);
    const reopened = RevisionStore.open(fileSystem);
    expect(reopened.problems).toEqual([{ file: name, problem: "a checksum mismatch (damaged on disk)" }]);
    expect(reopened.store.newest()).toEqual(revision(1));
    expect(fileSystem.list()).toContain(`${name}.corrupt`);
  });

  it("keeps at most revisionsKeptMax revisions, the oldest going first", () => {
    const { fileSystem, runAll } = manualDisk();
    const { store } = RevisionStore.open(fileSystem, { revisionsKeptMax: 2 });
    for (const number of [1, 2, 3, 4]) {
      store.store(revision(number), () => undefined);
      runAll();
    }
    expect(store.history().map((id) => id.number)).toEqual([3, 4]);
    expect(fileSystem.list()).toEqual([revisionFileName(3), revisionFileName(4)]);
  });

  it("refuses to store an older revision than its newest (a programmer error)", () => {
    const { fileSystem } = manualDisk();
    const { store } = RevisionStore.open(fileSystem);
    store.store(revision(2), () => undefined);
    expect(() => store.store(revision(2), () => undefined)).toThrow(/store revision 2 after 2/);
  });

  it("writes real files with fsync that a new process reads back", async () => {
    const directory = mkdtempSync(join(tmpdir(), "holdfast-revisions-"));
    try {
      const fileSystem = new NodeFileSystem(directory);
      const { store } = RevisionStore.open(fileSystem);
      await new Promise<void>((resolve, reject) => store.store(revision(7), (error) => (error === undefined ? resolve() : reject(error))));
      fileSystem.close();
      const reopened = RevisionStore.open(new NodeFileSystem(directory));
      expect(reopened.store.newest()).toEqual(revision(7));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe("redeploying an earlier revision", () => {
  it("deploys its text again as a new revision, which the history keeps beside the old ones", () => {
    const { fileSystem, runAll } = manualDisk();
    const { store } = RevisionStore.open(fileSystem);
    // A primary without backup or DR server, driven by hand: store-revision effects go to the store.
    const node = new RealmServiceNode(realmServiceOptions({ self: "p1", family: [{ name: "p1", role: "primary" }] }), store.newest(), 0);
    const carryOut = (effects: readonly RealmEffect[]): void => {
      for (const effect of effects) if (effect.type === "store-revision") store.store(effect.revision, () => undefined);
      runAll();
    };
    node.step(0, { type: "deploy", requestId: 1, text: "first", hash: "hash-first" });
    node.step(1, { type: "deploy", requestId: 2, text: "second", hash: "hash-second" });
    carryOut(node.takeEffects());
    const earlier = store.get(1)!;
    node.step(2, { type: "deploy", requestId: 3, text: earlier.text, hash: earlier.hash });
    carryOut(node.takeEffects());
    expect(store.history()).toEqual([
      { number: 1, hash: "hash-first" },
      { number: 2, hash: "hash-second" },
      { number: 3, hash: "hash-first" },
    ]);
    expect(store.newest()?.text).toBe("first");
  });
});
