import { AssertionError } from "../../src/kernel/assert.js";
import { Prng } from "../../src/kernel/prng.js";
import type { Notification } from "../../src/protocols/consensus/effects.js";
import type { Message } from "../../src/protocols/consensus/messages.js";
import { consensusOptions } from "../../src/protocols/consensus/options.js";
import type { MemberDefinition, MemberStatus } from "../../src/protocols/consensus/types.js";
import { Replica } from "../../src/runtime/replica.js";
import { chargedApplication, chargedStorage } from "./cost-model.js";
import { SimApplication } from "./application.js";
import { Checkers, type Violation } from "./checkers.js";
import { SimDisk } from "./disk.js";
import { History } from "./history.js";
import { calmNetwork, Network, type NetworkFaults } from "./network.js";
import { MemberLog, ObservedStorage } from "./observed-storage.js";
import { type EventOwner, Scheduler } from "./scheduler.js";
import { Trace } from "./trace.js";
import { Workload } from "./workload.js";
import { FaultInjector, type FaultMix } from "./faults.js";

export interface SimulationOptions {
  readonly seed: number;
  readonly members: number;
  /** Shorter phases, for many seeds quickly. */
  readonly quick: boolean;
  /** Keep every trace line (replay mode), and optionally print each as it happens. */
  readonly fullTrace: boolean;
  readonly echo?: (line: string) => void;
  /**
   * For demonstrating the read checkers only, never for a real run: turn every read the member
   * refused with `lease-expired` into `read-ready` at its commit index, as if the lease check
   * always passed (the simulator's stand-in for breaking `leaseValid()` without touching src/).
   */
  readonly unsafeReadsIgnoreLease?: boolean;
  /** Which faults to favour (faults.ts); default: the everyday mix. */
  readonly mix?: FaultMix;
}

export interface SimulationResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  /** The trace lines before the first violation (or the end). */
  readonly traceTail: readonly string[];
  /** Every trace line, in replay mode. */
  readonly trace: readonly string[];
  readonly stats: {
    readonly virtualMs: number;
    readonly events: number;
    readonly messages: number;
    readonly operations: Record<string, number>;
    readonly reads: Record<string, number>;
    readonly faults: number;
  };
}

type MemberState = "up" | "down" | "paused";

/** One simulated member: its disk outlives its incarnations (process runs). */
export interface SimMember {
  readonly id: string;
  readonly disk: SimDisk;
  readonly log: MemberLog;
  state: MemberState;
  owner: EventOwner | null;
  replica: Replica | null;
  application: SimApplication | null;
  incarnation: number;
}

const traceTailLines = 60;

/**
 * One seeded run: members running the real Replica, ConsensusNode and storage code over the
 * simulated network and disks; a safety phase with faults, then a liveness phase with faults off.
 * Everything random comes from `seed`, so a run replays exactly.
 */
export class Simulation {
  readonly scheduler = new Scheduler();
  readonly random: Prng;
  readonly network: Network;
  readonly trace: Trace;
  readonly history = new History();
  readonly checkers: Checkers;
  readonly members: SimMember[] = [];
  readonly workload: Workload;
  private readonly definedMembers: MemberDefinition[];
  private readonly faults: FaultInjector;
  private readonly timing: { safetyMs: number; livenessMs: number };
  private stoppedBy: Violation | null = null;
  private traceTail: string[] = [];

