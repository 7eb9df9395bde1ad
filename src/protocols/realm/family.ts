import { assert } from "../../kernel/assert.js";

/** Seed 003's four roles. A server without one runs no realm service and is not in the family. */
export type RealmRole = "primary" | "satellite" | "backup" | "disaster-recovery";

/**
 * One server of the family of affiliated realm servers, as the realm definition gives it
 * (`servers[].realmService`): its role and `of`, the server it is affiliated with (none for
 * the primary). The same shape as src/realm's `{ name, ...realmService }`.
 */
export interface FamilyMember {
  readonly name: string;
  readonly role: RealmRole;
  readonly of?: string | undefined;
}

/**
 * Who is affiliated with whom, and therefore who opens which connection and which way
 * revisions flow. The realm definition's checks (src/realm/role-checks.ts) refused every
 * impossible family before one reaches here, so a broken one is a programmer error.
 */
export class Family {
  readonly primary: string;
  private readonly members = new Map<string, FamilyMember>();
  private readonly backups = new Map<string, string>();

  constructor(members: readonly FamilyMember[]) {
    for (const member of members) {
      assert(!this.members.has(member.name), `family: ${member.name} twice`);
      this.members.set(member.name, member);
    }
    const primaries = members.filter((member) => member.role === "primary");
    assert(primaries.length === 1 && primaries[0] !== undefined, `family: ${primaries.length} primaries`);
    this.primary = primaries[0].name;
    for (const member of members) {
      if (member.role === "primary") continue;
      const of = member.of;
      assert(of !== undefined && this.members.has(of), `family: ${member.name} is a ${member.role} of an unknown server`);
      const regular = this.role(of);
      if (member.role === "backup") {
        assert(regular === "primary" || regular === "satellite", `family: ${member.name} backs up a ${regular}`);
        assert(!this.backups.has(of), `family: ${of} has two backups`);
        this.backups.set(of, member.name);
      } else {
        assert(regular === "primary", `family: ${member.name} is a ${member.role} of a ${regular}`);
      }
    }
    assert(members.filter((member) => member.role === "disaster-recovery").length <= 1, "family: two disaster-recovery servers");
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  role(name: string): RealmRole {
    const member = this.members.get(name);
    assert(member !== undefined, `family: no server ${name}`);
    return member.role;
  }

  /** The server whose clients a backup takes over (its regular server). */
  regularServerOf(backup: string): string {
    const member = this.members.get(backup);
    assert(member?.role === "backup" && member.of !== undefined, `family: ${backup} is not a backup`);
    return member.of;
  }

  backupOf(regular: string): string | undefined {
    return this.backups.get(regular);
  }

  disasterRecoveryServer(): string | undefined {
    for (const member of this.members.values()) if (member.role === "disaster-recovery") return member.name;
    return undefined;
  }

  /**
   * Seed 003's table, "initiating TCP connections": a satellite dials the primary and its own
   * backup; a regular server dials its backup; the primary dials the disaster-recovery server;
   * backups and the disaster-recovery server dial nobody.
   */
  dialTargets(name: string): string[] {
    const targets: string[] = [];
    const role = this.role(name);
    if (role === "satellite") targets.push(this.primary);
    if (role === "primary" || role === "satellite") {
      const backup = this.backupOf(name);
      if (backup !== undefined) targets.push(backup);
    }
    if (role === "primary") {
      const recovery = this.disasterRecoveryServer();
      if (recovery !== undefined) targets.push(recovery);
    }
    return targets;
  }

  /** The other half of the table: who may open a connection to this server. */
  dialers(name: string): string[] {
    return [...this.members.keys()].filter((other) => this.dialTargets(other).includes(name));
  }

  /**
   * The server this one takes its definition from: the primary for a satellite and the
   * disaster-recovery server, the regular server for a backup; none for the primary.
   */
  upstreamOf(name: string): string | undefined {
    switch (this.role(name)) {
      case "primary":
        return undefined;
      case "backup":
        return this.regularServerOf(name);
      case "satellite":
      case "disaster-recovery":
        return this.primary;
    }
  }
}

/** "the primary", "a satellite", "a backup", "the disaster-recovery server": for messages. */
export function describeRole(role: RealmRole): string {
  switch (role) {
    case "primary":
      return "the primary";
    case "disaster-recovery":
      return "the disaster-recovery server";
    default:
      return `a ${role}`;
  }
}
