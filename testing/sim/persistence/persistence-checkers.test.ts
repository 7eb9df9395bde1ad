import { describe, expect, it } from "vitest";
import {
  checkConfirmedDelivered,
  checkInFlightExclusive,
  checkKeyedModel,
  checkLastValueOrder,
  checkMembersEqual,
  checkNoDeliveryAfterAck,
  checkOrder,
  checkStoredOnce,
  type FinalMember,
  mayBeLostIds,
} from "./persistence-checkers.js";
import type { EventOf, HistoryEvent } from "./persistence-history.js";

// Builders for hand-made histories: one line per event.
const invoke = (publisher: string, sequence: number, key = "k0"): HistoryEvent =>
  ({ kind: "publish-invoke", timeMs: 0, publisher, sequence, messageId: `${publisher}.${sequence}`, key });
const ok = (publisher: string, sequence: number, storeSequence: number, index = storeSequence): HistoryEvent =>
  ({ kind: "publish-ok", timeMs: 1, publisher, sequence, storeSequence, index, duplicate: false, ackPoint: "quorum-fsync" });
const delivery = (over: Partial<EventOf<"delivery">> & { storeSequence: number; messageId: string }): HistoryEvent =>
  ({ kind: "delivery", timeMs: 2, engine: "m1.1.1", durable: "std", subscriberId: "a", deliveryCount: 1, ...over });
const ackOk = (durable: string, sequences: number[], engine = "m1.1.1", timeMs = 3): HistoryEvent =>
  ({ kind: "ack-ok", timeMs, engine, durable, sequences, index: 10, deadLetter: false });
const attach = (subscriberId: string, engine = "m1.1.1"): HistoryEvent => ({ kind: "attach", timeMs: 0, engine, subscriberId, durable: "shared" });
const final = (id: string, lastValue: [string, string][], map: [string, string][], snapshot = [1, 2, 3]): FinalMember =>
  ({ id, appliedIndex: 9, snapshot: new Uint8Array(snapshot), lastValue: new Map(lastValue), map: new Map(map) });

