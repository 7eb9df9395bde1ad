import type { Prng } from "../../src/kernel/prng.js";
import type { Network, NetworkFaults } from "./network.js";
import type { Scheduler } from "./scheduler.js";
import type { SimMember } from "./simulation.js";
import type { Trace } from "./trace.js";

/** What faults touch of a member: the consensus simulation's, or another over the same pieces. */
export type FaultMember = Pick<SimMember, "id" | "disk" | "state" | "replica" | "incarnation">;

/** What faults need of a simulation (`Simulation`, or testing/sim/persistence's). */
export interface FaultTarget {
  readonly scheduler: Scheduler;
  readonly network: Network;
  readonly trace: Trace;
  readonly members: readonly FaultMember[];
  start(member: FaultMember): void;
  crash(member: FaultMember, tornWrites: boolean): void;
  pause(member: FaultMember): void;
  resume(member: FaultMember): void;
}

type FaultKind = "partition" | "one-way" | "heal" | "network" | "crash" | "pause" | "wipe" | "flip" | "lose-tail" | "transfer";

/** The most whole records a lost synced tail takes (`lose-tail`). */
const lostTailRecordsMax = 8;

/**
 * Which faults a run favours. `transfers`: frequent leadership transfers with clients slow to
 * learn of new leaders, the mix that found a first formation left unable to elect.
 */
export type FaultMix = "default" | "transfers";

/** Relative weights: healing often enough that the safety phase still commits things. */
const defaultWeights: ReadonlyArray<readonly [FaultKind, number]> = [
  ["partition", 2],
  ["one-way", 1],
  ["heal", 3],
  ["network", 1],
  ["crash", 2],
  ["pause", 1.5],
  ["wipe", 0.5],
  ["flip", 0.7],
  ["lose-tail", 0.4],
  ["transfer", 0.5],
];

const weightsByMix: Record<FaultMix, ReadonlyArray<readonly [FaultKind, number]>> = {
  default: defaultWeights,
  transfers: defaultWeights.map(([kind, weight]) => [kind, kind === "transfer" ? 6 : weight] as const),
};

/**
 * Draws faults from the seed during the safety phase. Disk damage (a wipe or a flipped bit) hits
 * one member at a time, and the next may strike only once that member has restarted and caught
 * up: our guarantee holds while a majority keeps its disk, so we never take more than that.
 */
export class FaultInjector {
  injected = 0;
  private running = false;
  /** The member whose disk is damaged and not yet healed, and whether it restarted since. */
  private damaged: { member: FaultMember; restartedAtCommit: number | null } | null = null;

  private readonly weights: ReadonlyArray<readonly [FaultKind, number]>;

  constructor(private readonly sim: FaultTarget, private readonly random: Prng, mix: FaultMix = "default") {
    this.weights = weightsByMix[mix];
  }

  drawNetworkFaults(): NetworkFaults {
    const random = this.random;
    return {
      delayMinMs: random.int(0, 3),
      delayMaxMs: random.int(5, 40),
      lossProbability: random.chance(0.3) ? 0 : random.next() * 0.15,
      duplicateProbability: random.chance(0.5) ? 0 : random.next() * 0.1,
      straggleProbability: random.chance(0.5) ? 0 : random.next() * 0.05,
      straggleMaxMs: random.int(50, 800),
    };
  }

  start(): void {
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
  }

  /** Called periodically: clears the damage mark once the damaged member has healed. */
  observe(): void {
    const damaged = this.damaged;
    if (damaged === null || damaged.restartedAtCommit === null) return;
    const replica = damaged.member.replica;
    if (damaged.member.state !== "up" || replica === null) return;
    const status = replica.status();
    if (!status.empty && status.commitIndex >= damaged.restartedAtCommit) {
      this.note(damaged.member.id, "disk healed (caught up)");
      this.damaged = null;
    }
  }

  private scheduleNext(): void {
    this.sim.scheduler.schedule(this.random.int(100, 800), null, () => {
      if (!this.running) return;
      this.inject(this.draw());
      this.scheduleNext();
    });
  }

  private draw(): FaultKind {
    let total = 0;
    for (const [, weight] of this.weights) total += weight;
    let pick = this.random.next() * total;
    for (const [kind, weight] of this.weights) {
      pick -= weight;
      if (pick < 0) return kind;
    }
    return "heal";
  }

