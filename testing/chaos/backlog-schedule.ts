import type { Prng } from "../../src/kernel/prng.js";
import type { DeployedRevision } from "./backlog-realm.js";

/**
 * The backlog history's faults, drawn from the seed (pure: the same seed, the same schedule).
 * Times are from the start of publishing; each step waits for its time and for a healthy
 * cluster, so a step never starts before its time but may start later (after a long pause).
 */
export type BacklogStep =
  | { readonly kind: "kill-leader"; readonly atMs: number; readonly downMs: number }
  | { readonly kind: "pause-leader"; readonly atMs: number; readonly pauseMs: number }
  | { readonly kind: "deploy"; readonly atMs: number; readonly revision: DeployedRevision };

export interface BacklogSchedule {
  /** In time order. */
  readonly steps: readonly BacklogStep[];
  /** After every step and past `spanMs` (and once the backlog is built), every server is killed at once, down this long. */
  readonly spanMs: number;
  readonly killAllDownMs: number;
}

/** Durations ([min, max] ms) and where in the span each step falls ([min, max] fractions of it). */
export const backlogTiming = {
  /** A killed leader stays down this long ("restart after a moment"). */
  downMs: [300, 1500],
  /** SIGSTOP of the leader: far past the election timeout and the realm heartbeat timeout (3 s). */
  pauseMs: [5000, 10_000],
  /** Every server down at once. */
  killAllDownMs: [500, 2000],
  firstKillAt: [0.1, 0.2],
  secondKillAt: [0.3, 0.4],
  pauseAt: [0.45, 0.55],
  deployAt: [0.1, 0.9],
} as const satisfies Record<string, readonly [number, number]>;

/** Two leader kills, one long SIGSTOP of the leader and two deploys (2 before 3) in a span of `spanMs`. */
export function backlogSchedule(random: Prng, spanMs: number): BacklogSchedule {
  const draw = (range: readonly [number, number]): number => random.int(range[0], range[1]);
  const at = (range: readonly [number, number]): number => random.int(Math.round(spanMs * range[0]), Math.round(spanMs * range[1]));
  const deployTimes = [at(backlogTiming.deployAt), at(backlogTiming.deployAt)].sort((a, b) => a - b);
  const steps: BacklogStep[] = [
    { kind: "kill-leader", atMs: at(backlogTiming.firstKillAt), downMs: draw(backlogTiming.downMs) },
    { kind: "kill-leader", atMs: at(backlogTiming.secondKillAt), downMs: draw(backlogTiming.downMs) },
    { kind: "pause-leader", atMs: at(backlogTiming.pauseAt), pauseMs: draw(backlogTiming.pauseMs) },
    { kind: "deploy", atMs: deployTimes[0] ?? 0, revision: 2 },
    { kind: "deploy", atMs: deployTimes[1] ?? 0, revision: 3 },
  ];
  // Stable: a deploy drawn at the same ms as a kill keeps its place after it.
  steps.sort((a, b) => a.atMs - b.atMs);
  return { steps, spanMs, killAllDownMs: draw(backlogTiming.killAllDownMs) };
}

/** One line per step, for the log's first lines (a replay shows the same). */
export function describeSchedule(schedule: BacklogSchedule): string {
  const steps = schedule.steps.map((step) => {
    const at = `${(step.atMs / 1000).toFixed(1)} s`;
    if (step.kind === "kill-leader") return `${at} kill -9 the leader (down ${step.downMs} ms)`;
    if (step.kind === "pause-leader") return `${at} SIGSTOP the leader for ${step.pauseMs} ms`;
    return `${at} deploy revision ${step.revision}`;
  });
  return [...steps, `>= ${(schedule.spanMs / 1000).toFixed(1)} s kill -9 every server at once (down ${schedule.killAllDownMs} ms)`].join(", ");
}
