import { limits } from "../../../src/kernel/limits.js";
import type { FamilyMember } from "../../../src/protocols/realm/family.js";
import { familyMembers } from "../../../src/protocols/realm/testdata/family.js";
import { checkSettled, RealmSafetyChecker, type Violation } from "./realm-checkers.js";
import { RealmWorld } from "./realm-world.js";

export interface RealmRunOptions {
  readonly seed: number;
  /** Virtual time with faults on. */
  readonly safetyMs: number;
  /** Print every trace line as it happens (replay). */
  readonly echo?: ((line: string) => void) | null;
}

export interface RealmRunResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly trace: readonly string[];
  readonly deploys: { readonly ok: number; readonly refused: number };
  readonly failoverChecks: number;
  /** Deploy tests started on the primary and checked for their answer. */
  readonly testChecks: number;
}

const heartbeatTimeoutMs = 3000;
const reconnectDelayMaxMs = 2000;
const tickIntervalMs = 50;

/**
 * One seeded run over the family of src/protocols/realm/testdata/family.ts: a safety phase of
 * crashes (reset or silent), restarts, cut pairs, heals and deploys (on the primary, and
 * refused ones elsewhere), checked on every effect and by a prompt-failover check; then a
 * liveness phase that heals everything and requires the family to settle and take one more
 * deploy everywhere.
 */
export function runRealmSeed(options: RealmRunOptions): RealmRunResult {
  const family: readonly FamilyMember[] = familyMembers;
  const primary = "p1";
  const probe = new RealmWorld({ seed: options.seed, family, delayMinMs: 0, delayMaxMs: 0, tickIntervalMs }, null);
  // Per seed: a fast or a slow network (up to 80 ms one way).
  const delayMaxMs = probe.random.int(1, 80);
  const world = new RealmWorld({ seed: options.seed, family, delayMinMs: 0, delayMaxMs, tickIntervalMs }, options.echo ?? null);
  const safety = new RealmSafetyChecker(primary);
  world.observe((server, effect, nowMs) => safety.observe(world, server, effect, nowMs));
  const violations = (): Violation[] => [...safety.violations];
  const random = world.random.fork();
  const names = family.map((member) => member.name);
  const deploys = { ok: 0, refused: 0 };
  let failoverChecks = 0;
  let testChecks = 0;
  let deployCount = 0;

  const deploy = (on: string): void => {
    if (world.server(on).node === null) return;
    const answer = world.deploy(on, `revision text ${options.seed}.${++deployCount}`);
    if (answer.ok) deploys.ok++;
    else deploys.refused++;
    world.note("world", `deploy on ${on}: ${answer.ok ? `revision ${answer.revision.number}` : answer.code}`);
  };

  world.runFor(300);
  deploy(primary);

  // Safety phase: one fault or operation every 100-1500 ms.
  const endMs = world.nowMs + options.safetyMs;
  while (world.nowMs < endMs && safety.violations.length === 0) {
    world.runFor(random.int(100, 1500));
    const roll = random.next();
    const alive = names.filter((name) => world.server(name).node !== null);
    const dead = names.filter((name) => world.server(name).node === null);
    if (roll < 0.2) deploy(primary);
    else if (roll < 0.25) testChecks += scheduleTestCheck(world, safety, primary, tickIntervalMs);
    else if (roll < 0.3) deploy(random.pick(names.filter((name) => name !== primary)));
    else if (roll < 0.5 && alive.length > 0) {
      const victim = random.pick(alive);
      world.crash(victim, random.chance(0.5) ? "reset" : "silent");
      failoverChecks += scheduleFailoverCheck(world, safety, victim, delayMaxMs);
    } else if (roll < 0.55 && alive.some((name) => name !== primary)) {
      // A lost disk, never the primary's: its store is the realm's history (a primary whose
      // store is behind refuses deploys until restored; revisions.ts, "out-of-sync").
      const victim = random.pick(alive.filter((name) => name !== primary));
      world.crash(victim, "reset");
      world.wipe(victim);
      failoverChecks += scheduleFailoverCheck(world, safety, victim, delayMaxMs);
    } else if (roll < 0.7 && dead.length > 0) world.restart(random.pick(dead));
    else if (roll < 0.85) {
      const [a, b] = randomLinkPair(world, random.next());
      world.cut(a, b);
    } else if (roll < 0.95) world.healAll();
  }
  if (safety.violations.length > 0) return result();

  // Liveness phase: heal, restart, wait for redials and catch-up, then one more deploy.
  world.healAll();
  for (const name of names) world.restart(name);
  world.runFor(heartbeatTimeoutMs + reconnectDelayMaxMs + 20 * delayMaxMs + 1000);
  const settled = checkSettled(world);
  if (settled.length > 0) return result(settled);
  const answer = world.deploy(primary, `final revision ${options.seed}`);
  if (!answer.ok) return result([{ checker: "final-deploy", atMs: world.nowMs, detail: `refused: ${answer.reason}` }]);
  world.runFor(20 * delayMaxMs + 500);
  return result(checkSettled(world));

  function result(extra: readonly Violation[] = []): RealmRunResult {
    return { seed: options.seed, violations: [...violations(), ...extra], trace: [...world.trace], deploys, failoverChecks, testChecks };
  }
}

