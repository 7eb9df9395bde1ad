import { describe, expect, it } from "vitest";
import { FrameQueue } from "./frame-queue.js";
import { reconnectDelayMs } from "./peer-link.js";

const frame = (tag: number, bytes = 10): Uint8Array => new Uint8Array(bytes).fill(tag);

describe("FrameQueue", () => {
  it("drops the oldest frames past its byte bound", () => {
    const queue = new FrameQueue(30);
    for (let tag = 1; tag <= 5; tag++) queue.push(frame(tag));
    expect(queue.bytes).toBe(30);
    expect(queue.dropped).toBe(2);
    expect(queue.take(1000).map((f) => f[0])).toEqual([3, 4, 5]);
    expect(queue.length).toBe(0);
  });

  it("refuses a frame larger than the whole bound without evicting the rest", () => {
    const queue = new FrameQueue(30);
    queue.push(frame(1));
    expect(queue.push(frame(2, 31))).toBe(1);
    expect(queue.take(1000).map((f) => f[0])).toEqual([1]);
  });

  it("takes batches up to a byte size, at least one frame each", () => {
    const queue = new FrameQueue(1000);
    for (let tag = 1; tag <= 5; tag++) queue.push(frame(tag));
    queue.push(frame(6, 100));
    expect(queue.take(25).map((f) => f[0])).toEqual([1, 2]);
    expect(queue.take(35).map((f) => f[0])).toEqual([3, 4, 5]);
    expect(queue.take(5).map((f) => f.length)).toEqual([100]);
  });

  it("stays correct across many pushes and takes (lazy compaction)", () => {
    const queue = new FrameQueue(1_000_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 500; round++) {
      for (let i = 0; i < 7; i++) queue.push(frame(next++ % 256));
      for (const taken of queue.take(50)) expect(taken[0]).toBe(expected++ % 256);
    }
  });
});

describe("reconnectDelayMs", () => {
  it("doubles from min, stays within [min, max], and jitters", () => {
    expect(reconnectDelayMs(0, 50, 2000, () => 0)).toBe(50);
    expect(reconnectDelayMs(3, 50, 2000, () => 0)).toBe(200);
    expect(reconnectDelayMs(3, 50, 2000, () => 0.999)).toBeCloseTo(400, 0);
    expect(reconnectDelayMs(40, 50, 2000, () => 0.999)).toBeLessThanOrEqual(2000);
    expect(reconnectDelayMs(40, 50, 2000, () => 0)).toBe(1000);
  });
});
