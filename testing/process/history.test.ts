import { describe, expect, it } from "vitest";
import { checkHistory, History, type AppliedCommand, type Violation } from "./history.js";

/** w0-0 ok at 2, w0-1 ok at 3, w1-0 info (not applied), w1-1 fail; index 1 holds no command. */
function goodHistory(): History {
  const history = new History();
  history.ok(history.invoke(0, "w0-0", 0), 2, 1, 10);
  history.ok(history.invoke(0, "w0-1", 10), 3, 1, 30);
  history.info(history.invoke(1, "w1-0", 5), "leader vanished", 40);
  history.fail(history.invoke(1, "w1-1", 41), "refused", 42);
  return history;
}

const good: readonly AppliedCommand[] = [
  { index: 2, payload: "w0-0" },
  { index: 3, payload: "w0-1" },
];

function check(history: History, ...logs: (readonly AppliedCommand[])[]): Violation["check"][] {
  const applied = new Map(logs.map((log, at) => [String.fromCharCode(97 + at), log]));
  return checkHistory(history.operations, applied).map((violation) => violation.check);
}

describe("process history checker", () => {
  it("accepts a correct history, with info operations present or absent", () => {
    expect(check(goodHistory(), good, good, good)).toEqual([]);
    const withInfo = [...good, { index: 4, payload: "w1-0" }];
    expect(check(goodHistory(), withInfo, withInfo, withInfo)).toEqual([]);
  });

  it("acknowledged-applied: an acknowledged payload lost on one member", () => {
    expect(check(goodHistory(), good, [good[0]!], good)).toContain("acknowledged-applied");
  });

  it("acknowledged-applied: an acknowledged payload at another index than acknowledged", () => {
    const moved = [good[0]!, { index: 4, payload: "w0-1" }];
    expect(check(goodHistory(), moved, moved, moved)).toEqual(["acknowledged-applied", "acknowledged-applied", "acknowledged-applied"]);
  });

  it("ack-index-unique: two acknowledgments of one index", () => {
    const history = goodHistory();
    history.ok(history.invoke(2, "w2-0", 50), 3, 1, 60);
    expect(check(history, good)).toContain("ack-index-unique");
  });

  it("no-duplicates: an info payload applied twice", () => {
    const twice = [...good, { index: 4, payload: "w1-0" }, { index: 5, payload: "w1-0" }];
    expect(check(goodHistory(), twice)).toEqual(["no-duplicates"]);
  });

  it("not-invented: a payload nobody proposed", () => {
    const invented = [...good, { index: 4, payload: "w9-9" }];
    expect(check(goodHistory(), invented)).toEqual(["not-invented"]);
  });

  it("failed-absent: a definitely failed payload applied", () => {
    const failed = [...good, { index: 4, payload: "w1-1" }];
    expect(check(goodHistory(), failed)).toEqual(["failed-absent"]);
  });

  it("members-agree: members differ at an index no acknowledgment names, or one has an extra entry", () => {
    expect(check(goodHistory(), [...good, { index: 4, payload: "w1-0" }], good)).toEqual(["members-agree"]);
    const history = goodHistory();
    history.info(history.invoke(3, "w3-0", 1), "timeout", 2);
    expect(check(history, [...good, { index: 4, payload: "w1-0" }], [...good, { index: 4, payload: "w3-0" }])).toEqual(["members-agree"]);
  });

  it("a late acknowledgment after info counts as ok; fail and info never overwrite ok", () => {
    const history = new History();
    const operation = history.invoke(0, "w0-0", 0);
    history.info(operation, "we stopped waiting", 100);
    history.ok(operation, 2, 1, 150);
    history.fail(operation, "late refusal", 160);
    expect(operation.outcome).toBe("ok");
    expect(check(history, [])).toEqual(["acknowledged-applied"]);
  });

  it("summarizes outcomes, ack terms and the longest gap between acknowledgments", () => {
    const history = goodHistory();
    history.ok(history.invoke(2, "w2-0", 40), 7, 3, 130);
    expect(history.summary()).toEqual({ operations: 5, ok: 3, info: 1, failed: 1, pending: 0, ackTerms: 2, longestAckGapMs: 100 });
    expect(history.firstOkInvokedSince(20)?.payload).toBe("w2-0");
    expect(history.firstOkInvokedSince(1000)).toBeNull();
  });
});
