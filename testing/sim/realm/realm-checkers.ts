import type { RealmEffect } from "../../../src/protocols/realm/effects.js";
import type { Revision } from "../../../src/protocols/realm/messages.js";
import type { RealmWorld, WorldServer } from "./realm-world.js";

export interface Violation {
  readonly checker: string;
  readonly atMs: number;
  readonly detail: string;
}

/**
 * Invariants watched on every effect of a run (safety). Each is what a user relies on:
 * one content per revision number, numbers never going back on a server, a regular server
 * never taking a revision its backup has not been offered, refusals that name the primary.
 */
export class RealmSafetyChecker {
  readonly violations: Violation[] = [];
  /** Revision number → hash, as the primary stored it (the one place revisions are made). */
  private readonly deployed = new Map<number, string>();

  constructor(private readonly primary: string) {}

  observe(world: RealmWorld, server: WorldServer, effect: RealmEffect, nowMs: number): void {
    if (effect.type === "store-revision") this.stored(world, server, effect.revision, nowMs);
    if (effect.type === "deploy-answer" && !effect.answer.ok && effect.answer.code === "not-primary" && !effect.answer.reason.endsWith(`the primary ${this.primary}`)) {
      this.fail("refusal-names-primary", nowMs, `${server.name} refused a deploy without naming the primary: ${effect.answer.reason}`);
    }
    if (effect.type === "deploy-answer" && effect.answer.ok && server.name !== this.primary) {
      this.fail("deploy-on-primary-only", nowMs, `${server.name} accepted a deploy`);
    }
  }

  private stored(world: RealmWorld, server: WorldServer, revision: Revision, nowMs: number): void {
    // Observers run before the world carries the effect out: `stored` ends with the previous one.
    const previous = server.stored.at(-1);
    if (previous !== undefined && revision.number <= previous.number) {
      this.fail("revision-monotonic", nowMs, `${server.name} stored revision ${revision.number} after ${previous.number}`);
    }
    if (server.name === this.primary) {
      if (this.deployed.has(revision.number)) this.fail("revision-agreement", nowMs, `the primary made revision ${revision.number} twice`);
      this.deployed.set(revision.number, revision.hash);
    } else {
      const hash = this.deployed.get(revision.number);
      if (hash !== revision.hash) {
        this.fail("revision-agreement", nowMs, `${server.name} stored revision ${revision.number} with hash ${revision.hash}; the primary made ${hash ?? "no such revision"}`);
      }
    }
    // Seed 003: a regular server disconnected from its backup cannot accept an update.
    const status = world.node(server.name).status();
    const backup = world.options.family.find((member) => member.role === "backup" && member.of === server.name);
    const backupLink = status.links.find((link) => link.peer === backup?.name);
    if (backup !== undefined && backupLink?.state !== "up") {
      this.fail("backup-link-before-revision", nowMs, `${server.name} took revision ${revision.number} while its link with its backup ${backup.name} was ${backupLink?.state ?? "missing"}`);
    }
  }

  fail(checker: string, atMs: number, detail: string): void {
    this.violations.push({ checker, atMs, detail });
  }
}

/**
 * After faults stop and everything heals (liveness): every link is up, every server holds the
 * primary's newest revision, backups send clients to their regular server, the others serve,
 * and the DR server serves only disaster-recovery services.
 */
export function checkSettled(world: RealmWorld): Violation[] {
  const violations: Violation[] = [];
  const fail = (checker: string, detail: string): void => void violations.push({ checker, atMs: world.nowMs, detail });
  const primary = world.options.family.find((member) => member.role === "primary");
  if (primary === undefined) return [{ checker: "settled", atMs: world.nowMs, detail: "no primary" }];
  const newest = world.node(primary.name).newest?.number ?? 0;
  for (const member of world.options.family) {
    const node = world.server(member.name).node;
    if (node === null) {
      fail("settled", `${member.name} is down`);
      continue;
    }
    const status = node.status();
    for (const link of status.links) {
      if (link.state !== "up") fail("links-up", `${member.name}'s link with ${link.peer} is ${link.state}`);
    }
    if ((status.revision?.number ?? 0) !== newest) fail("revision-converged", `${member.name} holds revision ${status.revision?.number ?? "none"}, the primary ${newest}`);
    const application = node.admitClient("application").admitted;
    const recovery = node.admitClient("disaster-recovery-service").admitted;
    const expected = member.role === "backup" ? [false, false] : member.role === "disaster-recovery" ? [false, true] : [true, true];
    if (application !== expected[0] || recovery !== expected[1]) {
      fail("client-admission", `${member.name} (${member.role}) admits applications: ${application}, DR services: ${recovery}; expected ${expected[0]}, ${expected[1]}`);
    }
  }
  return violations;
}
