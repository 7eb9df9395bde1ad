/**
 * The family of affiliated realm servers (seed 003's role summary): which realm roles may
 * stand together and who may be affiliated with whom. Every impossible family is refused
 * before any server acts on it, because a wrong family shows up at run time only as servers
 * that never connect, or two that each think they serve the same clients.
 */
import { describeFound, type PathSegment, type ReportRealmError } from "./realm-error.js";
import type { RealmDefinition, RealmRole, RealmServices, Server } from "./schema.js";

export function checkRealmRoles(realm: RealmDefinition, report: ReportRealmError): void {
  checkHeartbeats(realm.realmServices, report);
  // A realm without roles is read from its file by every server (issue 3): nothing to check.
  if (realm.servers.every((server) => server.realmService === undefined)) return;
  // Collected, then reported in file order: the count and affiliation rules find them apart.
  const found: Array<{ path: readonly PathSegment[]; expected: string; found: string }> = [];
  const collect: ReportRealmError = (path, expected, what) => found.push({ path, expected, found: what });
  checkCounts(realm.servers, collect);
  checkAffiliations(realm.servers, collect);
  checkRealmPorts(realm.servers, collect);
  found.sort((a, b) => serverIndexOf(a.path) - serverIndexOf(b.path));
  for (const error of found) report(error.path, error.expected, error.found);
}

/** `["servers", 4, …]` → 4; the whole list (`["servers"]`) comes first. */
function serverIndexOf(path: readonly PathSegment[]): number {
  const index = path[1];
  return typeof index === "number" ? index : -1;
}

function checkHeartbeats(settings: RealmServices, report: ReportRealmError): void {
  const minimumMs = 2 * settings.heartbeatIntervalMs;
  if (settings.heartbeatTimeoutMs < minimumMs) {
    report(
      ["realmServices", "heartbeatTimeoutMs"],
      `at least twice heartbeatIntervalMs (${minimumMs}), so that one late heartbeat does not break a link`,
      String(settings.heartbeatTimeoutMs),
    );
  }
}

/** A server with a realm role links with its family on its own port, distinct from its others. */
function checkRealmPorts(servers: readonly Server[], report: ReportRealmError): void {
  servers.forEach((server, index) => {
    if (server.realmService === undefined) return;
    const { realm, client, peer, admin } = server.ports;
    if (realm === undefined) {
      report(["servers", index, "ports", "realm"], "a port for links between affiliated realm servers (a server with a realm role needs one)", "nothing");
    } else if (realm === client || realm === peer || realm === admin) {
      report(["servers", index, "ports", "realm"], "a port different from the server's client, peer and admin ports", String(realm));
    }
  });
}

/** Exactly one primary; at most one disaster-recovery server. */
function checkCounts(servers: readonly Server[], report: ReportRealmError): void {
  const primaries = indicesWithRole(servers, "primary");
  const firstPrimary = primaries[0];
  if (firstPrimary === undefined) {
    report(["servers"], "exactly one server with realmService.role primary (other servers have realm roles, and only a primary can give them a definition)", "none");
  }
  for (const index of primaries.slice(1)) {
    report(roleAt(index), `one primary only (servers[${firstPrimary}] is the primary)`, describeFound("primary"));
  }
  const recoveryServers = indicesWithRole(servers, "disaster-recovery");
  for (const index of recoveryServers.slice(1)) {
    report(roleAt(index), `at most one disaster-recovery server (servers[${recoveryServers[0]}] is one)`, describeFound("disaster-recovery"));
  }
}

/** Who each role may be affiliated with (`of`), and at most one backup per regular server. */
function checkAffiliations(servers: readonly Server[], report: ReportRealmError): void {
  const indexByName = new Map<string, number>();
  servers.forEach((server, index) => {
    if (!indexByName.has(server.name)) indexByName.set(server.name, index);
  });
  const backupOf = new Map<string, number>();
  servers.forEach((server, index) => {
    const service = server.realmService;
    if (service === undefined) return;
    const path: PathSegment[] = ["servers", index, "realmService", "of"];
    if (service.role === "primary") {
      if (service.of !== undefined) report(path, "nothing (the primary is affiliated with no server)", describeFound(service.of));
      return;
    }
    const rule = affiliationRules[service.role];
    if (service.of === undefined) {
      report(path, rule.expected, "nothing");
      return;
    }
    if (service.of === server.name) {
      report(path, `another server (${rule.expected})`, describeFound(service.of));
      return;
    }
    const targetIndex = indexByName.get(service.of);
    if (targetIndex === undefined) {
      report(path, "a server defined in servers", describeFound(service.of));
      return;
    }
    const targetRole = servers[targetIndex]?.realmService?.role;
    if (targetRole === undefined || !rule.allowed.includes(targetRole)) {
      report(path, rule.expected, `${describeFound(service.of)} (${roleDescription(targetRole)})`);
      return;
    }
    if (service.role === "backup") {
      const other = backupOf.get(service.of);
      if (other === undefined) backupOf.set(service.of, index);
      else report(path, `a regular server with no other backup (servers[${other}] already backs up ${service.of})`, describeFound(service.of));
    }
  });
}

const affiliationRules: Record<Exclude<RealmRole, "primary">, { allowed: readonly RealmRole[]; expected: string }> = {
  satellite: { allowed: ["primary"], expected: "the primary (a satellite serves the primary only, never a satellite or a backup)" },
  backup: { allowed: ["primary", "satellite"], expected: "a regular server: the primary or a satellite (a backup never backs up a backup)" },
  "disaster-recovery": { allowed: ["primary"], expected: "the primary (the disaster-recovery server backs up only the primary)" },
};

function roleDescription(role: RealmRole | undefined): string {
  switch (role) {
    case undefined:
      return "a server without a realm role";
    case "primary":
      return "the primary";
    case "satellite":
      return "a satellite";
    case "backup":
      return "a backup";
    case "disaster-recovery":
      return "the disaster-recovery server";
  }
}

function indicesWithRole(servers: readonly Server[], role: RealmRole): number[] {
  return servers.flatMap((server, index) => (server.realmService?.role === role ? [index] : []));
}

function roleAt(index: number): PathSegment[] {
  return ["servers", index, "realmService", "role"];
}
