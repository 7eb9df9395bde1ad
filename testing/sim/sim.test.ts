import { describe, expect, it } from "vitest";
import type { FaultMix } from "./faults.js";
import { describeFailure, runSeeds } from "./run-seeds.js";
import { Simulation } from "./simulation.js";

/**
 * The main test of the consensus stack: many seeded runs of the real code under faults. On
 * failure every failing seed is printed with its checker and trace, ready to replay with
 * `npm run sim -- --seed S`.
 */
function expectNoViolations(from: number, count: number, members: number, mix: FaultMix = "default"): void {
  const summary = runSeeds({ from, count, members, quick: false, mix });
  const report = summary.failures.map((result) => describeFailure(result, members)).join("\n\n");
  if (summary.failures.length > 0) console.error(report);
  expect(summary.failures.map((result) => `seed ${result.seed}: ${result.violations.map((v) => v.checker).join(", ")}`)).toEqual([]);
  // The runs did real work: commands committed despite the faults.
  expect(summary.acknowledged).toBeGreaterThan(count * 100);
}

describe("simulator", () => {
  it("3 members, seeds 1..300: no checker finds a violation", () => {
    expectNoViolations(1, 300, 3);
  });

  it("5 members, seeds 1..80: no checker finds a violation", () => {
    expectNoViolations(1, 80, 5);
  });

  it("3 members, transfer-heavy mix, seeds 1..200: no checker finds a violation", () => {
    // The mix that found a first formation left unable to elect (a voter that took a newer
    // term lost its vote record, and with it the evidence that it took part).
    expectNoViolations(1, 200, 3, "transfers");
  });

  it("reads that skip the lease are caught: the read checkers and the workload have the power", () => {
    // FoundationDB style: break the rule on purpose (a stand-in for leaseValid() always true,
    // see SimulationOptions.unsafeReadsIgnoreLease) and require the checkers to notice.
    const summary = runSeeds({ from: 1, count: 40, members: 3, quick: false, unsafeReadsIgnoreLease: true });
    const checkers = new Set(summary.failures.flatMap((result) => result.violations.map((violation) => violation.checker)));
    expect(summary.failures.length).toBeGreaterThanOrEqual(4);
    expect([...checkers].sort()).toEqual(["linearizable-read", "stale-leader-read"]);
  });

  it("replays a seed to the identical trace", () => {
    const run = () => new Simulation({ seed: 4242, members: 3, quick: true, fullTrace: true }).run();
    const first = run();
    const second = run();
    expect(first.trace.length).toBeGreaterThan(200);
    expect(second.trace).toEqual(first.trace);
    expect(second.stats).toEqual(first.stats);
    const other = new Simulation({ seed: 4243, members: 3, quick: true, fullTrace: true }).run();
    expect(other.trace).not.toEqual(first.trace);
  });
});
