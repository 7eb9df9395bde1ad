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
});
