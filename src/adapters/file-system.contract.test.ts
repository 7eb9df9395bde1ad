import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FileSystem } from "../runtime/file-system.js";
import { MemoryFileSystem } from "./memory/file-system.js";
import { NodeFileSystem } from "./node/file-system.js";

/**
 * One contract for every FileSystem implementation: what the WAL relies on must hold on the
 * simulator's disk exactly as on a real one.
 */
interface Subject {
  readonly fileSystem: FileSystem;
  /** A second instance over the same storage, as after a clean restart. */
  reopen(): FileSystem;
  dispose(): void;
}

const implementations: Array<[string, () => Subject]> = [
  [
    "NodeFileSystem",
    () => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), "holdfast-fs-"));
      const opened: NodeFileSystem[] = [new NodeFileSystem(directory)];
      return {
        fileSystem: opened[0] as NodeFileSystem,
        reopen: () => {
          const next = new NodeFileSystem(directory);
          opened.push(next);
          return next;
        },
        dispose: () => {
          for (const fileSystem of opened) fileSystem.close();
          fs.rmSync(directory, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    "MemoryFileSystem",
    () => {
      const fileSystem = new MemoryFileSystem();
      return { fileSystem, reopen: () => fileSystem, dispose: () => undefined };
    },
  ],
];

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | null): string | null => (data === null ? null : new TextDecoder().decode(data));

function synced(fileSystem: FileSystem, name: string): Promise<void> {
  return new Promise((resolve, reject) => fileSystem.sync(name, (error) => (error ? reject(error) : resolve())));
}

function writtenAtomically(fileSystem: FileSystem, name: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => fileSystem.writeAtomic(name, data, (error) => (error ? reject(error) : resolve())));
}

describe.each(implementations)("FileSystem contract: %s", (_name, create) => {
  let subject: Subject;
  const open = (): FileSystem => {
    subject = create();
    return subject.fileSystem;
  };
  afterEach(() => subject.dispose());

  it("starts empty and reads missing files as null", () => {
    const fileSystem = open();
    expect(fileSystem.list()).toEqual([]);
    expect(fileSystem.read("missing")).toBeNull();
  });

  it("appends create files, accumulate in order and list sorted", async () => {
    const fileSystem = open();
    fileSystem.append("b.log", bytes("one "));
    fileSystem.append("a.log", bytes("x"));
    fileSystem.append("b.log", bytes("two"));
    expect(fileSystem.list()).toEqual(["a.log", "b.log"]);
    expect(text(fileSystem.read("b.log"))).toBe("one two");
    await synced(fileSystem, "b.log");
    expect(text(subject.reopen().read("b.log"))).toBe("one two");
  });

  it("truncates and appends after the cut", async () => {
    const fileSystem = open();
    fileSystem.append("f", bytes("abcdef"));
    await synced(fileSystem, "f");
    fileSystem.truncate("f", 2);
    expect(text(fileSystem.read("f"))).toBe("ab");
    fileSystem.append("f", bytes("XY"));
    await synced(fileSystem, "f");
    expect(text(subject.reopen().read("f"))).toBe("abXY");
  });

  it("truncating past the end changes nothing it can see", () => {
    const fileSystem = open();
    fileSystem.append("f", bytes("abc"));
    fileSystem.truncate("f", 3);
    expect(text(fileSystem.read("f"))).toBe("abc");
  });

  it("reports a sync of a missing file as an error", async () => {
    const fileSystem = open();
    await expect(synced(fileSystem, "missing")).rejects.toThrow();
  });

  it("replaces content atomically and the result is readable after completion", async () => {
    const fileSystem = open();
    await writtenAtomically(fileSystem, "s.snap", bytes("first"));
    expect(text(fileSystem.read("s.snap"))).toBe("first");
    await writtenAtomically(fileSystem, "s.snap", bytes("second, longer"));
    expect(text(fileSystem.read("s.snap"))).toBe("second, longer");
    expect(fileSystem.list()).toEqual(["s.snap"]);
  });

  it("appends after writeAtomic continue the new content", async () => {
    const fileSystem = open();
    fileSystem.append("f", bytes("old"));
    await writtenAtomically(fileSystem, "f", bytes("new"));
    fileSystem.append("f", bytes("+"));
    expect(text(fileSystem.read("f"))).toBe("new+");
  });

  it("renames and removes", async () => {
    const fileSystem = open();
    fileSystem.append("a", bytes("data"));
    await synced(fileSystem, "a");
    fileSystem.rename("a", "corrupt-a");
    expect(fileSystem.list()).toEqual(["corrupt-a"]);
    expect(text(fileSystem.read("corrupt-a"))).toBe("data");
    expect(fileSystem.read("a")).toBeNull();
    fileSystem.append("a", bytes("fresh"));
    expect(text(fileSystem.read("a"))).toBe("fresh");
    fileSystem.remove("corrupt-a");
    expect(fileSystem.list()).toEqual(["a"]);
    expect(() => fileSystem.remove("corrupt-a")).toThrow();
  });

  it("calls sync callbacks asynchronously", async () => {
    const fileSystem = open();
    fileSystem.append("f", bytes("x"));
    let called = false;
    const done = new Promise<void>((resolve) =>
      fileSystem.sync("f", () => {
        called = true;
        resolve();
      }),
    );
    expect(called).toBe(false);
    await done;
    expect(called).toBe(true);
  });

  it("keeps binary content exactly", async () => {
    const fileSystem = open();
    const data = new Uint8Array(70_000);
    for (let i = 0; i < data.length; i += 1) data[i] = (i * 31) & 0xff;
    fileSystem.append("bin", data.subarray(0, 1000));
    fileSystem.append("bin", data.subarray(1000));
    await synced(fileSystem, "bin");
    expect(Buffer.from(subject.reopen().read("bin") ?? []).equals(Buffer.from(data))).toBe(true);
  });
});
