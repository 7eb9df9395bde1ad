import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { realmFamily } from "../../realm/family.js";
import { parseRealmDefinition } from "../../realm/load.js";
import { Family } from "./family.js";
import { familyMembers } from "./testdata/family.js";

describe("who dials whom (seed 003's table)", () => {
  const family = new Family(familyMembers);

  it("a satellite dials the primary and its own backup; one without a backup only the primary", () => {
    expect(family.dialTargets("sat1")).toEqual(["p1", "sat1-backup"]);
    expect(family.dialTargets("sat2")).toEqual(["p1"]);
  });

  it("the primary dials its backup and the disaster-recovery server", () => {
    expect(family.dialTargets("p1")).toEqual(["p1-backup", "dr1"]);
  });

  it("backups and the disaster-recovery server dial nobody", () => {
    expect(family.dialTargets("p1-backup")).toEqual([]);
    expect(family.dialTargets("sat1-backup")).toEqual([]);
    expect(family.dialTargets("dr1")).toEqual([]);
  });

  it("each server accepts connections only from those that dial it", () => {
    expect(family.dialers("p1")).toEqual(["sat1", "sat2"]);
    expect(family.dialers("p1-backup")).toEqual(["p1"]);
    expect(family.dialers("sat1-backup")).toEqual(["sat1"]);
    expect(family.dialers("dr1")).toEqual(["p1"]);
    expect(family.dialers("sat1")).toEqual([]);
  });

  it("definitions flow from the primary down: satellites and DR from it, a backup from its regular server", () => {
    expect(family.upstreamOf("p1")).toBeUndefined();
    expect(family.upstreamOf("sat1")).toBe("p1");
    expect(family.upstreamOf("dr1")).toBe("p1");
    expect(family.upstreamOf("p1-backup")).toBe("p1");
    expect(family.upstreamOf("sat1-backup")).toBe("sat1");
  });

  it("an impossible family is a programmer error (the realm checks refuse it first)", () => {
    expect(() => new Family([...familyMembers, { name: "p2", role: "primary" }])).toThrow(/2 primaries/);
    expect(() => new Family([...familyMembers, { name: "b2", role: "backup", of: "p1-backup" }])).toThrow(/backs up a backup/);
    expect(() => new Family([...familyMembers, { name: "b2", role: "backup", of: "p1" }])).toThrow(/two backups/);
    expect(() => new Family([...familyMembers, { name: "sat3", role: "satellite", of: "sat1" }])).toThrow(/satellite of a satellite/);
  });
});

describe("the family from a realm definition", () => {
  it("is the servers with a realm role, as servers[].realmService gives them (src/realm/family.ts)", () => {
    const text = readFileSync(new URL("../../realm/testdata/family-realm.yaml", import.meta.url), "utf8");
    const result = parseRealmDefinition(text, "family-realm.yaml");
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const members = realmFamily(result.realm);
    expect(members).toEqual(familyMembers.map((member) => ({ ...member, of: member.of })));
    expect(() => new Family(members)).not.toThrow();
  });
});
