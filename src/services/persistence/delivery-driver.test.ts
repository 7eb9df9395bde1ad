import { describe, expect, it } from "vitest";
import { FakeView } from "../../protocols/persistence/delivery/fake-view.js";
import type { Delivery } from "../../protocols/persistence/delivery/delivery-engine.js";
import { DeliveryDriver } from "./delivery-driver.js";

/** A driver over a fake view with hand-turned time, turns and lease. */
function harness() {
  const view = new FakeView();
  view.addDurable("orders", "std", { type: "standard" });
  let nowMs = 1000;
  let lease = true;
  const deferred: (() => void)[] = [];
  const timers: { atMs: number; callback: () => void; cancelled: boolean }[] = [];
  const driver = new DeliveryDriver(view, {
    now: () => nowMs,
    defer: (callback) => deferred.push(callback),
    setTimer: (delayMs, callback) => {
      const timer = { atMs: nowMs + delayMs, callback, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
    holdsLease: () => lease,
    propose: () => {},
  });
  const received: Delivery[] = [];
  const handle = { subscriberId: "sub", deliver: (deliveries: readonly Delivery[]) => received.push(...deliveries), lost: () => {} };
  const turn = (): void => {
    for (let guard = 0; guard < 100 && deferred.length > 0; guard++) deferred.shift()?.();
  };
  const advance = (ms: number): void => {
    nowMs += ms;
    for (const timer of timers.splice(0)) {
      if (timer.cancelled) continue;
      if (timer.atMs <= nowMs) timer.callback();
      else timers.push(timer);
    }
    turn();
  };
  return { view, driver, handle, received, turn, advance, setLease: (value: boolean) => (lease = value) };
}

describe("the delivery driver", () => {
  it("a new leader delivers nothing until it has applied its term's first entry", () => {
    const { view, driver, handle, received, turn } = harness();
    view.publish("orders", ["std"]);
    driver.becameLeader(2, view.appliedIndex + 5);
    expect(driver.attach(handle, "orders", "std", 10)).toMatchObject({ ok: false, reason: "not-leader" });
    turn();
    expect(received).toEqual([]);
    view.appliedIndex += 5;
    driver.appliedBatch();
    expect(driver.attach(handle, "orders", "std", 10)).toEqual({ ok: true });
    turn();
    expect(received.map((delivery) => delivery.storeSequence)).toEqual([1]);
  });

  it("a leader without its lease delivers nothing, and resumes once it holds it again", () => {
    const { view, driver, handle, received, turn, advance, setLease } = harness();
    driver.becameLeader(1, view.appliedIndex);
    expect(driver.attach(handle, "orders", "std", 10)).toEqual({ ok: true });
    setLease(false);
    view.publish("orders", ["std"]);
    driver.appliedBatch();
    turn();
    advance(100);
    expect(received).toEqual([]);
    setLease(true);
    advance(100);
    expect(received.map((delivery) => delivery.storeSequence)).toEqual([1]);
  });

  it("losing leadership tells every subscriber, and attach refuses until it leads again", () => {
    const { view, driver, handle } = harness();
    const lost: string[] = [];
    driver.becameLeader(1, view.appliedIndex);
    driver.attach({ ...handle, lost: (reason) => lost.push(reason) }, "orders", "std", 10);
    driver.stoppedLeading("deposed");
    expect(lost).toEqual(["deposed"]);
    expect(driver.attach(handle, "orders", "std", 10)).toMatchObject({ ok: false, reason: "not-leader" });
  });
});
