import { describe, expect, it } from "vitest";
import { type EventOwner, Scheduler } from "./scheduler.js";

describe("Scheduler", () => {
  it("runs events by time, then by insertion order", () => {
    const scheduler = new Scheduler();
    const ran: string[] = [];
    scheduler.schedule(10, null, () => ran.push("b"));
    scheduler.schedule(5, null, () => ran.push("a"));
    scheduler.schedule(10, null, () => ran.push("c"));
    scheduler.schedule(0, null, () => scheduler.schedule(10, null, () => ran.push("d")));
    scheduler.runUntil(100);
    expect(ran).toEqual(["a", "b", "c", "d"]);
    expect(scheduler.now()).toBe(100);
  });

  it("leaves events after the horizon for later and skips cancelled ones", () => {
    const scheduler = new Scheduler();
    const ran: number[] = [];
    const timer = scheduler.schedule(5, null, () => ran.push(5));
    scheduler.schedule(50, null, () => ran.push(50));
    timer.cancel();
    scheduler.runUntil(20);
    expect(ran).toEqual([]);
    scheduler.runUntil(60);
    expect(ran).toEqual([50]);
  });

  it("drops the events of a dead owner (a crashed incarnation)", () => {
    const scheduler = new Scheduler();
    const owner: EventOwner = { member: "m1", alive: true };
    const ran: string[] = [];
    scheduler.schedule(5, owner, () => ran.push("timer"));
    owner.alive = false;
    scheduler.runUntil(10);
    expect(ran).toEqual([]);
  });

  it("holds a paused member's events until it resumes, in order, and they can still be cancelled", () => {
    const scheduler = new Scheduler();
    const owner: EventOwner = { member: "m1", alive: true };
    const ran: Array<[string, number]> = [];
    scheduler.schedule(5, owner, () => ran.push(["first", scheduler.now()]));
    const cancelled = scheduler.schedule(6, owner, () => ran.push(["cancelled", scheduler.now()]));
    scheduler.schedule(7, owner, () => ran.push(["second", scheduler.now()]));
    scheduler.schedule(8, null, () => ran.push(["world", scheduler.now()]));
    scheduler.pause("m1");
    scheduler.runUntil(100);
    expect(ran).toEqual([["world", 8]]);
    cancelled.cancel();
    scheduler.resume("m1");
    scheduler.runUntil(200);
    // The member's clock jumped: its timers fire at resume time.
    expect(ran).toEqual([["world", 8], ["first", 100], ["second", 100]]);
  });

  it("stops early when asked", () => {
    const scheduler = new Scheduler();
    let count = 0;
    for (let i = 1; i <= 10; i++) scheduler.schedule(i, null, () => count++);
    scheduler.runUntil(100, () => count === 3);
    expect(count).toBe(3);
    expect(scheduler.now()).toBe(3);
  });

  it("a member busy with work holds its events until the work ends, then runs timers before I/O, as Node's loop does", () => {
    const scheduler = new Scheduler();
    const owner: EventOwner = { member: "m1", alive: true };
    const clock = scheduler.clockFor(owner);
    const ran: Array<[string, number]> = [];
    scheduler.schedule(10, owner, () => {
      // 500 ms of work in one synchronous stretch: local time moves on with it.
      clock.charge(500);
      ran.push(["worked", clock.nowMs()]);
      clock.setTimer(50, () => ran.push(["timer set while busy", scheduler.now()]));
    });
    scheduler.schedule(20, owner, () => ran.push(["answer that arrived meanwhile", scheduler.now()]));
    clock.setTimer(300, () => ran.push(["check-quorum", scheduler.now()]));
    scheduler.schedule(100, null, () => ran.push(["world", scheduler.now()]));
    scheduler.runUntil(1000);
    expect(ran).toEqual([
      ["worked", 510],
      ["world", 100],
      ["check-quorum", 510],
      ["answer that arrived meanwhile", 510],
      ["timer set while busy", 560],
    ]);
  });
});
