import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Prng } from "../../kernel/prng.js";
import type { PersistBatch } from "../../protocols/consensus/effects.js";
import { MemoryFileSystem } from "../memory/file-system.js";
import { corruptPrefix, parseSegmentName, parseSnapshotName, snapshotName } from "./file-names.js";
import { recordHeaderBytes } from "./record-format.js";
import { ManualDisk, ReferenceLog, batch, describeState, makeEntries, randomBatch } from "./test-fixtures.js";
import { WalStorage } from "./wal-storage.js";

const emptyMember = { term: 0, votedFor: null, empty: true };

interface Run {
  readonly recovered: ReturnType<WalStorage["recover"]>;
  /** Descriptions the recovered state may match: each one at or after the last acknowledgment. */
  readonly allowed: Set<string>;
  readonly model: ReferenceLog;
}

/**
 * Writes random batches while completing a random share of the disk's completions, crashes
 * at a random moment, recovers. The recovered state must be what the log held after some
 * part of some batch, no earlier than the last batch whose onDurable fired.
 */
function crashAndRecover(disk: ManualDisk, start: ReferenceLog, random: Prng, tornWrites: boolean, segmentBytesMax: number): Run {
  const wal = new WalStorage(disk.fileSystem, { segmentBytesMax });
  const initial = wal.recover();
  expect(initial.emptyReason === null || initial.emptyReason === "no data" || initial.hardState.empty).toBe(true);
  const model = start;
  const term = { value: model.hardState.term };
  // states[i]: descriptions reachable once batch i-1 finished and before batch i completes.
  const statesAfterBatch: string[][] = [[model.describe()]];
  let acknowledged = 0;
  const batches = random.int(1, 40);
  for (let i = 0; i < batches; i += 1) {
    const persist: PersistBatch = randomBatch(model, random, term);
    const states = model.apply(persist);
    statesAfterBatch.push(states.length > 0 ? states : [model.describe()]);
    wal.write(persist, (error) => {
      expect(error).toBeUndefined();
      expect(acknowledged).toBe(i);
      acknowledged = i + 1;
    });
    if (random.chance(0.5)) disk.runSome(random);
  }
  if (random.chance(0.3)) disk.flush();
  disk.fileSystem.crash(random, { tornWrites });
  const recovered = new WalStorage(disk.fileSystem, { segmentBytesMax }).recover();
  const allowed = new Set<string>();
  // The state right after the last acknowledged batch, and every state after it.
  allowed.add((statesAfterBatch[acknowledged] as string[]).at(-1) as string);
  for (const states of statesAfterBatch.slice(acknowledged + 1)) for (const state of states) allowed.add(state);
  return { recovered, allowed, model };
}

function isAllowed(run: Run, fresh: string): boolean {
  const recovered = run.recovered;
  if (recovered.emptyReason === "no data") return run.allowed.has(fresh);
  if (recovered.emptyReason?.startsWith("WAL tail cut") === true) {
    // A cut tail may have held synced records: the member comes back empty, log kept.
    if (!recovered.hardState.empty) return false;
    const asWritten = (empty: boolean) => describeState({ ...recovered, hardState: { ...recovered.hardState, empty } });
    return run.allowed.has(asWritten(false)) || run.allowed.has(asWritten(true));
  }
  if (recovered.emptyReason !== null && !recovered.hardState.empty) return false;
  return run.allowed.has(describeState(recovered));
}

