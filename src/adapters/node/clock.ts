import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../../runtime/ports.js";

/**
 * Monotonic wall time for the protocols. performance.now never jumps back when NTP steps the
 * system clock, which matters for leases and election timeouts.
 */
export class NodeClock implements Clock {
  nowMs(): number {
    return performance.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(timer) };
  }

  defer(callback: () => void): void {
    setImmediate(callback);
  }
}
