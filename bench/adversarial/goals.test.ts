import { describe, expect, it } from "vitest";
import { goalChecks, phaseFigures, type PhaseFigures } from "./goals.js";

const mebibyte = 1024 * 1024;

function phase(name: string, overrides: Partial<PhaseFigures> = {}): PhaseFigures {
  const cpu = { serverCpuPercent: 40, publisherCpuPercent: 30, attackerCpuPercent: 5 };
  return { name, seconds: 10, confirmed: 1000, failures: 0, p50Ms: 0.5, p99Ms: 4, peakRssMib: 90, ...cpu, ...overrides };
}

describe("the adversarial benchmark's goals", () => {
  it("an attack meets its goal at up to twice the baseline's confirm p99, and misses it past that", () => {
    const checks = goalChecks(phase("baseline"), [phase("idle-sockets", { p99Ms: 8 }), phase("wrong-password-flood", { p99Ms: 8.1 })]);
    expect(checks.map(({ name, value, met }) => ({ name, value, met }))).toEqual([
      { name: "adversarial.idle-sockets.confirm_p99_goal", value: 2, met: true },
      { name: "adversarial.wrong-password-flood.confirm_p99_goal", value: 2.025, met: false },
    ]);
  });

  it("a failed publish, or no confirm at all, misses the goal however fast the others were", () => {
    const attacks = [phase("hostile-requests", { failures: 1, p99Ms: 1 }), phase("big-definition", { confirmed: 0, p99Ms: Number.NaN })];
    const checks = goalChecks(phase("baseline"), attacks);
    expect(checks.map((check) => check.met)).toEqual([false, false]);
  });

  it("the partial-frame attack is also held to 50 MiB of peak memory over the baseline's", () => {
    const within = goalChecks(phase("baseline"), [phase("partial-frames", { peakRssMib: 140 })]);
    const past = goalChecks(phase("baseline"), [phase("partial-frames", { peakRssMib: 140.5 })]);
    expect(within.find((check) => check.name === "adversarial.partial-frames.peak_rss_goal")).toMatchObject({ value: 50, met: true });
    expect(past.find((check) => check.name === "adversarial.partial-frames.peak_rss_goal")).toMatchObject({ value: 50.5, met: false });
  });

  it("a phase's figures are nearest-rank percentiles of its confirms, memory in MiB and CPU in percent of one core", () => {
    const latenciesMs = Array.from({ length: 100 }, (_, index) => 100 - index);
    const cpuMs = { server: 2000, publisher: 1000, attacker: 0 };
    const figures = phaseFigures({ name: "baseline", seconds: 4, latenciesMs, failures: 0, peakRssBytes: 96 * mebibyte, cpuMs });
    expect(figures).toEqual({
      ...{ name: "baseline", seconds: 4, confirmed: 100, failures: 0, p50Ms: 50, p99Ms: 99, peakRssMib: 96 },
      ...{ serverCpuPercent: 50, publisherCpuPercent: 25, attackerCpuPercent: 0 },
    });
  });
});
