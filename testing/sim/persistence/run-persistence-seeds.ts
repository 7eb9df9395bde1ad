import type { AckPoint } from "../../../src/protocols/persistence/state-types.js";
import { describePersistenceFailure, PersistenceSimulation, type PersistenceSimulationResult, type PersistenceWorld } from "./persistence-simulation.js";

export interface PersistenceSeedOptions {
  readonly members: number;
  readonly quick: boolean;
  /** The simulated store's ack point (default quorum-fsync). */
  readonly ackPoint?: AckPoint;
  readonly world?: PersistenceWorld;
}

/** Run the given seeds; the failing results, and the time it took. */
export function runPersistenceSeeds(
  seeds: readonly number[],
  options: PersistenceSeedOptions,
  onResult: (result: PersistenceSimulationResult) => void = () => {},
): { failures: PersistenceSimulationResult[]; elapsedMs: number; events: number } {
  const started = performance.now();
  const failures: PersistenceSimulationResult[] = [];
  let events = 0;
  for (const seed of seeds) {
    const result = new PersistenceSimulation({ seed, ...options, fullTrace: false }).run();
    events += result.stats.events;
    if (result.violations.length > 0) failures.push(result);
    onResult(result);
  }
  return { failures, elapsedMs: performance.now() - started, events };
}

/**
 * `npm run sim -- --persistence …`: one seed replayed with its whole trace, or a range. The
 * last line is "seeds: N, violations: V"; the exit code is 1 on any violation.
 */
export function persistenceCli(options: PersistenceSeedOptions & { readonly seed?: number; readonly from: number; readonly count: number }): number {
  if (options.seed !== undefined) {
    const sim = new PersistenceSimulation({ ...options, seed: options.seed, fullTrace: true, echo: (line) => console.log(line) });
    const result = sim.run();
    console.log(`stats: ${JSON.stringify(result.stats)}`);
    if (result.violations.length > 0) console.log(describePersistenceFailure(result, options.members));
    console.log(`seeds: 1, violations: ${result.violations.length}`);
    return result.violations.length > 0 ? 1 : 0;
  }
  const seeds = Array.from({ length: options.count }, (_, i) => options.from + i);
  let done = 0;
  const summary = runPersistenceSeeds(seeds, options, (result) => {
    done++;
    if (result.violations.length > 0) console.log(describePersistenceFailure(result, options.members));
    if (done % 50 === 0) console.error(`... ${done}/${options.count} seeds`);
  });
  const violations = summary.failures.reduce((total, result) => total + result.violations.length, 0);
  console.log(`${options.count} persistence seeds from ${options.from} in ${(summary.elapsedMs / 1000).toFixed(1)}s (${summary.events} events); failing seeds: ${summary.failures.map((result) => result.seed).join(" ") || "none"}`);
  console.log(`seeds: ${options.count}, violations: ${violations}`);
  return violations > 0 ? 1 : 0;
}
