import { runRealmSeed, type RealmRunResult } from "./realm-simulation.js";

export interface SeedRangeSummary {
  readonly seeds: number;
  readonly failures: readonly RealmRunResult[];
}

/** Runs seeds [from, from + count); stops at nothing: every failing seed is reported. */
export function runRealmSeeds(from: number, count: number, safetyMs: number): SeedRangeSummary {
  const failures: RealmRunResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = runRealmSeed({ seed, safetyMs });
    if (result.violations.length > 0) failures.push(result);
  }
  return { seeds: count, failures };
}

/** What a failure prints: the seed, what broke, the trace before it, and how to replay it. */
export function describeFailure(result: RealmRunResult): string {
  return [
    `seed ${result.seed}: ${result.violations.map((violation) => `${violation.checker} at ${violation.atMs} ms: ${violation.detail}`).join("; ")}`,
    ...result.trace.slice(-40).map((line) => `  ${line}`),
    `replay: npx tsx testing/sim/realm/cli.ts --seed ${result.seed}`,
  ].join("\n");
}
