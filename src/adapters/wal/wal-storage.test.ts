import { describe, expect, it } from "vitest";
import { Prng } from "../../kernel/prng.js";
import type { Snapshot } from "../../protocols/consensus/types.js";
import { MemoryFileSystem } from "../memory/file-system.js";
import { parseSegmentName, parseSnapshotName, segmentName } from "./file-names.js";
import { CountingFileSystem, ManualDisk, ReferenceLog, batch, describeState, makeEntries, testConfig } from "./test-fixtures.js";
import { WalStorage } from "./wal-storage.js";

function durably(wal: WalStorage, persist: Parameters<WalStorage["write"]>[0]): Promise<void> {
  return new Promise((resolve, reject) => wal.write(persist, (error) => (error ? reject(error) : resolve())));
}

function segmentsOf(fileSystem: MemoryFileSystem): string[] {
  return fileSystem.files().filter((name) => parseSegmentName(name) !== null);
}

describe("WalStorage", () => {
  it("recovers a fresh directory as an empty member with no data", () => {
    const recovered = new WalStorage(new MemoryFileSystem()).recover();
    expect(recovered).toEqual({ hardState: { term: 0, votedFor: null, empty: true }, snapshot: null, entries: [], emptyReason: "no data" });
  });

  it("round-trips every record type", async () => {
    const fileSystem = new MemoryFileSystem();
    const random = new Prng(1);
    const wal = new WalStorage(fileSystem);
    wal.recover();
    const model = new ReferenceLog();
    const snapshot: Snapshot = { index: 3, term: 1, config: testConfig, data: new Uint8Array([9, 8, 7]) };
    const batches = [
      batch({ hardState: { term: 1, votedFor: "a", empty: false } }),
      batch({ entries: makeEntries(1, 6, 1, random) }),
      batch({ truncateFrom: 5, entries: makeEntries(5, 3, 2, random), hardState: { term: 2, votedFor: null, empty: false } }),
      batch({ snapshot, entries: [] }),
      batch({ entries: [{ index: 8, term: 2, kind: "config", data: new Uint8Array(0), config: testConfig }, { index: 9, term: 2, kind: "noop", data: new Uint8Array(0) }] }),
    ];
    for (const persist of batches) {
      await durably(wal, persist);
      model.apply(persist);
    }
    const recovered = new WalStorage(fileSystem).recover();
    expect(recovered.emptyReason).toBeNull();
    expect(describeState(recovered)).toBe(model.describe());
    expect(recovered.entries.map((entry) => entry.index)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it("group commit: writes during a sync share one further sync, callbacks in order", () => {
    const disk = new ManualDisk();
    const counting = new CountingFileSystem(disk.fileSystem);
    const wal = new WalStorage(counting);
    wal.recover();
    const random = new Prng(2);
    const order: number[] = [];
    wal.write(batch({ entries: makeEntries(1, 1, 1, random) }), () => order.push(1));
    expect(counting.syncs).toBe(1);
    const writesDuringSync = 10;
    for (let i = 0; i < writesDuringSync; i += 1) {
      wal.write(batch({ entries: makeEntries(2 + i, 1, 1, random) }), () => order.push(2 + i));
    }
    expect(counting.syncs).toBe(1);
    expect(order).toEqual([]);
    disk.runSome();
    expect(order).toEqual([1]);
    expect(counting.syncs).toBe(2);
    disk.flush();
    expect(order).toEqual(Array.from({ length: writesDuringSync + 1 }, (_, i) => i + 1));
    expect(counting.syncs).toBe(2);
  });

  it("a failed sync fails every pending write and every later one", async () => {
    const disk = new ManualDisk();
    const counting = new CountingFileSystem(disk.fileSystem);
    const wal = new WalStorage(counting);
    wal.recover();
    const random = new Prng(3);
    const results: Array<string> = [];
    const record = (label: string) => (error?: Error) => results.push(`${label}:${error?.message ?? "ok"}`);
    wal.write(batch({ entries: makeEntries(1, 1, 1, random) }), record("first"));
    disk.flush();
    counting.failSyncsWith = new Error("EIO");
    wal.write(batch({ entries: makeEntries(2, 1, 1, random) }), record("second"));
    wal.write(batch({ entries: makeEntries(3, 1, 1, random) }), record("third"));
    disk.flush();
    wal.write(batch({ entries: makeEntries(4, 1, 1, random) }), record("fourth"));
    await Promise.resolve();
    expect(results).toEqual(["first:ok", "second:EIO", "third:EIO", "fourth:EIO"]);
  });

  it("a snapshot's batch is durable only once its snapshot file is written", () => {
    const disk = new ManualDisk();
    const wal = new WalStorage(disk.fileSystem);
    wal.recover();
    const random = new Prng(4);
    const order: string[] = [];
    wal.write(batch({ entries: makeEntries(1, 4, 1, random) }), () => order.push("entries"));
    const snapshot: Snapshot = { index: 4, term: 1, config: testConfig, data: new Uint8Array([1]) };
    wal.write(batch({ snapshot, compactThrough: 4 }), () => order.push("snapshot"));
    wal.write(batch({ entries: makeEntries(5, 1, 1, random) }), () => order.push("after"));
    // Every sync completes; the snapshot file's completion waits.
    const snapshotFile = disk.queue.splice(1, 1)[0];
    disk.flush();
    expect(order).toEqual(["entries"]);
    expect(disk.fileSystem.files().some((name) => parseSnapshotName(name) !== null)).toBe(false);
    snapshotFile?.();
    expect(order).toEqual(["entries", "snapshot", "after"]);
    expect(disk.fileSystem.files().some((name) => parseSnapshotName(name) !== null)).toBe(true);
  });

  it("rolls segments and recovers across all of them", async () => {
    const fileSystem = new MemoryFileSystem();
    const wal = new WalStorage(fileSystem, { segmentBytesMax: 1024 });
    wal.recover();
    const random = new Prng(5);
    const model = new ReferenceLog();
    for (let i = 0; i < 40; i += 1) {
      const persist = batch({ entries: makeEntries(model.lastIndex + 1, 5, 1, random, 64), hardState: { term: 1, votedFor: "a", empty: false } });
      model.apply(persist);
      await durably(wal, persist);
    }
    const segments = segmentsOf(fileSystem);
    expect(segments.length).toBeGreaterThan(5);
    for (const name of segments.slice(0, -1)) expect(fileSystem.sizeOf(name)).toBeLessThan(1024 + 5 * 200);
    expect(describeState(new WalStorage(fileSystem).recover())).toBe(model.describe());
  });

  it("compaction deletes covered segments and older snapshots, and the log still recovers", async () => {
    const fileSystem = new MemoryFileSystem();
    const wal = new WalStorage(fileSystem, { segmentBytesMax: 512 });
    wal.recover();
    const random = new Prng(6);
    const model = new ReferenceLog();
    const apply = async (persist: Parameters<WalStorage["write"]>[0]): Promise<void> => {
      model.apply(persist);
      await durably(wal, persist);
    };
    await apply(batch({ hardState: { term: 1, votedFor: "b", empty: false } }));
    for (let i = 0; i < 30; i += 1) await apply(batch({ entries: makeEntries(model.lastIndex + 1, 4, 1, random, 32) }));
    const first: Snapshot = { index: 40, term: 1, config: testConfig, data: new Uint8Array([40]) };
    await apply(batch({ snapshot: first, compactThrough: 40 }));
    const segmentsAfterFirst = segmentsOf(fileSystem);
    for (let i = 0; i < 30; i += 1) await apply(batch({ entries: makeEntries(model.lastIndex + 1, 4, 1, random, 32) }));
    const before = segmentsOf(fileSystem);
    const second: Snapshot = { index: 200, term: 1, config: testConfig, data: new Uint8Array([200]) };
    await apply(batch({ snapshot: second, compactThrough: 200 }));
    const after = segmentsOf(fileSystem);

    expect(after.length).toBeLessThan(before.length);
    expect(segmentsAfterFirst).not.toContain(segmentName(1));
    expect(fileSystem.files().filter((name) => parseSnapshotName(name) !== null)).toEqual(["snapshot-00000000000000c8.snap"]);
    const recovered = new WalStorage(fileSystem).recover();
    expect(recovered.emptyReason).toBeNull();
    expect(describeState(recovered)).toBe(model.describe());
  });

  it("keeps appending after recovery and recovers again", async () => {
    const fileSystem = new MemoryFileSystem();
    const random = new Prng(7);
    const model = new ReferenceLog();
    for (let round = 0; round < 3; round += 1) {
      const wal = new WalStorage(fileSystem, { segmentBytesMax: 700 });
      const recovered = wal.recover();
      if (round > 0) expect(describeState(recovered)).toBe(model.describe());
      for (let i = 0; i < 10; i += 1) {
        const persist = batch({ entries: makeEntries(model.lastIndex + 1, 3, round + 1, random, 40), hardState: { term: round + 1, votedFor: null, empty: false } });
        model.apply(persist);
        await durably(wal, persist);
      }
      wal.close();
    }
  });
});
