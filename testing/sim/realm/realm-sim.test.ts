import { describe, expect, it } from "vitest";
import { familyMembers } from "../../../src/protocols/realm/testdata/family.js";
import { checkSettled, RealmSafetyChecker } from "./realm-checkers.js";
import { runRealmSeed } from "./realm-simulation.js";
import { describeFailure, runRealmSeeds } from "./run-realm-seeds.js";
import { RealmWorld, realmWorldDefaults } from "./realm-world.js";

describe("realm simulator", () => {
  it("seeds 1-300: no violation under crashes, cuts and deploys, and the family settles after", () => {
    const summary = runRealmSeeds(1, 300, 30_000);
    // Each failure prints its seed, the trace before it, and the replay command.
    expect(summary.failures.map(describeFailure)).toEqual([]);
  });

  it("a run is a pure function of its seed", () => {
    const first = runRealmSeed({ seed: 42, safetyMs: 10_000 });
    const second = runRealmSeed({ seed: 42, safetyMs: 10_000 });
    expect(second.trace).toEqual(first.trace);
    expect(first.deploys.ok).toBeGreaterThan(0);
  });

  it("runs exercise what they check: deploys taken and refused, failovers checked", () => {
    const totals = { ok: 0, refused: 0, failoverChecks: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      const result = runRealmSeed({ seed, safetyMs: 30_000 });
      totals.ok += result.deploys.ok;
      totals.refused += result.deploys.refused;
      totals.failoverChecks += result.failoverChecks;
    }
    expect(totals.ok).toBeGreaterThan(50);
    expect(totals.refused).toBeGreaterThan(10);
    expect(totals.failoverChecks).toBeGreaterThan(20);
  });
});

describe("the checkers fail when they should", () => {
  it("revision agreement: a server storing another content under a number the primary made", () => {
    const world = new RealmWorld({ seed: 1, family: familyMembers, ...realmWorldDefaults });
    const checker = new RealmSafetyChecker("p1");
    world.runFor(200);
    checker.observe(world, world.server("p1"), { type: "store-revision", revision: { number: 1, hash: "a", text: "x" } }, 0);
    checker.observe(world, world.server("sat2"), { type: "store-revision", revision: { number: 1, hash: "b", text: "y" } }, 0);
    expect(checker.violations.map((violation) => violation.checker)).toContain("revision-agreement");
  });

  it("settled: a backup still cut from its regular server after the faults stop", () => {
    const world = new RealmWorld({ seed: 1, family: familyMembers, ...realmWorldDefaults });
    world.runFor(300);
    world.deploy("p1", "one");
    world.runFor(1000);
    world.cut("p1", "p1-backup");
    world.runFor(5000);
    const violations = checkSettled(world).map((violation) => violation.checker);
    expect(violations).toContain("links-up");
    expect(violations).toContain("client-admission");
    world.healAll();
    world.runFor(3000);
    expect(checkSettled(world)).toEqual([]);
  });
});
