import { describe, expect, it } from "vitest";
import { familyMembers } from "../../../src/protocols/realm/testdata/family.js";
import { RealmWorld, realmWorldDefaults } from "./realm-world.js";

/**
 * Seed 003's behaviours on a whole family of the real protocol code (virtual time, a network
 * with 1-5 ms delays): p1 (primary) + p1-backup, sat1 + sat1-backup, sat2, dr1.
 */
function family(seed = 1): RealmWorld {
  const world = new RealmWorld({ seed, family: familyMembers, ...realmWorldDefaults });
  world.runFor(500);
  expect(world.deploy("p1", "revision one")).toMatchObject({ ok: true, revision: { number: 1 } });
  world.runFor(500);
  return world;
}

const everyone = familyMembers.map((member) => member.name);

function revisions(world: RealmWorld): Record<string, number | null> {
  return Object.fromEntries(everyone.map((name) => [name, world.server(name).stored.at(-1)?.number ?? null]));
}

describe("a family of realm servers", () => {
  it("a deploy on the primary reaches every server: satellites, backups (via their regular server) and the DR server", () => {
    const world = family();
    expect(world.deploy("p1", "revision two")).toMatchObject({ ok: true, revision: { number: 2 } });
    world.runFor(100);
    expect(revisions(world)).toEqual({ p1: 2, "p1-backup": 2, sat1: 2, "sat1-backup": 2, sat2: 2, dr1: 2 });
    for (const name of everyone) expect(world.server(name).active?.text).toBe("revision two");
    for (const name of everyone) expect(world.node(name).status().links.every((link) => link.state === "up")).toBe(true);
  });

  it("a satellite accepts no client until the primary has given it a definition", () => {
    const world = new RealmWorld({ seed: 2, family: familyMembers, ...realmWorldDefaults });
    world.runFor(500);
    expect(world.node("sat2").admitClient("application")).toMatchObject({ admitted: false, reason: "sat2 has no realm definition yet (it waits for one from p1)" });
    world.deploy("p1", "revision one");
    world.runFor(100);
    expect(world.node("sat2").admitClient("application")).toEqual({ admitted: true });
  });

  it("a satellite cut off from the primary keeps serving, and gets the newest revision when it reconnects", () => {
    const world = family();
    world.cut("sat2", "p1");
    world.runFor(4000);
    expect(world.node("sat2").status().links).toMatchObject([{ peer: "p1", state: expect.not.stringMatching(/^up$/) }]);
    expect(world.node("sat2").admitClient("application")).toEqual({ admitted: true });
    expect(world.deploy("p1", "revision two")).toMatchObject({ ok: true });
    expect(world.deploy("p1", "revision three")).toMatchObject({ ok: true, revision: { number: 3 } });
    world.runFor(1000);
    expect(world.server("sat2").stored.at(-1)?.number).toBe(1);
    world.healAll();
    world.runFor(2500);
    // Only the newest is pushed: the revision in between is skipped, not replayed.
    expect(world.server("sat2").stored.map((revision) => revision.number)).toEqual([1, 3]);
  });

  it("clients fail over to the backup when the primary dies, within the heartbeat timeout, and go back when it returns", () => {
    const world = family();
    expect(world.node("p1-backup").admitClient("application")).toMatchObject({ admitted: false, redirectTo: ["p1"] });
    world.crash("p1", "silent");
    const crashedAtMs = world.nowMs;
    let servingAtMs: number | null = null;
    while (servingAtMs === null && world.nowMs < crashedAtMs + 5000) {
      world.runFor(10);
      if (world.node("p1-backup").admitClient("application").admitted) servingAtMs = world.nowMs;
    }
    // 3 s without a heartbeat, noticed at the next tick (50 ms).
    expect(servingAtMs).not.toBeNull();
    expect(servingAtMs! - crashedAtMs).toBeLessThanOrEqual(3000 + 50 + 10);
    expect(servingAtMs! - crashedAtMs).toBeGreaterThanOrEqual(3000 - 1000);
    world.restart("p1");
    world.runFor(500);
    expect(world.server("p1-backup").handBacks).toEqual([{ atMs: expect.any(Number), to: "p1" }]);
    expect(world.node("p1-backup").admitClient("application")).toMatchObject({ admitted: false });
  });

  it("a connection reset is noticed at once, without waiting for the timeout", () => {
    const world = family();
    world.crash("sat1", "reset");
    world.runFor(20);
    expect(world.node("sat1-backup").admitClient("application")).toEqual({ admitted: true });
  });

  it("the primary refuses a deploy while its backup is disconnected, and takes it after they reconnect", () => {
    const world = family();
    world.crash("p1-backup", "silent");
    world.runFor(3100);
    expect(world.deploy("p1", "revision two")).toEqual({
      ok: false,
      code: "backup-link-down",
      reason: "p1's backup p1-backup is not connected, so p1 cannot take a new revision: reconnect them, then deploy again",
    });
    expect(world.server("p1").stored.at(-1)?.number).toBe(1);
    world.restart("p1-backup");
    world.runFor(2500);
    expect(world.deploy("p1", "revision two")).toMatchObject({ ok: true, revision: { number: 2 } });
  });

  it("a satellite whose backup is down refuses the primary's revision, and takes it once the backup is back", () => {
    const world = family();
    world.crash("sat1-backup", "reset");
    world.runFor(100);
    expect(world.deploy("p1", "revision two")).toMatchObject({ ok: true });
    world.runFor(500);
    expect(world.server("sat1").stored.at(-1)?.number).toBe(1);
    // sat1 told the primary at once that it takes no revision now, so none was even pushed.
    expect(world.node("sat1").status().accepting).toBe(false);
    world.restart("sat1-backup");
    world.runFor(2500);
    expect(world.server("sat1").stored.at(-1)?.number).toBe(2);
    expect(world.server("sat1-backup").stored.at(-1)?.number).toBe(2);
  });

  it("deploys and admin writes anywhere but the primary are refused, naming the primary", () => {
    const world = family();
    for (const name of everyone.filter((name) => name !== "p1")) {
      expect(world.deploy(name, "revision two")).toMatchObject({ ok: false, code: "not-primary", reason: expect.stringContaining("go to the primary p1") });
    }
    expect(revisions(world)).toEqual({ p1: 1, "p1-backup": 1, sat1: 1, "sat1-backup": 1, sat2: 1, dr1: 1 });
  });

  it("a primary restarted from its store keeps numbering after its newest revision", () => {
    const world = family();
    world.deploy("p1", "revision two");
    world.crash("p1", "reset");
    world.restart("p1");
    world.runFor(1000);
    expect(world.deploy("p1", "revision three")).toMatchObject({ ok: true, revision: { number: 3 } });
  });
});
