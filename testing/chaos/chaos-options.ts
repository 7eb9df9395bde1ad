import type { ServeAgainBounds } from "./serve-again.js";
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

/** Every bound of one run of the backlog history (run-backlog.ts); quick is what CI runs. */
export interface BacklogOptions {
  readonly seed: number;
  readonly quick: boolean;
  readonly workload: WorkloadBounds;
  /** The scripted faults fall in this span from the start of publishing (backlog-schedule.ts). */
  readonly spanMs: number;
  /** Every server is killed at once only once this many publishes were confirmed... */
  readonly backlogConfirmedMin: number;
  /** ...or, short of it, this long after publishing started (the log then says so). */
  readonly backlogMsMax: number;
  readonly operationsMax: number;
  readonly startupMs: number;
  readonly leaderMs: number;
  readonly recoveryMs: number;
  /** A deploy refused (the backup not linked yet, a leader changing) is tried again until this. */
  readonly deployMs: number;
  readonly serveAgain: ServeAgainBounds;
  readonly drainMs: number;
  readonly convergenceMs: number;
  readonly runMsMax: number;
}

export function backlogOptions(seed: number, quick: boolean): BacklogOptions {
  return {
    seed,
    quick,
    workload: {
      // Paced at about burst / pauseMs: 5 a ms; the slow subscriber acks 0.5 a ms (consumeBurst / consumePauseMs).
      publishesMax: quick ? 150_000 : 250_000,
      windowMax: 256,
      burst: 100,
      pauseMs: 20,
      skipAckProbability: 0,
      requestTimeoutMs: 30_000,
      prefetch: 256,
      consumeBurst: 10,
      consumePauseMs: 20,
      // With the plan's fields (backlog-realm.ts), the publisher's name and its number: 128 bytes encoded (message-codec.ts).
      padBytes: 36,
    },
    spanMs: quick ? 20_000 : 30_000,
    backlogConfirmedMin: quick ? 60_000 : 100_000,
    backlogMsMax: quick ? 60_000 : 90_000,
    operationsMax: 5_000_000,
    startupMs: 60_000,
    leaderMs: 30_000,
    recoveryMs: 40_000,
    deployMs: 30_000,
    serveAgain: { serveAgainMs: 20_000, leaderKeptMs: 3000 },
    drainMs: 120_000,
    convergenceMs: 30_000,
    runMsMax: quick ? 240_000 : 420_000,
  };
}
