import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder, frameHeaderBytes, type FrameResult } from "./frame.js";

function drain(decoder: FrameDecoder): FrameResult[] {
  const results: FrameResult[] = [];
  for (let result = decoder.next(); result !== undefined; result = decoder.next()) {
    results.push(result);
    if (!result.ok) break;
  }
  return results;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 });

describe("frame", () => {
  it("encodes the length and checksum before the payload", () => {
    const frame = encodeFrame(new Uint8Array([1, 2, 3]));
    expect(frame.length).toBe(frameHeaderBytes + 3);
    expect(new DataView(frame.buffer).getUint32(0)).toBe(3);
    expect([...frame.subarray(frameHeaderBytes)]).toEqual([1, 2, 3]);
  });

  it("decodes frames fed one byte at a time", () => {
    fc.assert(
      fc.property(payloads, (sent) => {
        const decoder = new FrameDecoder();
        const received: Uint8Array[] = [];
        for (const byte of concat(sent.map(encodeFrame))) {
          decoder.push(new Uint8Array([byte]));
          for (const result of drain(decoder)) {
            expect(result.ok).toBe(true);
            if (result.ok) received.push(result.payload);
          }
        }
        expect(received).toEqual(sent);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it("decodes frames split at random points", () => {
    fc.assert(
      fc.property(payloads, fc.array(fc.nat(), { maxLength: 40 }), (sent, cutSeeds) => {
        const stream = concat(sent.map(encodeFrame));
        const cuts = [...new Set(cutSeeds.map((seed) => seed % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder();
        const received: Uint8Array[] = [];
        let previous = 0;
        for (const cut of [...cuts, stream.length]) {
          decoder.push(stream.subarray(previous, cut));
          previous = cut;
          for (const result of drain(decoder)) if (result.ok) received.push(result.payload);
        }
        expect(received).toEqual(sent);
      }),
      { numRuns: 200 },
    );
  });

  it("returns an error naming the announced and allowed size for an oversized frame", () => {
    const decoder = new FrameDecoder(64);
    const header = new Uint8Array(frameHeaderBytes);
    new DataView(header.buffer).setUint32(0, 1000);
    decoder.push(header);
    const result = decoder.next();
    expect(result?.ok).toBe(false);
    if (result?.ok !== false) return;
    expect(result.error.kind).toBe("frame-too-large");
    expect(result.error.message).toContain("1008");
    expect(result.error.message).toContain("64");
    // Sticky: the stream is out of sync, so later bytes do not revive it.
    decoder.push(encodeFrame(new Uint8Array([1])));
    expect(decoder.next()?.ok).toBe(false);
  });

  it("rejects the frame as soon as the header is known, before the payload arrives", () => {
    const decoder = new FrameDecoder(16);
    decoder.push(encodeFrame(new Uint8Array(100)).subarray(0, frameHeaderBytes));
    expect(decoder.next()).toMatchObject({ ok: false, error: { kind: "frame-too-large" } });
  });

  it("takes a larger frame once its bound is raised (after authentication), and never lowers it", () => {
    const decoder = new FrameDecoder(64);
    decoder.push(encodeFrame(new Uint8Array(10)));
    expect(decoder.next()?.ok).toBe(true);
    decoder.raiseFrameBytesMax(1024);
    decoder.push(encodeFrame(new Uint8Array(500)));
    expect(decoder.next()).toMatchObject({ ok: true, payload: new Uint8Array(500) });
    expect(() => decoder.raiseFrameBytesMax(64)).toThrow(/below the current bound 1024/);
  });

  it("returns an error naming both checksums for a corrupted payload", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (payload, at, flip) => {
        const frame = encodeFrame(payload);
        const index = frameHeaderBytes + (at % payload.length);
        frame[index] = (frame[index] ?? 0) ^ flip;
        const decoder = new FrameDecoder();
        decoder.push(frame);
        const result = decoder.next();
        expect(result?.ok).toBe(false);
        if (result?.ok !== false || result.error.kind !== "checksum-mismatch") throw new Error("expected mismatch");
        expect(result.error.expected).not.toBe(result.error.actual);
        expect(result.error.message).toContain(result.error.expected.toString(16).padStart(8, "0"));
      }),
      { numRuns: 100 },
    );
  });

  it("never throws on random bytes and never returns more than was sent", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (garbage) => {
        const decoder = new FrameDecoder(1024);
        decoder.push(garbage);
        let payloadBytes = 0;
        for (const result of drain(decoder)) if (result.ok) payloadBytes += result.payload.length;
        expect(payloadBytes).toBeLessThanOrEqual(garbage.length);
      }),
      { numRuns: 200 },
    );
  });

  it("returns payloads the caller owns: later pushes do not change them", () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame(new Uint8Array([7, 7, 7])));
    const first = decoder.next();
    for (let i = 0; i < 100; i++) decoder.push(encodeFrame(new Uint8Array(500).fill(i)));
    expect(first).toEqual({ ok: true, payload: new Uint8Array([7, 7, 7]) });
  });
});
