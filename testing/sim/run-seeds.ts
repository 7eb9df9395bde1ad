import type { FaultMix } from "./faults.js";
import { Simulation, type SimulationResult } from "./simulation.js";

export interface SeedRange {
  readonly from: number;
  readonly count: number;
  readonly members: number;
  readonly quick: boolean;
  /** Demonstration only: see SimulationOptions.unsafeReadsIgnoreLease. */
  readonly unsafeReadsIgnoreLease?: boolean;
  readonly mix?: FaultMix;
}

export interface SeedsSummary {
  readonly seeds: number;
  readonly failures: readonly SimulationResult[];
  readonly elapsedMs: number;
  readonly events: number;
  readonly acknowledged: number;
  /** Reads answered ok. */
  readonly reads: number;
}

/** Run seeds from..from+count-1, each an independent simulation; collect the failing ones. */
export function runSeeds(range: SeedRange, onResult: (result: SimulationResult) => void = () => {}): SeedsSummary {
  const started = performance.now();
  const failures: SimulationResult[] = [];
  let events = 0;
  let acknowledged = 0;
  let reads = 0;
  for (let seed = range.from; seed < range.from + range.count; seed++) {
    const result = new Simulation({
      seed, members: range.members, quick: range.quick, fullTrace: false, unsafeReadsIgnoreLease: range.unsafeReadsIgnoreLease ?? false, mix: range.mix ?? "default",
    }).run();
    events += result.stats.events;
    acknowledged += result.stats.operations.ok ?? 0;
    reads += result.stats.reads.ok ?? 0;
    if (result.violations.length > 0) failures.push(result);
    onResult(result);
  }
  return { seeds: range.count, failures, elapsedMs: performance.now() - started, events, acknowledged, reads };
}

/** How a failing seed reads in a report: the seed, each violation, the trace before it. */
export function describeFailure(result: SimulationResult, members: number): string {
  const lines = [`seed ${result.seed} (${members} members): ${result.violations.length} violation(s)`];
  for (const violation of result.violations) {
    lines.push(`  [${violation.checker}] at ${violation.timeMs}ms: ${violation.detail}`);
  }
  lines.push(`  last ${result.traceTail.length} trace lines:`);
  for (const line of result.traceTail) lines.push(`    ${line}`);
  lines.push(`  replay: npm run sim -- --seed ${result.seed} --members ${members}`);
  return lines.join("\n");
}
