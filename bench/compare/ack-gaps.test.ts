import { expect, it } from "vitest";
import { longestAckGapMs } from "./ack-gaps.js";

it("the longest gap lies between two acks, in whatever order they were recorded", () => {
  expect(longestAckGapMs([10, 30, 20, 900, 950], 0, 1000)).toEqual({ gapMs: 870, fromMs: 30 });
});

it("an outage at the start or the end of the run counts (the run's edges are edges)", () => {
  expect(longestAckGapMs([700, 710], 0, 720)).toEqual({ gapMs: 700, fromMs: 0 });
  expect(longestAckGapMs([5, 10], 0, 600)).toEqual({ gapMs: 590, fromMs: 10 });
  expect(longestAckGapMs([], 100, 400)).toEqual({ gapMs: 300, fromMs: 100 });
});