describe("persistence checkers on hand-made histories", () => {
  it("confirmed-delivered: a confirmed publish never delivered to std", () => {
    const good = [invoke("p1", 1), ok("p1", 1, 1), delivery({ storeSequence: 1, messageId: "p1.1" })];
    expect(checkConfirmedDelivered(good)).toEqual([]);
    const bad = [invoke("p1", 1), ok("p1", 1, 1), delivery({ storeSequence: 1, messageId: "p1.1", durable: "shared" })];
    expect(checkConfirmedDelivered(bad)[0]?.detail).toContain("p1.1 was confirmed");
  });

  it("no-delivery-after-ack: delivered again (by any engine) after the ack was confirmed", () => {
    const good = [delivery({ storeSequence: 1, messageId: "p1.1" }), ackOk("std", [1]), delivery({ storeSequence: 1, messageId: "p1.1", durable: "shared" })];
    expect(checkNoDeliveryAfterAck(good)).toEqual([]);
    const bad = [delivery({ storeSequence: 1, messageId: "p1.1" }), ackOk("std", [1]), delivery({ storeSequence: 1, messageId: "p1.1", engine: "m2.1.1", timeMs: 4 })];
    expect(checkNoDeliveryAfterAck(bad)[0]?.checker).toBe("no-delivery-after-ack");
  });

  it("order: store sequences against publish order, and first deliveries to std out of store order", () => {
    expect(checkOrder([ok("p1", 1, 1), ok("p1", 2, 5), ok("p2", 1, 3)])).toEqual([]);
    expect(checkOrder([ok("p1", 1, 4), ok("p1", 2, 3)])[0]?.detail).toContain("sequence 2 stored at 3");
    const redelivered = [delivery({ storeSequence: 1, messageId: "a" }), delivery({ storeSequence: 2, messageId: "b" }), delivery({ storeSequence: 1, messageId: "a", deliveryCount: 2 })];
    expect(checkOrder(redelivered)).toEqual([]);
    const bad = [delivery({ storeSequence: 2, messageId: "b" }), delivery({ storeSequence: 1, messageId: "a" })];
    expect(checkOrder(bad)[0]?.detail).toContain("first delivery of 1");
  });

  it("in-flight-exclusive: a shared message handed to B while A still holds it", () => {
    const waits = { shared: 300 };
    const base = [attach("a"), attach("b"), delivery({ durable: "shared", subscriberId: "a", storeSequence: 1, messageId: "x", timeMs: 100 })];
    // After the ack wait, after a detach, after an ack, or by another engine: redelivery, fine.
    expect(checkInFlightExclusive([...base, delivery({ durable: "shared", subscriberId: "b", storeSequence: 1, messageId: "x", timeMs: 400 })], waits)).toEqual([]);
    expect(checkInFlightExclusive([...base, { kind: "detach", timeMs: 150, engine: "m1.1.1", subscriberId: "a" }, delivery({ durable: "shared", subscriberId: "b", storeSequence: 1, messageId: "x", timeMs: 150 })], waits)).toEqual([]);
    expect(checkInFlightExclusive([...base, delivery({ durable: "shared", subscriberId: "b", storeSequence: 1, messageId: "x", timeMs: 150, engine: "m2.1.1" })], waits)).toEqual([]);
    const bad = [...base, delivery({ durable: "shared", subscriberId: "b", storeSequence: 1, messageId: "x", timeMs: 399 })];
    expect(checkInFlightExclusive(bad, waits)[0]?.detail).toContain("while a holds it");
  });

  it("stored-once: one (publisher, sequence) under two store sequences", () => {
    expect(checkStoredOnce([ok("p1", 1, 1), ok("p1", 1, 1), delivery({ storeSequence: 1, messageId: "p1.1" })])).toEqual([]);
    expect(checkStoredOnce([ok("p1", 1, 1), delivery({ storeSequence: 7, messageId: "p1.1" })])[0]?.detail).toContain("stored at 1 and at 7");
    expect(checkStoredOnce([ok("p1", 1, 1), ok("p2", 1, 1)])[0]?.detail).toContain("holds p1.1 and p2.1");
  });

  it("keyed-model: last-value and map against the confirmed operations, on every member", () => {
    const events: HistoryEvent[] = [
      invoke("p1", 1, "k0"), invoke("p1", 2, "k0"), ok("p1", 2, 5), ok("p1", 1, 4),
      { kind: "map-invoke", timeMs: 0, operation: 1, key: "m0", messageId: "set.1" }, { kind: "map-ok", timeMs: 1, operation: 1, index: 6 },
      { kind: "map-invoke", timeMs: 2, operation: 2, key: "m1", messageId: "set.2" }, { kind: "map-ok", timeMs: 3, operation: 2, index: 7 },
      { kind: "map-invoke", timeMs: 4, operation: 3, key: "m1", messageId: null }, { kind: "map-ok", timeMs: 5, operation: 3, index: 8 },
    ];
    const right = final("m1", [["k0", "p1.2"]], [["k0", "p1.2"], ["m0", "set.1"]]);
    expect(checkKeyedModel(events, [right])).toEqual([]);
    const stale = final("m2", [["k0", "p1.1"]], [["k0", "p1.2"], ["m0", "set.1"], ["m1", "set.2"]]);
    const violations = checkKeyedModel(events, [right, stale]);
    expect(violations.map((violation) => violation.detail)).toEqual([
      "m2 last-value durable lv: k0: expected p1.2, found p1.1",
      "m2 map durable map: m1: expected absent, found set.2",
    ]);
  });

  it("members-equal: different bytes at the same applied index", () => {
    expect(checkMembersEqual([final("m1", [], []), final("m2", [], [])], 0)).toEqual([]);
    expect(checkMembersEqual([final("m1", [], []), final("m2", [], [], [1, 2, 4])], 0)[0]?.detail).toContain("differ at applied index 9");
  });

  it("last-value-order: a key's value going back within one subscription", () => {
    const lv = (storeSequence: number): HistoryEvent => delivery({ durable: "lv", storeSequence, messageId: `x${storeSequence}`, key: "k0" });
    expect(checkLastValueOrder([lv(1), lv(3)])).toEqual([]);
    expect(checkLastValueOrder([lv(3), lv(1)])[0]?.checker).toBe("last-value-order");
  });
});

describe("memory ack points: a confirm may be lost only as its ack point allows", () => {
  const withAckPoint = (ackPoint: string): HistoryEvent => ({ ...(ok("p", 1, 1) as EventOf<"publish-ok">), ackPoint });
  const crash: HistoryEvent = { kind: "crash", timeMs: 5, member: "m1" };
  const leaderChange: HistoryEvent = { kind: "engine-stop", timeMs: 5, engine: "m1.1.1", reason: "deposed" };

  it("quorum-fsync: never", () => {
    expect(mayBeLostIds([invoke("p", 1), withAckPoint("quorum-fsync"), crash])).toEqual(new Set());
  });

  it("quorum-memory: only after a crash (a leader change alone cannot take what a quorum holds)", () => {
    expect(mayBeLostIds([invoke("p", 1), withAckPoint("quorum-memory"), leaderChange])).toEqual(new Set());
    expect(mayBeLostIds([invoke("p", 1), withAckPoint("quorum-memory"), crash])).toEqual(new Set(["p.1"]));
  });

  it("leader-memory: after a crash or a leader change", () => {
    expect(mayBeLostIds([invoke("p", 1), withAckPoint("leader-memory")])).toEqual(new Set());
    expect(mayBeLostIds([invoke("p", 1), withAckPoint("leader-memory"), leaderChange])).toEqual(new Set(["p.1"]));
  });

  it("a crash before the item was sent is no excuse", () => {
    expect(mayBeLostIds([crash, { ...(invoke("p", 1) as EventOf<"publish-invoke">), timeMs: 6 }, withAckPoint("quorum-memory")])).toEqual(new Set());
  });
});