  constructor(readonly options: SimulationOptions) {
    this.random = new Prng(options.seed);
    this.trace = new Trace(traceTailLines, options.fullTrace, options.echo ?? null);
    this.network = new Network(this.scheduler, this.random.fork());
    this.checkers = new Checkers(this.history, (member) => this.memberById(member)?.log ?? null);
    this.history.onAcknowledged((operation) => this.checkers.acknowledged(operation));
    this.history.onRead((read) => this.checkers.readInvoked(read), (read) => this.checkers.readAnswered(read));
    this.network.observeSends((message) => this.observeSend(message));
    this.definedMembers = [];
    for (let i = 1; i <= options.members; i++) this.definedMembers.push({ id: `m${i}`, weight: 1 });
    const diskRandom = this.random.fork();
    for (const definition of this.definedMembers) {
      this.members.push({
        id: definition.id,
        disk: new SimDisk(definition.id, this.scheduler, diskRandom.fork(), { syncDelayMinMs: 0, syncDelayMaxMs: 8, segmentBytesMax: 16 * 1024 }),
        log: new MemberLog(),
        state: "down",
        owner: null,
        replica: null,
        application: null,
        incarnation: 0,
      });
    }
    this.workload = new Workload(
      { clients: 3, clientTimeoutMs: 1500, thinkMaxMs: 40, readFraction: 0.2, hearNewLeaderProbability: options.mix === "transfers" ? 0.3 : 0.75 },
      this.definedMembers.map((member) => member.id),
      this.scheduler,
      this.random.fork(),
      this.history,
      (member) => {
        const found = this.memberById(member);
        return found !== undefined && found.state === "up" ? found.replica : null;
      },
    );
    this.workload.onDuplicateAnswer = (description) => this.checkers.fail("one-answer-per-proposal", description);
    this.faults = new FaultInjector(this, this.random.fork(), options.mix ?? "default");
    this.timing = options.quick ? { safetyMs: 6_000, livenessMs: 10_000 } : { safetyMs: 15_000, livenessMs: 15_000 };
  }

  run(): SimulationResult {
    this.network.faults = this.faults.drawNetworkFaults();
    this.workload.start();
    this.faults.start();
    this.scheduleSnapshots();
    this.scheduleObserver();

    // Start everyone as the first event, so anything production code throws is caught.
    this.scheduler.schedule(0, null, () => {
      for (const member of this.members) this.start(member);
    });
    this.runFor(this.timing.safetyMs);
    if (this.stoppedBy === null) this.liveness();
    if (this.stoppedBy === null) this.finalCheck();
    const violations = this.checkers.violations;
    if (this.traceTail.length === 0) this.traceTail = this.trace.tail();
    return {
      seed: this.options.seed,
      violations,
      traceTail: this.traceTail,
      trace: this.trace.lines(),
      stats: {
        virtualMs: this.scheduler.now(),
        events: this.scheduler.eventsRun,
        messages: this.network.messagesSent,
        operations: this.history.counts(),
        reads: this.history.readCounts(),
        faults: this.faults.injected,
      },
    };
  }

  // --- phases ---------------------------------------------------------------------------------

