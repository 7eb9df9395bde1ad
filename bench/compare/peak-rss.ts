import { readFileSync, writeFileSync } from "node:fs";

/** A field of /proc/PID/status in bytes (`VmHWM: 123 kB`), or null when absent. */
export function statusFieldBytes(statusText: string, field: "VmHWM" | "VmRSS"): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(statusText);
  return match ? Number(match[1]) * 1024 : null;
}

function readStatus(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
}

/** How often VmRSS is sampled, in case the kernel's peak cannot be reset. */
const sampleIntervalMs = 100;

/**
 * The peak resident memory of each process during one workload: the kernel's high-water mark
 * (VmHWM), reset first through /proc/PID/clear_refs ("5", Linux 4.0+, our own processes), and
 * VmRSS sampled every 100 ms as a floor when the reset is refused.
 */
export function watchPeakRss(pids: ReadonlyMap<string, number>): { stop(): Map<string, number> } {
  const sampled = new Map<string, number>();
  const resetOk = new Map<string, boolean>();
  for (const [name, pid] of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
      resetOk.set(name, true);
    } catch {
      resetOk.set(name, false);
    }
  }
  const sample = (): void => {
    for (const [name, pid] of pids) {
      const rss = statusFieldBytes(readStatus(pid) ?? "", "VmRSS");
      if (rss !== null) sampled.set(name, Math.max(sampled.get(name) ?? 0, rss));
    }
  };
  sample();
  const timer = setInterval(sample, sampleIntervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const peak = new Map<string, number>();
      for (const [name, pid] of pids) {
        const highWater = resetOk.get(name) ? statusFieldBytes(readStatus(pid) ?? "", "VmHWM") : null;
        peak.set(name, Math.max(highWater ?? 0, sampled.get(name) ?? 0));
      }
      return peak;
    },
  };
}