  private inject(kind: FaultKind): void {
    const sim = this.sim;
    const random = this.random;
    const members = sim.members;
    const ids = members.map((member) => member.id);
    this.injected++;
    switch (kind) {
      case "partition": {
        const shuffled = shuffle(random, ids);
        const cut = random.int(1, ids.length - 1);
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        sim.network.heal();
        sim.network.partition(groups);
        this.note("sim", `partition ${groups.map((group) => group.join(",")).join(" | ")}`);
        return;
      }
      case "one-way": {
        const count = random.int(1, 3);
        for (let i = 0; i < count; i++) {
          const from = random.pick(ids);
          const to = random.pick(ids.filter((id) => id !== from));
          sim.network.cutLink(from, to);
        }
        this.note("sim", `one-way cuts now: ${sim.network.describeCuts()}`);
        return;
      }
      case "heal":
        sim.network.heal();
        this.note("sim", "network healed");
        return;
      case "network":
        sim.network.faults = this.drawNetworkFaults();
        this.note("sim", `network now ${JSON.stringify(sim.network.faults)}`);
        return;
      case "crash": {
        const member = this.pickRunning();
        if (member === null) return;
        const torn = random.chance(0.5);
        sim.crash(member, torn);
        this.note(member.id, `crash${torn ? " (torn writes)" : ""}`);
        this.restartLater(member);
        return;
      }
      case "pause": {
        // Half the pauses freeze the leader: the case leader leases exist for. Most last past
        // the lease (leaderLeaseMs, 240 ms) and an election timeout, so a new leader can be
        // acknowledging writes by the time the old one resumes and meets a probe read.
        const leader = random.chance(0.5) ? this.leader() : undefined;
        const member = leader ?? this.pickRunning();
        if (member === null || member.state !== "up") return;
        sim.pause(member);
        this.note(member.id, leader === undefined ? "pause" : "pause (the leader)");
        const incarnation = member.incarnation;
        sim.scheduler.schedule(random.int(100, 2500), null, () => {
          if (member.state !== "paused" || member.incarnation !== incarnation) return;
          sim.resume(member);
          this.note(member.id, "resume");
        });
        return;
      }
      case "wipe": {
        if (!this.mayDamageDisk()) return;
        const member = random.pick(members);
        if (member.state !== "down") sim.crash(member, false);
        member.disk.wipe();
        this.damaged = { member, restartedAtCommit: null };
        this.note(member.id, "crash and wipe the disk");
        this.restartLater(member);
        return;
      }
      case "flip": {
        if (!this.mayDamageDisk()) return;
        const member = random.pick(members);
        const flipped = member.disk.flipBit();
        if (flipped === null) return;
        this.damaged = { member, restartedAtCommit: null };
        this.note(member.id, `flip a bit in ${flipped.name} at ${flipped.offset}`);
        if (member.state !== "down" && random.chance(0.7)) {
          sim.crash(member, false);
          this.note(member.id, "crash (to recover over the flipped bit)");
          this.restartLater(member);
        }
        return;
      }
      case "lose-tail": {
        // Synced records lost (a lying fsync, a damaged disk): recovery sees only a torn tail,
        // as after a power loss, and must not trust the shortened log (chaos finding 2).
        if (!this.mayDamageDisk()) return;
        const member = random.pick(members);
        if (member.state !== "down") sim.crash(member, false);
        const lost = member.disk.loseSyncedTail(lostTailRecordsMax);
        this.note(member.id, lost === null
          ? "crash (no whole record to lose)"
          : `crash and lose the synced tail of ${lost.name}: ${lost.fromBytes} -> ${lost.toBytes} bytes (${lost.records} record(s))`);
        if (lost !== null) this.damaged = { member, restartedAtCommit: null };
        this.restartLater(member);
        return;
      }
      case "transfer": {
        const leader = this.leader();
        if (leader === undefined) return;
        this.note(leader.id, "transfer leadership");
        leader.replica?.transferLeadership(null);
        return;
      }
    }
  }

  /**
   * A disk may be damaged only when no other is, and no member is empty (a member that never
   * caught up since a formation or an earlier wipe has no trustworthy data either): otherwise a
   * majority could be left without its data, which is beyond what we promise to survive.
   */
  private mayDamageDisk(): boolean {
    if (this.damaged !== null) return false;
    for (const member of this.sim.members) {
      if (member.replica === null || member.replica.status().empty) return false;
    }
    return true;
  }

  /** An up member that says it leads (the first, if a deposed one still thinks so too). */
  private leader(): FaultMember | undefined {
    return this.sim.members.find((member) => member.state === "up" && member.replica?.status().role === "leader");
  }

  private pickRunning(): FaultMember | null {
    const running = this.sim.members.filter((member) => member.state !== "down");
    return running.length === 0 ? null : this.random.pick(running);
  }

  private restartLater(member: FaultMember): void {
    this.sim.scheduler.schedule(this.random.int(100, 3000), null, () => {
      if (member.state !== "down") return;
      this.sim.start(member);
      this.note(member.id, "restart");
      this.restarted(member);
    });
  }

  /** A restart over a damaged disk starts its healing: it must catch up to today's commits. */
  restarted(member: FaultMember): void {
    const damaged = this.damaged;
    if (damaged === null || damaged.member !== member) return;
    let commit = 0;
    for (const other of this.sim.members) commit = Math.max(commit, other.replica?.status().commitIndex ?? 0);
    damaged.restartedAtCommit = commit;
  }

  private note(member: string, text: string): void {
    this.sim.trace.event(this.sim.scheduler.now(), member, text);
  }
}

function shuffle<T>(random: Prng, items: readonly T[]): T[] {
  const result = items.slice();
  for (let i = result.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}
