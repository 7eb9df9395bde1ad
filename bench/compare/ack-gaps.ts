/**
 * The longest wait between two consecutive acknowledgments: what a synchronous publisher sees
 * as an outage during failover. `ackTimesMs` are the moments acks arrived, in any order; the
 * run's own start and end count as edges, so an outage at either end is not hidden.
 */
export function longestAckGapMs(ackTimesMs: readonly number[], runStartMs: number, runEndMs: number): { readonly gapMs: number; readonly fromMs: number } {
  const times = [runStartMs, ...[...ackTimesMs].sort((a, b) => a - b), runEndMs];
  let gapMs = 0;
  let fromMs = runStartMs;
  for (let at = 1; at < times.length; at++) {
    const gap = (times[at] as number) - (times[at - 1] as number);
    if (gap > gapMs) {
      gapMs = gap;
      fromMs = times[at - 1] as number;
    }
  }
  return { gapMs, fromMs };
}