  private runFor(durationMs: number, done: () => boolean = () => false): void {
    const untilMs = this.scheduler.now() + durationMs;
    try {
      this.scheduler.runUntil(untilMs, () => this.checkStop() || done());
    } catch (error) {
      // Production code threw (an assertion, a bug): that is a finding, like a violation.
      const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);
      this.checkers.fail(error instanceof AssertionError ? "assertion" : "exception", text);
      this.checkStop();
    }
  }

  private checkStop(): boolean {
    if (this.stoppedBy !== null) return true;
    const first = this.checkers.violations[0];
    if (first === undefined) return false;
    this.stoppedBy = first;
    this.traceTail = this.trace.tail();
    return true;
  }

  /**
   * Heal everything and stop faults: a leader must emerge, new commands must commit, and every
   * member must apply every acknowledged command, all within a bounded virtual time.
   */
  private liveness(): void {
    this.faults.stop();
    this.network.heal();
    this.network.faults = { ...calmNetwork };
    this.trace.event(this.scheduler.now(), "sim", "liveness phase: network healed, everyone up, faults off");
    // As an event, so a restart that throws is caught and reported like any other.
    this.scheduler.schedule(0, null, () => {
      for (const member of this.members) {
        if (member.state === "paused") this.resume(member);
        if (member.state === "down") this.start(member);
      }
    });
    const okAtStart = this.history.counts().ok;
    const startMs = this.scheduler.now();
    let converged = false;
    this.runFor(this.timing.livenessMs, () => (converged = this.converged(okAtStart)));
    if (this.stoppedBy !== null || converged) return;
    const statuses = this.members.map((member) => describeStatus(member.replica?.status() ?? null, member.id));
    this.checkers.setTime(this.scheduler.now());
    this.checkers.fail("liveness",
      `no convergence within ${this.timing.livenessMs}ms of healing (from ${startMs}ms): ` +
      `${this.history.counts().ok - okAtStart} new acknowledgments; ${statuses.join("; ")}`);
    this.checkStop();
  }

  private converged(okAtStart: number): boolean {
    if (this.history.counts().ok < okAtStart + 3) return false;
    const leaders = this.members.filter((member) => member.replica?.status().role === "leader");
    if (leaders.length !== 1) return false;
    let maxAcknowledged = 0;
    for (const operation of this.history.acknowledged()) maxAcknowledged = Math.max(maxAcknowledged, operation.index as number);
    return this.members.every((member) => (member.application?.appliedIndex ?? 0) >= maxAcknowledged);
  }

  private finalCheck(): void {
    this.workload.stop();
    this.checkers.setTime(this.scheduler.now());
    const applied = new Map<string, number>();
    for (const member of this.members) applied.set(member.id, member.application?.appliedIndex ?? 0);
    this.checkers.finalCheck(applied);
    this.checkStop();
  }

  // --- members --------------------------------------------------------------------------------

  memberById(id: string): SimMember | undefined {
    return this.members.find((member) => member.id === id);
  }

  /** Start a new incarnation of `member` over its disk. */
  start(member: SimMember): void {
    member.incarnation++;
    const owner: EventOwner = { member: member.id, alive: true };
    const application = new SimApplication(member.id, {
      applied: (id, entry, payload, hashAfter) => this.checkers.appliedEntry(id, entry, payload, hashAfter),
      restored: (id, snapshot, hash) => this.checkers.restoredSnapshot(id, snapshot, hash),
    });
    const storage = new ObservedStorage(member.id, member.disk.openLog(), member.log, {
      written: (id, batch) => this.checkers.logEntries(id, batch.entries),
      recovered: (id, recovered) => {
        this.checkers.recovered(id, recovered.hardState.empty);
        this.trace.event(this.scheduler.now(), id,
          `recovered term=${recovered.hardState.term} votedFor=${recovered.hardState.votedFor ?? "-"} ` +
          `snapshot=${recovered.snapshot?.index ?? 0} entries=${recovered.entries.length}` +
          (recovered.hardState.empty ? ` EMPTY (${recovered.emptyReason ?? "?"})` : ""));
      },
    });
    member.owner = owner;
    member.application = application;
    member.state = "up";
    const clock = this.scheduler.clockFor(owner);
    member.replica = new Replica({
      consensus: consensusOptions(
        { id: member.id, definedMembers: this.definedMembers, random: this.random.fork() },
        // Snapshots here are 8 bytes: chunks of 3 make every transfer take three, in order.
        { appendEntriesMax: 64, inflightAppendsMax: 4, snapshotChunkBytes: 3 },
      ),
      storage: chargedStorage(storage, clock.charge),
      transport: this.network.connect(owner),
      clock,
      application: chargedApplication(application, clock.charge), // work takes virtual time (cost-model.ts)
      notify: (notification) => this.notified(member, notification),
      onFailure: (error) => {
        this.trace.event(this.scheduler.now(), member.id, `fail-stop: ${error.message}`);
        this.down(member);
      },
    });
  }

  /** The process dies (its disk stays): no more events of this incarnation. */
  crash(member: SimMember, tornWrites: boolean): void {
    if (member.state === "paused") this.scheduler.resume(member.id);
    this.down(member);
    member.disk.crash(tornWrites);
  }

  private down(member: SimMember): void {
    if (member.owner !== null) member.owner.alive = false;
    this.scheduler.forgetWork(member.id);
    member.replica?.stop();
    member.replica = null;
    member.owner = null;
    member.state = "down";
    this.workload.memberDown(member.id);
  }

  pause(member: SimMember): void {
    member.state = "paused";
    this.scheduler.pause(member.id);
  }

  /**
   * The member runs again; what it missed is queued for it at this instant, after a probe read
   * that reaches it first (a request that waited while it was frozen).
   */
  resume(member: SimMember): void {
    member.state = "up";
    this.scheduler.resume(member.id);
    this.workload.probeRead(member.id);
  }

  // --- observation ------------------------------------------------------------------------------

  private observeSend(message: Message): void {
    const nowMs = this.scheduler.now();
    this.checkers.setTime(nowMs);
    this.trace.message(nowMs, message.from, message);
    if (message.type === "vote-response" || message.type === "pre-vote-response") {
      // Has an empty member caught up since? Ask it (its status is what it acts on).
      if (this.checkers.isEmpty(message.from)) {
        const status = this.memberById(message.from)?.replica?.status();
        if (status !== undefined && !status.empty) this.checkers.caughtUp(message.from);
      }
    }
    this.checkers.sent(message);
  }

  private notified(member: SimMember, delivered: Notification): void {
    const nowMs = this.scheduler.now();
    const notification = this.unsafeLeaseBypass(member, delivered);
    this.checkers.setTime(nowMs);
    switch (notification.type) {
      case "role-changed":
        this.trace.event(nowMs, member.id, `becomes ${notification.role} in term ${notification.term} (leader ${notification.leaderId ?? "-"})`);
        if (notification.role === "leader") {
          const status = member.replica?.status();
          // An empty leader with history won unanimously (a cut WAL tail); without, a formation.
          const withHistory = status !== undefined && status.history.index > 0;
          this.checkers.leader(member.id, notification.term, status?.empty ?? false, withHistory ? status.voters : null);
        }
        break;
      case "committed":
        this.trace.event(nowMs, member.id, `committed proposal ${notification.proposalId} at ${notification.index}/t${notification.term}`);
        break;
      case "proposal-rejected":
      case "proposal-unknown":
        this.trace.event(nowMs, member.id, `${notification.type} proposal ${notification.proposalId}`);
        break;
      case "read-ready":
        this.trace.event(nowMs, member.id, `read r${notification.readId} ready at ${notification.index}`);
        break;
      case "read-rejected":
        this.trace.event(nowMs, member.id, `read r${notification.readId} rejected: ${notification.reason}`);
        break;
      default:
        this.trace.event(nowMs, member.id, notification.type);
    }
    this.workload.notified(member.id, notification);
  }

  /** See `SimulationOptions.unsafeReadsIgnoreLease`. */
  private unsafeLeaseBypass(member: SimMember, notification: Notification): Notification {
    if (this.options.unsafeReadsIgnoreLease !== true) return notification;
    if (notification.type !== "read-rejected" || notification.reason !== "lease-expired") return notification;
    return { type: "read-ready", readId: notification.readId, index: member.replica?.status().commitIndex ?? 0 };
  }

  /** Every so often an up member snapshots its application, so compaction and installs run. */
  private scheduleSnapshots(): void {
    this.scheduler.schedule(this.random.int(200, 1500), null, () => {
      const up = this.members.filter((member) => member.state === "up" && member.replica !== null);
      if (up.length > 0) {
        const member = this.random.pick(up);
        if (member.replica?.takeSnapshot() === true) {
          this.trace.event(this.scheduler.now(), member.id, `snapshot at ${member.application?.appliedIndex ?? 0}`);
        }
      }
      this.scheduleSnapshots();
    });
  }

  /** Periodic bookkeeping: empty members that caught up, and the fault injector's disk healing. */
  private scheduleObserver(): void {
    this.scheduler.schedule(100, null, () => {
      for (const member of this.members) {
        if (member.state !== "up" || member.replica === null) continue;
        if (this.checkers.isEmpty(member.id) && !member.replica.status().empty) this.checkers.caughtUp(member.id);
      }
      this.faults.observe();
      this.scheduleObserver();
    });
  }
}

function describeStatus(status: MemberStatus | null, id: string): string {
  if (status === null) return `${id} down`;
  const followers = status.followers === undefined ? "" :
    ` followers=[${status.followers.map((follower) =>
      `${follower.id} ${follower.mode} match=${follower.matchIndex} next=${follower.nextIndex}${follower.empty ? " empty" : ""}${follower.active ? "" : " inactive"}`).join(", ")}]`;
  return `${id} ${status.role} t${status.term} leader=${status.leaderId ?? "-"} commit=${status.commitIndex} ` +
    `applied=${status.appliedIndex} last=${status.history.index}${status.empty ? " EMPTY" : ""}${followers}`;
}

export type { NetworkFaults };
