import { describe, expect, it } from "vitest";
import { MessageSlab } from "./message-slab.js";

describe("message slab", () => {
  it("copies small messages into one shared slab, never into the caller's buffer", () => {
    const slab = new MessageSlab(16, 8);
    const source = new Uint8Array([1, 2, 3]);
    const first = slab.copy(source);
    const second = slab.copy(new Uint8Array([4, 5]));
    source[0] = 9;
    expect([...first]).toEqual([1, 2, 3]);
    expect([...second]).toEqual([4, 5]);
    expect(first.buffer).toBe(second.buffer);
    expect(first.buffer).not.toBe(source.buffer);
  });

  it("starts a new slab when one is full, and gives large messages their own buffer", () => {
    const slab = new MessageSlab(4, 8);
    const a = slab.copy(new Uint8Array([1, 2, 3]));
    const b = slab.copy(new Uint8Array([4, 5]));
    const large = slab.copy(new Uint8Array(8).fill(7));
    expect(a.buffer).not.toBe(b.buffer);
    expect(large.buffer.byteLength).toBe(8);
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps a view into a buffer no larger than a slab, and copies one out of a larger buffer", () => {
    const slab = new MessageSlab(16, 8);
    const entry = new Uint8Array(16).fill(3);
    const kept = slab.keep(entry.subarray(4, 7));
    expect(kept.buffer).toBe(entry.buffer);
    const segment = new Uint8Array(17).fill(5);
    const copied = slab.keep(segment.subarray(2, 5));
    expect(copied.buffer).not.toBe(segment.buffer);
    expect(copied.buffer.byteLength).toBe(16);
    expect([...copied]).toEqual([5, 5, 5]);
  });
});