describe("WAL recovery after a crash", () => {
  const fresh = new ReferenceLog().describe();

  for (const tornWrites of [false, true]) {
    it(`loses only unacknowledged batches (${tornWrites ? "torn writes" : "clean loss of unsynced bytes"}), over many seeds`, () => {
      for (let seed = 1; seed <= 200; seed += 1) {
        const random = new Prng(seed);
        const disk = new ManualDisk();
        let model = new ReferenceLog();
        // Several crash-recover cycles on one disk: recovery must leave a log that can grow.
        for (let cycle = 0; cycle < 3; cycle += 1) {
          const run = crashAndRecover(disk, model, random, tornWrites, random.pick([300, 2000, 1 << 20]));
          if (!isAllowed(run, fresh)) {
            throw new Error(`seed ${seed} cycle ${cycle}: recovered ${run.recovered.emptyReason ?? ""} ${describeState(run.recovered).slice(0, 400)}`);
          }
          model = run.recovered.emptyReason === "no data" ? new ReferenceLog() : ReferenceLog.from(run.recovered);
        }
      }
    });
  }

  it("a flipped bit in durable data gives an empty member with a reason, never a shorter log", () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const random = new Prng(seed);
      const disk = new ManualDisk();
      const wal = new WalStorage(disk.fileSystem, { segmentBytesMax: random.pick([400, 4000]) });
      wal.recover();
      const model = new ReferenceLog();
      const term = { value: 1 };
      for (let i = 0; i < random.int(1, 30); i += 1) {
        const persist = randomBatch(model, random, term);
        model.apply(persist);
        wal.write(persist, () => undefined);
        disk.flush();
      }
      const flipped = disk.fileSystem.flipBit(random);
      disk.fileSystem.crash(random, { tornWrites: false });
      const recovered = new WalStorage(disk.fileSystem).recover();
      const onlyOldSnapshot = flipped !== null && parseSnapshotName(flipped.name) !== null && flipped.name !== snapshotName(model.snapshot?.index ?? -1);
      if (flipped === null || onlyOldSnapshot) {
        expect(describeState(recovered), `seed ${seed}`).toBe(model.describe());
        continue;
      }
      expect(recovered.hardState, `seed ${seed}`).toEqual(emptyMember);
      expect(recovered.entries).toEqual([]);
      expect(recovered.snapshot).toBeNull();
      expect(recovered.emptyReason, `seed ${seed}`).toContain(flipped.name);
      const names = disk.fileSystem.files();
      expect(names.some((name) => parseSegmentName(name) !== null || parseSnapshotName(name) !== null)).toBe(false);
      expect(names).toContain(`${corruptPrefix}${flipped.name}`);
    }
  });

  it("the member starts over after corruption and its new log recovers", async () => {
    const disk = new ManualDisk();
    const random = new Prng(11);
    const wal = new WalStorage(disk.fileSystem);
    wal.recover();
    wal.write(batch({ entries: makeEntries(1, 10, 1, random), hardState: { term: 1, votedFor: "a", empty: false } }), () => undefined);
    disk.flush();
    expect(disk.fileSystem.flipBit(random)).not.toBeNull();
    const warnings: string[] = [];
    const again = new WalStorage(disk.fileSystem, { logger: { warn: (message) => warnings.push(message) } });
    expect(again.recover().emptyReason).not.toBeNull();
    expect(warnings).toHaveLength(1);
    again.write(batch({ hardState: { term: 1, votedFor: null, empty: true } }), () => undefined);
    disk.flush();
    const third = new WalStorage(disk.fileSystem).recover();
    expect(third.emptyReason).toContain("not caught up yet");
    expect(third.hardState).toEqual({ term: 1, votedFor: null, empty: true });
  });

  it("a payload CRC failure in an earlier segment is corruption, not a shorter log", () => {
    const disk = new ManualDisk();
    const random = new Prng(12);
    const wal = new WalStorage(disk.fileSystem, { segmentBytesMax: 300 });
    wal.recover();
    for (let i = 0; i < 10; i += 1) {
      wal.write(batch({ entries: makeEntries(i * 4 + 1, 4, 1, random, 30) }), () => undefined);
      disk.flush();
    }
    const segments = disk.fileSystem.files().filter((name) => parseSegmentName(name) !== null);
    expect(segments.length).toBeGreaterThan(2);
    const victim = segments[1] as string;
    const bytes = disk.fileSystem.read(victim) as Uint8Array;
    // Flip one bit in the first record's payload of a middle segment: complete bytes that fail
    // their CRC are damage wherever they are, even with valid records after them.
    const damaged = new MemoryFileSystem();
    for (const name of disk.fileSystem.files()) {
      const content = disk.fileSystem.read(name) as Uint8Array;
      damaged.append(name, name === victim ? bytes.map((value, i) => (i === recordHeaderBytes + 2 ? value ^ 0x40 : value)) : content);
    }
    const recovered = new WalStorage(damaged).recover();
    expect(recovered.hardState).toEqual(emptyMember);
    expect(recovered.emptyReason).toContain(victim);
    expect(recovered.emptyReason).toContain("CRC");
  });

  it("a truncated tail is cut away, and later appends still recover", async () => {
    const disk = new ManualDisk();
    const random = new Prng(13);
    const wal = new WalStorage(disk.fileSystem);
    wal.recover();
    const model = new ReferenceLog();
    for (let i = 0; i < 5; i += 1) {
      const persist = batch({ entries: makeEntries(model.lastIndex + 1, 3, 1, random, 20) });
      if (i < 4) model.apply(persist);
      wal.write(persist, () => undefined);
      disk.flush();
    }
    const [segment] = disk.fileSystem.files();
    const size = disk.fileSystem.sizeOf(segment as string) as number;
    disk.fileSystem.truncate(segment as string, size - 7);
    disk.fileSystem.sync(segment as string, () => undefined);
    disk.flush();

    const warnings: string[] = [];
    const second = new WalStorage(disk.fileSystem, { logger: { warn: (message) => warnings.push(message) } });
    const recovered = second.recover();
    expect(describeState(recovered)).toBe(model.describe());
    expect(warnings.join()).toContain("torn");
    const persist = batch({ entries: makeEntries(model.lastIndex + 1, 2, 1, random) });
    model.apply(persist);
    second.write(persist, () => undefined);
    disk.flush();
    expect(describeState(new WalStorage(disk.fileSystem).recover())).toBe(model.describe());
  });

  it("an all-zero header at the end of the last segment is a torn tail", () => {
    const fileSystem = new MemoryFileSystem();
    const random = new Prng(14);
    const wal = new WalStorage(fileSystem);
    wal.recover();
    const persist = batch({ entries: makeEntries(1, 3, 1, random) });
    wal.write(persist, () => undefined);
    const [segment] = fileSystem.files();
    fileSystem.append(segment as string, new Uint8Array(64));
    const recovered = new WalStorage(fileSystem).recover();
    expect(recovered.emptyReason).toContain("WAL tail cut");
    expect(recovered.hardState.empty).toBe(true);
    expect(recovered.entries.map((entry) => entry.index)).toEqual([1, 2, 3]);
  });

  it("a cut tail leaves the member empty, durably, until the consensus clears the flag", () => {
    const disk = new ManualDisk();
    const random = new Prng(16);
    const wal = new WalStorage(disk.fileSystem);
    wal.recover();
    wal.write(batch({ hardState: { term: 2, votedFor: "a", empty: false } }), () => undefined);
    wal.write(batch({ entries: makeEntries(1, 4, 2, random) }), () => undefined);
    wal.write(batch({ entries: makeEntries(5, 1, 2, random) }), () => undefined);
    disk.flush();
    const [segment] = disk.fileSystem.files();
    const size = disk.fileSystem.sizeOf(segment as string) as number;
    // The disk lost the last bytes of a record it had synced (a lying disk, a damaged one).
    disk.fileSystem.truncate(segment as string, size - 5);
    disk.fileSystem.sync(segment as string, () => undefined);
    disk.flush();
    const cut = new WalStorage(disk.fileSystem).recover();
    expect(cut.emptyReason).toContain("WAL tail cut");
    expect(cut.hardState).toEqual({ term: 2, votedFor: "a", empty: true });
    expect(cut.entries.map((entry) => entry.index)).toEqual([1, 2, 3, 4]);
    disk.flush();
    // A clean restart before catching up must not forget it.
    const again = new WalStorage(disk.fileSystem);
    const clean = again.recover();
    expect(clean.hardState.empty).toBe(true);
    expect(clean.emptyReason).toContain("not caught up yet");
    // Caught up: the consensus persists a non-empty hard state, and a restart is normal.
    again.write(batch({ hardState: { term: 3, votedFor: null, empty: false } }), () => undefined);
    disk.flush();
    const normal = new WalStorage(disk.fileSystem).recover();
    expect(normal.emptyReason).toBeNull();
    expect(normal.hardState).toEqual({ term: 3, votedFor: null, empty: false });
  });

  it("a crash before the cut tail's flag is durable cuts the tail again", () => {
    for (let seed = 1; seed <= 100; seed += 1) {
      const disk = new ManualDisk();
      const random = new Prng(seed);
      const wal = new WalStorage(disk.fileSystem);
      wal.recover();
      wal.write(batch({ entries: makeEntries(1, 6, 1, random), hardState: { term: 1, votedFor: "a", empty: false } }), () => undefined);
      disk.flush();
      const [segment] = disk.fileSystem.files();
      const size = disk.fileSystem.sizeOf(segment as string) as number;
      // Inside the last record (the hard state, 36 bytes): a cut recovery can see.
      disk.fileSystem.truncate(segment as string, size - random.int(1, 35));
      disk.fileSystem.sync(segment as string, () => undefined);
      disk.flush();
      expect(new WalStorage(disk.fileSystem).recover().hardState.empty, `seed ${seed}`).toBe(true);
      disk.fileSystem.crash(random, { tornWrites: random.chance(0.5) });
      const after = new WalStorage(disk.fileSystem).recover();
      expect(after.hardState.empty, `seed ${seed}`).toBe(true);
      expect(after.emptyReason, `seed ${seed}`).not.toBeNull();
    }
  });

  it("a snapshot marker whose file never finished writing ends the log before it", () => {
    const disk = new ManualDisk();
    const random = new Prng(15);
    const wal = new WalStorage(disk.fileSystem);
    wal.recover();
    const model = new ReferenceLog();
    const first = batch({ entries: makeEntries(1, 5, 1, random), hardState: { term: 1, votedFor: "a", empty: false } });
    model.apply(first);
    wal.write(first, () => undefined);
    disk.flush();
    let snapshotAcknowledged = false;
    wal.write(batch({ snapshot: { index: 5, term: 1, config: { voters: [], learners: [] }, data: new Uint8Array([5]) } }), () => {
      snapshotAcknowledged = true;
    });
    wal.write(batch({ entries: makeEntries(6, 2, 1, random) }), () => undefined);
    // Run the sync (marker durable) but crash before the snapshot file's completion.
    const pendingSnapshotFile = disk.queue.shift() as () => void;
    expect(pendingSnapshotFile).toBeDefined();
    disk.runSome();
    disk.runSome();
    expect(snapshotAcknowledged).toBe(false);
    disk.fileSystem.crash(random, { tornWrites: false });
    const recovered = new WalStorage(disk.fileSystem).recover();
    expect(recovered.emptyReason).toBeNull();
    expect(describeState(recovered)).toBe(model.describe());
  });

  it("property: any crash point keeps every acknowledged batch", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.boolean(), fc.integer({ min: 200, max: 5000 }), (seed, tornWrites, segmentBytesMax) => {
        const random = new Prng(seed);
        const run = crashAndRecover(new ManualDisk(), new ReferenceLog(), random, tornWrites, segmentBytesMax);
        return isAllowed(run, new ReferenceLog().describe());
      }),
      { numRuns: 200 },
    );
  });
});
