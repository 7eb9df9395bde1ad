/**
 * The realm simulator's command line:
 *   npx tsx testing/sim/realm/cli.ts --seeds 500 [--from 1000]   # a range; last line "seeds: N, violations: V"
 *   npx tsx testing/sim/realm/cli.ts --seed 42                    # replay one seed with its whole trace
 */
import { parseArgs } from "node:util";
import { runRealmSeed } from "./realm-simulation.js";
import { describeFailure, runRealmSeeds } from "./run-realm-seeds.js";

const safetyMs = 30_000;
const { values } = parseArgs({ options: { seeds: { type: "string" }, from: { type: "string" }, seed: { type: "string" } } });

if (values.seed !== undefined) {
  const result = runRealmSeed({ seed: Number(values.seed), safetyMs, echo: (line) => console.log(line) });
  console.log(`deploys ok ${result.deploys.ok}, refused ${result.deploys.refused}; failover checks ${result.failoverChecks}; test checks ${result.testChecks}`);
  for (const violation of result.violations) console.log(`VIOLATION ${violation.checker} at ${violation.atMs} ms: ${violation.detail}`);
  process.exitCode = result.violations.length > 0 ? 1 : 0;
} else {
  const summary = runRealmSeeds(Number(values.from ?? 1), Number(values.seeds ?? 100), safetyMs);
  for (const failure of summary.failures) console.log(describeFailure(failure));
  console.log(`seeds: ${summary.seeds}, violations: ${summary.failures.length}`);
  process.exitCode = summary.failures.length > 0 ? 1 : 0;
}
