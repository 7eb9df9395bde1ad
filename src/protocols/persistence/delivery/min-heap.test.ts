import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.js";

describe("MinHeap", () => {
  it("pops in the same order as sorting, also after retain", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), fc.integer({ min: 2, max: 5 }), (values, modulus) => {
        const heap = new MinHeap<number>((a, b) => a < b);
        for (const value of values) heap.push(value);
        heap.retain((value) => Math.abs(value) % modulus !== 0);
        const popped: number[] = [];
        for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
        expect(popped).toEqual(values.filter((value) => Math.abs(value) % modulus !== 0).sort((a, b) => a - b));
      }),
    );
  });
});
