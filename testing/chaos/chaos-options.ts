import type { WorkloadBounds } from "./workload.js";

/** Every bound of one chaos run, named once. Quick is what CI runs (under 5 minutes). */
export interface ChaosOptions {
  readonly seed: number;
  readonly quick: boolean;
  /** Each fault kind this many times, in the seed's order. */
  readonly faultRounds: number;
  readonly workload: WorkloadBounds;
  /** The history's bound (operations). */
  readonly operationsMax: number;
  /** Waiting for the first leader, for a leader before each fault, for health after one. */
  readonly startupMs: number;
  readonly leaderMs: number;
  readonly recoveryMs: number;
  /** After the faults: subscribers get and ack everything within this. */
  readonly drainMs: number;
  readonly convergenceMs: number;
  /** The whole run; past it the harness stops everything and fails. */
  readonly runMsMax: number;
}

export function chaosOptions(seed: number, quick: boolean): ChaosOptions {
  return {
    seed,
    quick,
    faultRounds: quick ? 2 : 6,
    workload: {
      publishesMax: quick ? 40_000 : 200_000,
      windowMax: 32,
      burst: 5,
      pauseMs: 20,
      skipAckProbability: 0.03,
      requestTimeoutMs: 30_000,
      prefetch: 32,
      consumeBurst: 0,
      consumePauseMs: 0,
      padBytes: 0,
    },
    operationsMax: 5_000_000,
    startupMs: 60_000,
    leaderMs: 30_000,
    recoveryMs: 40_000,
    drainMs: 90_000,
    convergenceMs: 30_000,
    runMsMax: quick ? 285_000 : 1_200_000,
  };
}
