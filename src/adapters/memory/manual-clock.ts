import type { Clock, TimerHandle } from "../../runtime/ports.js";

/**
 * A clock whose time moves only when a test says so: `advance` runs the timers that fall due,
 * in time order, and `spend` moves time without running anything (synchronous work that took
 * that long, as a slice of application work does).
 */
export class ManualClock implements Clock {
  private now = 0;
  private sequence = 0;
  private timers: Array<{ atMs: number; order: number; callback: () => void; cancelled: boolean }> = [];

  nowMs(): number {
    return this.now;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = { atMs: this.now + delayMs, order: this.sequence++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Deferred work runs at the current instant, before any later timer (like setImmediate). */
  defer(callback: () => void): void {
    this.setTimer(0, callback);
  }

  /** Time passes inside the current callback, as synchronous work makes it pass. */
  spend(ms: number): void {
    this.now += ms;
  }

  advance(ms: number, between: () => void = () => {}): void {
    const until = this.now + ms;
    while (true) {
      const due = this.timers.filter((timer) => !timer.cancelled && timer.atMs <= until).sort((a, b) => a.atMs - b.atMs || a.order - b.order)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.now = Math.max(this.now, due.atMs);
      due.callback();
      between();
    }
    this.now = Math.max(this.now, until);
  }

  pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }
}