/**
 * Seed 003: clients of a regular server that dies are served by its backup. If the backup is
 * up with a definition and stays so, it must accept clients within the heartbeat timeout (plus
 * a tick and the network's delay) for as long as the regular server stays down.
 */
function scheduleFailoverCheck(world: RealmWorld, safety: RealmSafetyChecker, regular: string, delayMaxMs: number): number {
  const backup = world.options.family.find((member) => member.role === "backup" && member.of === regular);
  if (backup === undefined) return 0;
  const regularOwner = world.server(regular).owner;
  const backupOwner = world.server(backup.name).owner;
  const crashedAtMs = world.nowMs;
  world.scheduler.schedule(heartbeatTimeoutMs + tickIntervalMs + 2 * delayMaxMs + 1, null, () => {
    const backupServer = world.server(backup.name);
    const stillDown = world.server(regular).owner === regularOwner;
    const backupSteady = backupServer.owner === backupOwner && backupServer.node !== null && backupServer.node.newest !== null;
    if (!stillDown || !backupSteady) return;
    const admission = backupServer.node?.admitClient("application");
    if (admission === undefined) return;
    if (!admission.admitted) {
      safety.fail("prompt-failover", world.nowMs, `${regular} down since ${crashedAtMs} ms, yet its backup ${backup.name} refuses clients: ${admission.reason}`);
    }
  });
  return 1;
}

/**
 * A deploy's test on the primary ends in one `test-answer` within testTimeoutMs (plus a tick)
 * whatever the faults, naming every downstream server once, with clients only when answered.
 */
function scheduleTestCheck(world: RealmWorld, safety: RealmSafetyChecker, primary: string, tickIntervalMs: number): number {
  const server = world.server(primary);
  const node = server.node;
  if (node === null) return 0;
  const owner = server.owner;
  const revision = node.newest ?? { number: 1, hash: "none", text: "" };
  const requestId = world.test(primary, revision);
  const downstream = world.options.family.filter((member) => member.of === primary).map((member) => member.name);
  const startedAtMs = world.nowMs;
  world.scheduler.schedule(limits.realmTestTimeoutMs + tickIntervalMs + 1, null, () => {
    // A primary that crashed meanwhile forgot the test (its driver's promise dies with it).
    if (!owner.alive || server.owner !== owner) return;
    const answer = server.testAnswers.get(requestId);
    if (answer === undefined) {
      safety.fail("test-answered", world.nowMs, `the deploy test ${requestId} started at ${startedAtMs} ms has no answer`);
      return;
    }
    const named = answer.map((entry) => entry.server).sort();
    if (named.join(",") !== [...downstream].sort().join(",")) safety.fail("test-answered", world.nowMs, `test ${requestId} names ${named.join(", ")}, not ${downstream.join(", ")}`);
    if (answer.some((entry) => entry.outcome !== "answered" && entry.clients.length > 0)) safety.fail("test-answered", world.nowMs, `test ${requestId}: clients from a server that did not answer`);
  });
  return 1;
}

/** A pair of servers that have a link (cutting others changes nothing). */
function randomLinkPair(world: RealmWorld, roll: number): [string, string] {
  const pairs: Array<[string, string]> = [];
  for (const member of world.options.family) {
    if (member.of !== undefined) pairs.push([member.name, member.of]);
  }
  const pair = pairs[Math.floor(roll * pairs.length)];
  return pair ?? ["p1", "p1-backup"];
}
