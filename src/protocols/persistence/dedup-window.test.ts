import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PublisherWindow, PublisherWindows } from "./dedup-window.js";

describe("publisher dedup window", () => {
  it("remembers each sequence's outcome inside the window, out of order too", () => {
    const window = new PublisherWindow(8);
    window.rememberStored(5, 50);
    window.rememberStored(3, 30);
    window.rememberRejected(4, { reason: "store-full", detail: "full" });
    expect(window.outcome(5)).toEqual({ storeSequence: 50 });
    expect(window.outcome(3)).toEqual({ storeSequence: 30 });
    expect(window.outcome(4)).toEqual({ reason: "store-full", detail: "full" });
    expect(window.outcome(2)).toBeUndefined();
  });

  it("forgets what falls out of the window and refuses sequences older than it", () => {
    const window = new PublisherWindow(8);
    window.rememberStored(1, 1);
    window.rememberStored(9, 2);
    expect(window.outcome(1)).toBeUndefined();
    expect(window.isBeforeWindow(1)).toBe(true);
    expect(window.isBeforeWindow(2)).toBe(false);
  });

  it("agrees with a plain map of the last windowMax sequences (random arrivals)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 300 }), fc.constantFrom(1, 4, 16, 64), (sequences, windowMax) => {
        const window = new PublisherWindow(windowMax);
        const model = new Map<number, number>();
        let highest = 0;
        for (const [position, sequence] of sequences.entries()) {
          const inModel = sequence > highest - windowMax ? model.get(sequence) : undefined;
          expect(window.outcome(sequence)).toEqual(inModel === undefined ? undefined : { storeSequence: inModel });
          expect(window.isBeforeWindow(sequence)).toBe(sequence <= highest - windowMax);
          if (inModel !== undefined || sequence <= highest - windowMax) continue;
          window.rememberStored(sequence, position + 1);
          model.set(sequence, position + 1);
          highest = Math.max(highest, sequence);
        }
        const record = window.record("p");
        const copy = PublisherWindow.fromRecord(windowMax, record);
        expect(copy.record("p")).toEqual(record);
      }),
    );
  });

  it("forgets idle publishers and, past the maximum, the least recently active", () => {
    const windows = new PublisherWindows({ dedupWindowSequencesMax: 8, dedupPublishersMax: 2, dedupPublisherIdleMs: 100 });
    windows.touch("a", 0).rememberStored(1, 1);
    windows.touch("b", 10);
    windows.touch("a", 20);
    windows.touch("c", 30);
    expect(windows.records().map((record) => record.publisherId)).toEqual(["a", "c"]);
    windows.expire(120);
    expect(windows.records().map((record) => record.publisherId)).toEqual(["c"]);
  });
});
