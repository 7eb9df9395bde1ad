import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { realmFamily } from "./family.js";
import { parseRealmDefinition } from "./load.js";
import { formatRealmError } from "./realm-error.js";

const familyPath = fileURLToPath(new URL("./testdata/family-realm.yaml", import.meta.url));
const family = readFileSync(familyPath, "utf8");
const demo = readFileSync(fileURLToPath(new URL("./testdata/demo-realm.yaml", import.meta.url)), "utf8");

/** The family file with each `[from, to]` replaced once; fails the test if `from` is not there. */
function familyWith(...changes: Array<[string, string]>): string {
  let text = family;
  for (const [from, to] of changes) {
    expect(text, `family-realm.yaml should contain ${JSON.stringify(from)}`).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

function errorsOf(text: string): string[] {
  const result = parseRealmDefinition(text, "test.yaml");
  return result.ok ? [] : result.errors.map((error) => formatRealmError({ ...error, line: undefined, column: undefined }));
}

describe("realm roles", () => {
  it("a family of every role parses, each server with its role and affiliation", () => {
    const result = parseRealmDefinition(family, familyPath);
    expect(result.ok ? [] : result.errors.map((error) => formatRealmError(error))).toEqual([]);
    if (!result.ok) return;
    expect(result.realm.servers.map((server) => [server.name, server.realmService?.role, server.realmService?.of])).toEqual([
      ["p1", "primary", undefined],
      ["p1-backup", "backup", "p1"],
      ["sat1", "satellite", "p1"],
      ["sat1-backup", "backup", "sat1"],
      ["sat2", "satellite", "p1"],
      ["dr1", "disaster-recovery", "p1"],
      ["store1", undefined, undefined],
    ]);
    expect(result.realm.realmServices).toEqual({ heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500, secret: "family-realm-secret-0123" });
  });

  it("a realm without roles still loads, with FTL's heartbeat defaults (1 s, 3 s)", () => {
    // The demo realm without its roles and realm settings.
    const withoutRoles = demo.replace(/\n {4}realmService: \{[^}]*\}/g, "").replace(/realmServices:\n( {2}.*\n)+/, "");
    const result = parseRealmDefinition(withoutRoles, "demo-realm.yaml");
    expect(result.ok ? [] : result.errors.map((error) => formatRealmError(error))).toEqual([]);
    if (!result.ok) return;
    expect(realmFamily(result.realm)).toEqual([]);
    expect(result.realm.realmServices).toEqual({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 });
  });

  it("the demo realm is a family: s1 the primary, s2 its backup, s3 a satellite", () => {
    const result = parseRealmDefinition(demo, "demo-realm.yaml");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(realmFamily(result.realm)).toEqual([
      { name: "s1", role: "primary", of: undefined },
      { name: "s2", role: "backup", of: "s1" },
      { name: "s3", role: "satellite", of: "s1" },
    ]);
  });

  it("refuses a server with a role but no realm port, or one shared with its other ports", () => {
    expect(errorsOf(familyWith(["ports: { client: 7503, peer: 7513, admin: 7523, realm: 7533 }", "ports: { client: 7503, peer: 7513, admin: 7523 }"]))).toEqual([
      "servers[2].ports.realm: expected a port for links between affiliated realm servers (a server with a realm role needs one), found nothing",
    ]);
    expect(errorsOf(familyWith(["ports: { client: 7503, peer: 7513, admin: 7523, realm: 7533 }", "ports: { client: 7503, peer: 7513, admin: 7523, realm: 7523 }"]))).toEqual([
      "servers[2].ports.realm: expected a port different from the server's client, peer and admin ports, found 7523",
    ]);
  });

  it("refuses two primaries", () => {
    // sat1 becomes a second primary (its backup may back up a primary: only the count is wrong).
    expect(errorsOf(familyWith(["{ role: satellite, of: p1 }\n  - name: sat1-backup", "{ role: primary }\n  - name: sat1-backup"]))).toEqual([
      'servers[2].realmService.role: expected one primary only (servers[0] is the primary), found "primary"',
    ]);
  });

  it("refuses roles without a primary", () => {
    expect(errorsOf(familyWith(["realmService: { role: primary }", ""]))).toEqual([
      'servers: expected exactly one server with realmService.role primary (other servers have realm roles, and only a primary can give them a definition), found none',
      'servers[1].realmService.of: expected a regular server: the primary or a satellite (a backup never backs up a backup), found "p1" (a server without a realm role)',
      'servers[2].realmService.of: expected the primary (a satellite serves the primary only, never a satellite or a backup), found "p1" (a server without a realm role)',
      'servers[4].realmService.of: expected the primary (a satellite serves the primary only, never a satellite or a backup), found "p1" (a server without a realm role)',
      'servers[5].realmService.of: expected the primary (the disaster-recovery server backs up only the primary), found "p1" (a server without a realm role)',
    ]);
  });

  it("refuses two backups for one server", () => {
    expect(errorsOf(familyWith(["{ role: backup, of: sat1 }", "{ role: backup, of: p1 }"]))).toEqual([
      'servers[3].realmService.of: expected a regular server with no other backup (servers[1] already backs up p1), found "p1"',
    ]);
  });

  it("refuses a satellite of a satellite and a satellite of a backup", () => {
    expect(errorsOf(familyWith(["  - name: sat2\n    site: remote\n    host: 127.0.0.1\n    ports: { client: 7505, peer: 7515, admin: 7525, realm: 7535 }\n    realmService: { role: satellite, of: p1 }", "  - name: sat2\n    site: remote\n    host: 127.0.0.1\n    ports: { client: 7505, peer: 7515, admin: 7525, realm: 7535 }\n    realmService: { role: satellite, of: sat1 }"]))).toEqual([
      'servers[4].realmService.of: expected the primary (a satellite serves the primary only, never a satellite or a backup), found "sat1" (a satellite)',
    ]);
    expect(errorsOf(familyWith(["  - name: sat2\n    site: remote\n    host: 127.0.0.1\n    ports: { client: 7505, peer: 7515, admin: 7525, realm: 7535 }\n    realmService: { role: satellite, of: p1 }", "  - name: sat2\n    site: remote\n    host: 127.0.0.1\n    ports: { client: 7505, peer: 7515, admin: 7525, realm: 7535 }\n    realmService: { role: satellite, of: p1-backup }"]))).toEqual([
      'servers[4].realmService.of: expected the primary (a satellite serves the primary only, never a satellite or a backup), found "p1-backup" (a backup)',
    ]);
  });

  it("refuses a backup of a backup", () => {
    expect(errorsOf(familyWith(["{ role: backup, of: sat1 }", "{ role: backup, of: p1-backup }"]))).toEqual([
      'servers[3].realmService.of: expected a regular server: the primary or a satellite (a backup never backs up a backup), found "p1-backup" (a backup)',
    ]);
  });

  it("refuses a second disaster-recovery server and one of a satellite", () => {
    expect(errorsOf(familyWith(["{ role: satellite, of: p1 }\n  - name: dr1", "{ role: disaster-recovery, of: sat1 }\n  - name: dr1"]))).toEqual([
      'servers[4].realmService.of: expected the primary (the disaster-recovery server backs up only the primary), found "sat1" (a satellite)',
      'servers[5].realmService.role: expected at most one disaster-recovery server (servers[4] is one), found "disaster-recovery"',
    ]);
  });

  it("asks for the affiliation a role needs, and refuses one the primary cannot have", () => {
    expect(errorsOf(familyWith(["{ role: primary }", "{ role: primary, of: sat1 }"], ["{ role: backup, of: p1 }", "{ role: backup }"], ["{ role: backup, of: sat1 }", "{ role: backup, of: nowhere }"], ["{ role: satellite, of: p1 }\n  - name: dr1", "{ role: satellite, of: sat2 }\n  - name: dr1"]))).toEqual([
      'servers[0].realmService.of: expected nothing (the primary is affiliated with no server), found "sat1"',
      "servers[1].realmService.of: expected a regular server: the primary or a satellite (a backup never backs up a backup), found nothing",
      'servers[3].realmService.of: expected a server defined in servers, found "nowhere"',
      'servers[4].realmService.of: expected another server (the primary (a satellite serves the primary only, never a satellite or a backup)), found "sat2"',
    ]);
  });

  it("refuses an unknown role and lists it with every other error", () => {
    expect(errorsOf(familyWith(["{ role: satellite, of: p1 }\n  - name: dr1", "{ role: mirror, of: p1 }\n  - name: dr1"], ["heartbeatIntervalMs: 500", "heartbeatIntervalMs: 0"]))).toEqual([
      'servers[4].realmService.role: expected one of "primary", "satellite", "backup", "disaster-recovery", found "mirror"',
      "realmServices.heartbeatIntervalMs: expected a number of at least 1, found 0",
    ]);
  });

  it("refuses a heartbeat timeout that one late heartbeat would trip", () => {
    expect(errorsOf(familyWith(["heartbeatTimeoutMs: 1500", "heartbeatTimeoutMs: 800"]))).toEqual([
      "realmServices.heartbeatTimeoutMs: expected at least twice heartbeatIntervalMs (1000), so that one late heartbeat does not break a link, found 800",
    ]);
  });

  it("gives the line of the offending affiliation", () => {
    const text = familyWith(["{ role: backup, of: sat1 }", "{ role: backup, of: p1-backup }"]);
    const result = parseRealmDefinition(text, "test.yaml");
    const lineIndex = text.split("\n").findIndex((line) => line.includes("of: p1-backup"));
    expect(result.ok ? undefined : result.errors[0]?.line).toBe(lineIndex + 1);
  });
});
