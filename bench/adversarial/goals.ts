import { percentile } from "../stats.js";

/** The goals: each attack's confirm p99 within this factor of the baseline's... */
export const confirmP99RatioMax = 2;
/** ...and the server's peak resident memory during the partial-frame attack within this of the baseline's. */
export const partialFramesRssOverBaselineMibMax = 50;

/** What one phase (the baseline, or one attack) measured. */
export interface PhaseFigures {
  readonly name: string;
  readonly seconds: number;
  readonly confirmed: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMib: number;
  /** CPU during the phase, in percent of one core: the server's (its threads together), the publisher's, the attacker's (the benchmark process). */
  readonly serverCpuPercent: number;
  readonly publisherCpuPercent: number;
  readonly attackerCpuPercent: number;
}

export interface PhaseSample {
  readonly name: string;
  readonly seconds: number;
  readonly latenciesMs: readonly number[];
  readonly failures: number;
  readonly peakRssBytes: number;
  readonly cpuMs: { readonly server: number; readonly publisher: number; readonly attacker: number };
}

export function phaseFigures(sample: PhaseSample): PhaseFigures {
  const sorted = [...sample.latenciesMs].sort((a, b) => a - b);
  return {
    name: sample.name,
    seconds: sample.seconds,
    confirmed: sorted.length,
    failures: sample.failures,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    peakRssMib: sample.peakRssBytes / (1024 * 1024),
    serverCpuPercent: percentOfCore(sample.cpuMs.server, sample.seconds),
    publisherCpuPercent: percentOfCore(sample.cpuMs.publisher, sample.seconds),
    attackerCpuPercent: percentOfCore(sample.cpuMs.attacker, sample.seconds),
  };
}

const percentOfCore = (cpuMs: number, seconds: number): number => (seconds > 0 ? cpuMs / (seconds * 10) : Number.NaN);

export interface GoalCheck {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly goal: string;
  readonly met: boolean;
}

/**
 * One check per attack (its confirm p99 against the baseline's; a failed publish or no confirm
 * at all misses the goal, since a real publisher would have seen it), and the partial-frame
 * attack's peak memory against the baseline's.
 */
export function goalChecks(baseline: PhaseFigures, attacks: readonly PhaseFigures[]): GoalCheck[] {
  const checks: GoalCheck[] = [];
  for (const attack of attacks) {
    const ratio = attack.p99Ms / baseline.p99Ms;
    checks.push({
      name: `adversarial.${attack.name}.confirm_p99_goal`,
      value: ratio,
      unit: "x baseline",
      goal: `confirm p99 at most ${confirmP99RatioMax}x the baseline's, no publish failed`,
      met: Number.isFinite(ratio) && ratio <= confirmP99RatioMax && attack.failures === 0 && attack.confirmed > 0,
    });
    if (attack.name === "partial-frames") {
      const over = attack.peakRssMib - baseline.peakRssMib;
      checks.push({
        name: "adversarial.partial-frames.peak_rss_goal",
        value: over,
        unit: "MiB over baseline",
        goal: `peak RSS at most ${partialFramesRssOverBaselineMibMax} MiB above the baseline's`,
        met: Number.isFinite(over) && over <= partialFramesRssOverBaselineMibMax,
      });
    }
  }
  return checks;
}
