/** The backlog schedule: every seed gets the wedged cluster's faults, in a replayable order. */
import { describe, expect, it } from "vitest";
import { Prng } from "../../src/kernel/prng.js";
import { backlogSchedule, backlogTiming } from "./backlog-schedule.js";

const spanMs = 30_000;

describe("backlog schedule", () => {
  it("replays: one seed, one schedule", () => {
    expect(backlogSchedule(new Prng(7), spanMs)).toEqual(backlogSchedule(new Prng(7), spanMs));
    expect(backlogSchedule(new Prng(7), spanMs)).not.toEqual(backlogSchedule(new Prng(8), spanMs));
  });

  it("has, for every seed, two leader kills, one long SIGSTOP and deploys 2 then 3, in time order within the span", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const schedule = backlogSchedule(new Prng(seed), spanMs);
      const kinds = schedule.steps.map((step) => step.kind).sort();
      expect(kinds).toEqual(["deploy", "deploy", "kill-leader", "kill-leader", "pause-leader"]);
      const times = schedule.steps.map((step) => step.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Math.max(...times)).toBeLessThan(spanMs);
      const revisions = schedule.steps.flatMap((step) => (step.kind === "deploy" ? [step.revision] : []));
      expect(revisions).toEqual([2, 3]);
      const pause = schedule.steps.find((step) => step.kind === "pause-leader");
      expect(pause?.kind === "pause-leader" && pause.pauseMs).toBeGreaterThanOrEqual(backlogTiming.pauseMs[0]);
    }
  });
});
