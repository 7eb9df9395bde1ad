import type { Prng } from "../../../src/kernel/prng.js";
import type { AckPoint, ClusterStoresConfig } from "../../../src/protocols/persistence/state-types.js";
import type { SnapshotPolicy } from "../../../src/runtime/application-driver.js";
import type { FaultTarget, FaultMember } from "../faults.js";
import type { WorkloadOptions } from "./persistence-workload.js";
import { defaultWorkloadOptions } from "./persistence-workload.js";
import { simulatedStoresWith } from "./persistence-messages.js";

/**
 * The world of a cluster that wedged on real processes (shared/repro/wedged-cluster): a
 * confirm-mode publisher builds a backlog of about a hundred thousand messages while a slow
 * standard durable falls behind, the leader is killed twice, one member is stopped (SIGSTOP)
 * for seconds, two deploys cost each server a stretch of CPU, and then every member is killed
 * at once while publishing. After the restart the cluster must serve again within a bound
 * (`serveAgainMs`), with every confirmed publish kept.
 *
 * Nothing else goes wrong here: the network is calm and disks keep what they synced, so a
 * failure of this world is about work blocking members, not about lost data.
 */
export const backlogWorkloadOptions: WorkloadOptions = {
  ...defaultWorkloadOptions,
  publishers: 4,
  itemsPerPublishMax: 256,
  unconfirmedMax: 2048,
  itemsPerMake: 96,
  makeIntervalMinMs: 5,
  makeIntervalMaxMs: 15,
  ackedPrefetch: 256,
  ackTogether: true,
  // About the demo's messages: an id, a key and some fields.
  messagePadBytes: 96,
};

/**
 * The simulated store, plus one at a memory ack point that nobody publishes to, as the demo
 * realm's `prices`: one such store is enough to make the cluster's leaders apply before commit.
 */
export function backlogStores(ackPoint: AckPoint): ClusterStoresConfig {
  const stores = simulatedStoresWith(ackPoint).stores;
  const prices = { name: "prices", limits: {}, full: "discard-old" as const, publisherMode: "no-confirm" as const, ackPoint: "quorum-memory" as const, durables: [], templates: [] };
  return { stores: [...stores, prices] };
}

/** Production's snapshot policy at the scale of this world's backlog (a few MiB of log). */
export const backlogSnapshotPolicy: SnapshotPolicy = { entriesInterval: 100_000, logBytesMin: 4 * 1024 * 1024 };

/** Virtual time for each part of a backlog run. */
export interface BacklogTiming {
  /** Publishing with the scripted faults, ending with every member killed. */
  readonly safetyMs: number;
  /** After the restart of every member: a publish must be confirmed within this. */
  readonly serveAgainMs: number;
}

export const backlogTiming: BacklogTiming = { safetyMs: 12_000, serveAgainMs: 10_000 };
export const backlogTimingQuick: BacklogTiming = { safetyMs: 8_000, serveAgainMs: 10_000 };

/** What the scripted faults need beyond what FaultInjector uses. */
export interface BacklogTarget extends FaultTarget {
  /** Charge `workMs` of CPU to an up member's process (a deploy parsing a definition). */
  charge(member: FaultMember, workMs: number): void;
}

/**
 * The scripted faults of the backlog world, their times and victims drawn from the seed:
 * two kills of the leader (each restarted soon), two deploys, one long stop, all inside the
 * safety phase; `killEveryone` ends it.
 */
export class BacklogFaults {
  injected = 0;

  constructor(private readonly sim: BacklogTarget, private readonly random: Prng, private readonly timing: BacklogTiming) {}

  start(): void {
    const random = this.random;
    const span = this.timing.safetyMs;
    this.at(random.int(span * 0.2, span * 0.3), () => this.killLeader());
    this.at(random.int(span * 0.4, span * 0.5), () => this.killLeader());
    this.at(random.int(span * 0.1, span * 0.9), () => this.deploy());
    this.at(random.int(span * 0.1, span * 0.9), () => this.deploy());
    this.at(random.int(span * 0.55, span * 0.6), () => this.stopOne(random.int(span * 0.15, span * 0.3)));
  }

  /** kill -9 of every member at once; each restarts on its own disk a moment later. */
  killEveryone(): void {
    const random = this.random;
    for (const member of this.sim.members) {
      if (member.state === "paused") this.sim.resume(member);
      if (member.state === "down") continue;
      const torn = random.chance(0.5);
      this.sim.crash(member, torn);
      this.note(member.id, `kill -9 with the others${torn ? " (torn writes)" : ""}`);
    }
    for (const member of this.sim.members) {
      // Down for at least 200 ms: longer than any answer sent before the kill takes to arrive.
      this.sim.scheduler.schedule(random.int(200, 1500), null, () => {
        if (member.state !== "down") return;
        this.sim.start(member);
        this.note(member.id, "restart");
      });
    }
    this.injected++;
  }

  private killLeader(): void {
    const leader = this.sim.members.find((member) => member.state === "up" && member.replica?.status().role === "leader");
    if (leader === undefined) return;
    this.injected++;
    this.sim.crash(leader, this.random.chance(0.5));
    this.note(leader.id, "kill -9 (the leader)");
    this.sim.scheduler.schedule(this.random.int(300, 1500), null, () => {
      if (leader.state !== "down") return;
      this.sim.start(leader);
      this.note(leader.id, "restart");
    });
  }

  /** A deploy: each up server parses and checks the new definition on its event loop. */
  private deploy(): void {
    this.injected++;
    this.note("sim", "deploy a revision");
    for (const member of this.sim.members) if (member.state === "up") this.sim.charge(member, this.random.int(40, 200));
  }

  /** SIGSTOP of one member (the leader, usually) for `durationMs`, then SIGCONT. */
  private stopOne(durationMs: number): void {
    const up = this.sim.members.filter((member) => member.state === "up");
    const leader = up.find((member) => member.replica?.status().role === "leader");
    const member = leader !== undefined && this.random.chance(0.7) ? leader : up.length > 0 ? this.random.pick(up) : undefined;
    if (member === undefined) return;
    this.injected++;
    this.sim.pause(member);
    this.note(member.id, `SIGSTOP for ${durationMs}ms`);
    const incarnation = member.incarnation;
    this.sim.scheduler.schedule(durationMs, null, () => {
      if (member.state !== "paused" || member.incarnation !== incarnation) return;
      this.sim.resume(member);
      this.note(member.id, "SIGCONT");
    });
  }

  private at(timeMs: number, action: () => void): void {
    this.sim.scheduler.schedule(timeMs, null, action);
  }

  private note(member: string, text: string): void {
    this.sim.trace.event(this.sim.scheduler.now(), member, text);
  }
}
