import { expect, it } from "vitest";
import { checkExactlyOnce, describeExactlyOnce } from "./exactly-once.js";

const published = new Set([1, 2, 3, 4, 5]);

it("every acknowledged message read back once: no violation", () => {
  const report = checkExactlyOnce([1, 2, 3], published, [1, 2, 3, 4]);
  expect(report).toEqual({ acknowledged: 3, present: 4, lost: [], duplicated: [], unknown: [] });
});

it("an acknowledged message missing is lost; an unacknowledged one missing is allowed", () => {
  expect(checkExactlyOnce([1, 2, 3], published, [1, 3]).lost).toEqual([2]);
  expect(checkExactlyOnce([1, 2], published, [1, 2]).lost).toEqual([]);
});

it("a message read back twice is duplicated, acknowledged or not; an id never published is reported", () => {
  const report = checkExactlyOnce([1], published, [1, 1, 4, 4, 9]);
  expect(report.duplicated).toEqual([1, 4]);
  expect(report.unknown).toEqual([9]);
  expect(describeExactlyOnce(report)).toBe("acknowledged 1, present 3, lost 0, duplicated 2 (1, 4), never published 1 (9)");
});
