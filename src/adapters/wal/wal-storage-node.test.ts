import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Prng } from "../../kernel/prng.js";
import type { PersistBatch } from "../../protocols/consensus/effects.js";
import { NodeFileSystem } from "../node/file-system.js";
import { parseSegmentName } from "./file-names.js";
import { ReferenceLog, describeState, randomBatch } from "./test-fixtures.js";
import { WalStorage } from "./wal-storage.js";

/** The same WAL over real files: what the simulator trusts must hold with fsync too. */
describe("WalStorage on NodeFileSystem", () => {
  let directory: string;
  const opened: NodeFileSystem[] = [];
  const open = (): NodeFileSystem => {
    const fileSystem = new NodeFileSystem(directory);
    opened.push(fileSystem);
    return fileSystem;
  };

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "holdfast-wal-"));
  });
  afterEach(() => {
    for (const fileSystem of opened.splice(0)) fileSystem.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const durably = (wal: WalStorage, persist: PersistBatch): Promise<void> =>
    new Promise((resolve, reject) => wal.write(persist, (error) => (error ? reject(error) : resolve())));

  it("recovers every acknowledged batch after a restart, across segments and snapshots", async () => {
    const random = new Prng(21);
    const model = new ReferenceLog();
    const term = { value: 1 };
    const wal = new WalStorage(open(), { segmentBytesMax: 2048 });
    expect(wal.recover().emptyReason).toBe("no data");
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i += 1) {
      const persist = randomBatch(model, random, term);
      model.apply(persist);
      writes.push(durably(wal, persist));
      if (i % 7 === 0) await Promise.all(writes);
    }
    await Promise.all(writes);
    wal.close();
    const recovered = new WalStorage(open()).recover();
    expect(recovered.emptyReason).toBeNull();
    expect(describeState(recovered)).toBe(model.describe());
  });

  it("cuts a torn tail in a real file and keeps going", async () => {
    const random = new Prng(22);
    const model = new ReferenceLog();
    const term = { value: 1 };
    const wal = new WalStorage(open());
    wal.recover();
    for (let i = 0; i < 20; i += 1) {
      const persist = randomBatch(model, random, term);
      model.apply(persist);
      await durably(wal, persist);
    }
    const segments = fs.readdirSync(directory).filter((name) => parseSegmentName(name) !== null).sort();
    const last = path.join(directory, segments[segments.length - 1] as string);
    fs.appendFileSync(last, Buffer.from([0x48, 0x57, 1, 1, 0xff]));

    const second = new WalStorage(open());
    const recovered = second.recover();
    // A cut tail could have held synced records: empty (log kept) until caught up.
    expect(recovered.emptyReason).toContain("WAL tail cut");
    model.hardState = { ...model.hardState, empty: true };
    expect(describeState(recovered)).toBe(model.describe());
    const persist = randomBatch(model, random, term);
    model.apply(persist);
    await durably(second, persist);
    expect(describeState(new WalStorage(open()).recover())).toBe(model.describe());
  });
});
