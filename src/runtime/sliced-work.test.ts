import { describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/memory/manual-clock.js";
import { SlicedWork, type SlicedJob } from "./sliced-work.js";

/** A job of `units` units of `unitMs` each, noting each unit it did in `log`. */
function unitsJob(clock: ManualClock, name: string, units: number, unitMs: number, log: string[], supersedable = true): SlicedJob {
  let done = 0;
  return {
    supersedable,
    run: (more) => {
      while (done < units) {
        clock.spend(unitMs);
        log.push(`${name}${++done}`);
        if (done < units && !more()) return "more";
      }
      return "done";
    },
  };
}

describe("SlicedWork", () => {
  it("a job pushed onto an idle queue runs at once, in the caller's turn", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    work.push(unitsJob(clock, "a", 2, 1, log));
    expect(log).toEqual(["a1", "a2"]);
    expect(work.idle).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("long work yields the event loop after a slice, so timers due meanwhile run between slices", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    // Due 2 ms from now: inside the first slice, which must not hold it up until the work ends.
    clock.setTimer(2, () => log.push("heartbeat"));
    work.push(unitsJob(clock, "a", 10, 1, log));
    // One slice: four units of 1 ms, then the rest waits for a later turn.
    expect(log).toEqual(["a1", "a2", "a3", "a4"]);
    clock.advance(100);
    expect(log).toEqual(["a1", "a2", "a3", "a4", "heartbeat", "a5", "a6", "a7", "a8", "a9", "a10"]);
    expect(work.slicesYielded).toBe(2);
  });

  it("jobs run first in, first out, a job queued during a slice after the ones before it", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    work.push(unitsJob(clock, "a", 6, 1, log));
    work.push({ supersedable: false, run: () => (log.push("notify"), "done") });
    work.push(unitsJob(clock, "b", 2, 1, log));
    clock.advance(100);
    expect(log).toEqual(["a1", "a2", "a3", "a4", "a5", "a6", "notify", "b1", "b2"]);
  });

  it("supersede drops the applies queued so far, the one under way too, and keeps the rest", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    work.push(unitsJob(clock, "a", 10, 1, log));
    work.push({ supersedable: false, run: () => (log.push("notify"), "done") });
    work.push(unitsJob(clock, "b", 3, 1, log));
    work.supersede();
    work.push(unitsJob(clock, "c", 1, 1, log));
    clock.advance(100);
    expect(log).toEqual(["a1", "a2", "a3", "a4", "notify", "c1"]);
  });

  it("a job that waits holds the queue and is asked again later; background work runs in what a slice leaves", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    let ready = false;
    work.push({ supersedable: false, run: () => (ready ? (log.push("captured"), "done") : { waitMs: 1 }) });
    work.push({ supersedable: false, run: () => (log.push("after"), "done") });
    let encoded = 0;
    work.pushBackground({ run: (more) => { while (encoded < 6) { clock.spend(1); encoded++; if (!more()) return "more"; } log.push("encoded"); return "done"; } });
    clock.advance(10);
    expect(log).toEqual(["encoded"]);
    ready = true;
    clock.advance(10);
    expect(log).toEqual(["encoded", "captured", "after"]);
    expect(work.idle).toBe(true);
  });

  it("after stop nothing more runs", () => {
    const clock = new ManualClock();
    const work = new SlicedWork(clock, 4);
    const log: string[] = [];
    work.push(unitsJob(clock, "a", 10, 1, log));
    work.stop();
    work.push(unitsJob(clock, "b", 1, 1, log));
    clock.advance(100);
    expect(log).toEqual(["a1", "a2", "a3", "a4"]);
  });
});
