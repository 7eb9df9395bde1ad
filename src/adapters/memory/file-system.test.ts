import { describe, expect, it } from "vitest";
import { Prng } from "../../kernel/prng.js";
import { MemoryFileSystem } from "./file-system.js";

/** The simulator's disk faults; the behaviour shared with real files is in the contract suite. */
function manualDisk(): { fileSystem: MemoryFileSystem; queue: Array<() => void>; runAll(): void } {
  const queue: Array<() => void> = [];
  const fileSystem = new MemoryFileSystem({ defer: (callback) => queue.push(callback) });
  return { fileSystem, queue, runAll: () => queue.splice(0).forEach((callback) => callback()) };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | null): string | null => (data === null ? null : new TextDecoder().decode(data));

describe("MemoryFileSystem faults", () => {
  it("a crash loses bytes whose sync had not completed", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.append("f", bytes("durable"));
    fileSystem.sync("f", () => undefined);
    runAll();
    fileSystem.append("f", bytes("+lost"));
    fileSystem.sync("f", () => undefined);
    fileSystem.crash(new Prng(1), { tornWrites: false });
    expect(text(fileSystem.read("f"))).toBe("durable");
  });

  it("a sync covers what was appended before it was called", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.append("f", bytes("before"));
    fileSystem.sync("f", () => undefined);
    fileSystem.append("f", bytes("+after"));
    runAll();
    expect(fileSystem.durableSizeOf("f")).toBe("before".length);
    fileSystem.crash(new Prng(1), { tornWrites: false });
    expect(text(fileSystem.read("f"))).toBe("before");
  });

  it("completions from before a crash never run", () => {
    const { fileSystem, queue, runAll } = manualDisk();
    fileSystem.append("f", bytes("x"));
    let completions = 0;
    fileSystem.sync("f", () => (completions += 1));
    fileSystem.writeAtomic("s", bytes("snap"), () => (completions += 1));
    expect(queue).toHaveLength(2);
    fileSystem.crash(new Prng(1), { tornWrites: false });
    runAll();
    expect(completions).toBe(0);
    expect(fileSystem.read("s")).toBeNull();
    expect(text(fileSystem.read("f"))).toBe("");
  });

  it("torn writes keep a prefix of the unsynced bytes, of varying length across seeds", () => {
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 50; seed += 1) {
      const { fileSystem, runAll } = manualDisk();
      fileSystem.append("f", bytes("synced|"));
      fileSystem.sync("f", () => undefined);
      runAll();
      fileSystem.append("f", bytes("unsynced-tail"));
      fileSystem.crash(new Prng(seed), { tornWrites: true });
      const after = text(fileSystem.read("f")) as string;
      expect("synced|unsynced-tail".startsWith(after)).toBe(true);
      expect(after.length).toBeGreaterThanOrEqual("synced|".length);
      lengths.add(after.length);
    }
    expect(lengths.size).toBeGreaterThan(3);
  });

  it("an unsynced truncate is undone by a crash, a synced one is kept", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.append("f", bytes("abcdef"));
    fileSystem.sync("f", () => undefined);
    runAll();
    fileSystem.truncate("f", 3);
    fileSystem.crash(new Prng(1), { tornWrites: false });
    expect(text(fileSystem.read("f"))).toBe("abcdef");
    fileSystem.truncate("f", 3);
    fileSystem.sync("f", () => undefined);
    runAll();
    fileSystem.crash(new Prng(1), { tornWrites: false });
    expect(text(fileSystem.read("f"))).toBe("abc");
  });

  it("writeAtomic replaces the old content only at completion", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.writeAtomic("s", bytes("old"), () => undefined);
    runAll();
    fileSystem.writeAtomic("s", bytes("new"), () => undefined);
    expect(text(fileSystem.read("s"))).toBe("old");
    runAll();
    expect(text(fileSystem.read("s"))).toBe("new");
    fileSystem.crash(new Prng(1), { tornWrites: true });
    expect(text(fileSystem.read("s"))).toBe("new");
  });

  it("rename and remove are durable at once", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.append("a", bytes("data"));
    fileSystem.append("b", bytes("gone"));
    fileSystem.sync("a", () => undefined);
    fileSystem.sync("b", () => undefined);
    runAll();
    fileSystem.rename("a", "c");
    fileSystem.remove("b");
    fileSystem.crash(new Prng(1), { tornWrites: false });
    expect(fileSystem.files()).toEqual(["c"]);
    expect(text(fileSystem.read("c"))).toBe("data");
  });

  it("flipBit changes exactly one bit of durable bytes", () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const { fileSystem, runAll } = manualDisk();
      expect(fileSystem.flipBit(new Prng(seed))).toBeNull();
      fileSystem.append("empty", new Uint8Array(0));
      fileSystem.append("f", bytes("some durable bytes"));
      fileSystem.sync("f", () => undefined);
      runAll();
      const before = fileSystem.read("f") as Uint8Array;
      const flipped = fileSystem.flipBit(new Prng(seed));
      expect(flipped?.name).toBe("f");
      const after = fileSystem.read("f") as Uint8Array;
      let differingBits = 0;
      for (let i = 0; i < before.length; i += 1) {
        const diff = (before[i] as number) ^ (after[i] as number);
        if (diff !== 0) expect(i).toBe(flipped?.offset);
        differingBits += diff.toString(2).replaceAll("0", "").length;
      }
      expect(differingBits).toBe(1);
    }
  });

  it("wipe deletes everything and cancels pending completions", () => {
    const { fileSystem, runAll } = manualDisk();
    fileSystem.append("f", bytes("x"));
    let completed = false;
    fileSystem.sync("f", () => (completed = true));
    fileSystem.wipe();
    runAll();
    expect(completed).toBe(false);
    expect(fileSystem.files()).toEqual([]);
    expect(fileSystem.sizeOf("f")).toBeNull();
  });
});
