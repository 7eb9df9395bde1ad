/** The chaos checker on hand-made histories: silent on a clean one, naming each violation. */
import { describe, expect, it } from "vitest";
import { checkChaosHistory, crossConnectionSlackMs, type DurableDescription } from "./chaos-checker.js";
import type { Operation } from "./chaos-history.js";

const durables: DurableDescription[] = [
  { store: "orders", durable: "billing", type: "standard" },
  { store: "orders", durable: "pickers", type: "shared" },
];

let clock = 0;
const invoke = (number: number, publisher = "p"): Extract<Operation, { f: "publish" }> => ({ f: "publish", type: "invoke", timeMs: clock++, process: publisher, store: "orders", messageId: `${publisher}:${number}`, number });
const ok = (number: number, storeSequence: number, publisher = "p"): Operation => ({ f: "publish", type: "ok", timeMs: clock++, process: publisher, store: "orders", messageId: `${publisher}:${number}`, number, storeSequence });
const fail = (number: number): Operation => ({ f: "publish", type: "fail", timeMs: clock++, process: "p", store: "orders", messageId: `p:${number}`, number, detail: "store-full" });
const deliver = (durable: string, number: number, storeSequence: number, process = `sub-${durable}`, timeMs = clock++): Operation => ({ f: "deliver", type: "ok", timeMs, process, store: "orders", durable, messageId: `p:${number}`, storeSequence, deliveryCount: 1 });
const ack = (durable: string, number: number, storeSequence: number, process = `sub-${durable}`, timeMs = clock++): Operation => ({ f: "ack", type: "ok", timeMs, process, store: "orders", durable, messageId: `p:${number}`, storeSequence });

/** Publishes 1..n confirmed at sequences 1..n, each delivered to both durables and acked. */
function clean(n: number): Operation[] {
  const operations: Operation[] = [];
  for (let number = 1; number <= n; number++) operations.push(invoke(number), ok(number, number));
  for (let number = 1; number <= n; number++) {
    for (const durable of ["billing", "pickers"]) operations.push(deliver(durable, number, number), ack(durable, number, number));
  }
  return operations;
}

const checks = (operations: Operation[], finalLastSequence: number | null = null) =>
  checkChaosHistory(operations, durables, finalLastSequence === null ? null : [{ store: "orders", lastSequence: finalLastSequence }]);

describe("chaos checker", () => {
  it("finds nothing in a clean history", () => {
    const result = checks(clean(5), 5);
    expect(result.violations).toEqual([]);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, violationCount: 0 });
  });

  it("lost: a confirmed publish one durable never got", () => {
    const operations = clean(3).filter((operation) => !(operation.f === "deliver" && operation.durable === "pickers" && operation.messageId === "p:2"));
    const result = checks(operations);
    expect(result.lost).toBe(1);
    expect(result.violations.map((violation) => violation.check)).toEqual(["lost"]);
  });

  it("an unanswered publish (info) may be missing or present", () => {
    const operations = [...clean(2), invoke(3), { ...invoke(3), type: "info" as const }];
    expect(checks(operations).violations).toEqual([]);
  });

  it("duplicated: a retry stored at a second sequence", () => {
    const result = checks([...clean(2), deliver("billing", 2, 3)]);
    expect(result.duplicated).toBe(1);
    expect(result.violations.map((violation) => violation.check)).toContain("duplicated");
  });

  it("order: a publisher's messages stored out of its order, and first deliveries out of store order", () => {
    const operations = [invoke(1), invoke(2), ok(1, 2), ok(2, 1), deliver("billing", 1, 2), deliver("billing", 2, 1), deliver("pickers", 1, 2), deliver("pickers", 2, 1)];
    const found = checks(operations).violations.map((violation) => violation.check);
    expect(found.filter((check) => check === "order")).toHaveLength(2);
  });

  it("acked-redelivered: on the same connection at once; on another only past the slack", () => {
    const base = clean(1);
    const ackTime = (base.find((operation) => operation.f === "ack" && operation.durable === "pickers") as Operation).timeMs;
    expect(checks([...base, deliver("billing", 1, 1)]).violations.map((violation) => violation.check)).toEqual(["acked-redelivered"]);
    expect(checks([...base, deliver("pickers", 1, 1, "sub-pickers-2", ackTime + 5)]).violations).toEqual([]);
    expect(checks([...base, deliver("pickers", 1, 1, "sub-pickers-2", ackTime + crossConnectionSlackMs + 1)]).violations.map((violation) => violation.check)).toEqual(["acked-redelivered"]);
  });

  it("failed-delivered and invented: deliveries of a failed publish and of something never published", () => {
    const operations = [...clean(1), invoke(2), fail(2), deliver("billing", 2, 2), deliver("billing", 9, 3)];
    expect(checks(operations).violations.map((violation) => violation.check).sort()).toEqual(["failed-delivered", "invented"]);
  });

  it("store-contents: the store holds a sequence no client saw", () => {
    expect(checks(clean(3), 4).violations.map((violation) => violation.check)).toEqual(["store-contents", "store-contents"]);
  });
});
