import { AssertionError } from "../../../src/kernel/assert.js";
import { Prng } from "../../../src/kernel/prng.js";
import type { Notification } from "../../../src/protocols/consensus/effects.js";
import { consensusOptions } from "../../../src/protocols/consensus/options.js";
import type { MemberDefinition } from "../../../src/protocols/consensus/types.js";
import { createPersistenceState } from "../../../src/protocols/persistence/persistence-state.js";
import type { AckPoint, ClusterStoresConfig, PersistenceView } from "../../../src/protocols/persistence/state-types.js";
import { applyBeforeCommit } from "../../../src/services/persistence/persistence-service.js";
import { Replica } from "../../../src/runtime/replica.js";
import { chargedApplication, chargedStorage } from "../cost-model.js";
import { SimDisk } from "../disk.js";
import { FaultInjector } from "../faults.js";
import { calmNetwork, Network } from "../network.js";
import { type EventOwner, Scheduler } from "../scheduler.js";
import { Trace } from "../trace.js";
import { checkFinal, checkHistory, type FinalMember, type PersistenceViolation } from "./persistence-checkers.js";
import { PersistenceHistory } from "./persistence-history.js";
import { ackWaitMsByDurable, messageIdOf, simulatedStoresWith } from "./persistence-messages.js";
import { PersistenceServer } from "./persistence-server.js";
import { defaultWorkloadOptions, PersistenceWorkload } from "./persistence-workload.js";
import { BacklogFaults, backlogSnapshotPolicy, backlogStores, backlogTiming, backlogTimingQuick, backlogWorkloadOptions, type BacklogTiming } from "./backlog-world.js";

export interface PersistenceSimulationOptions {
  readonly seed: number;
  readonly members: number;
  /** Shorter phases, for many seeds quickly. */
  readonly quick: boolean;
  /** Keep every trace line (replay mode), and optionally print each as it happens. */
  readonly fullTrace: boolean;
  readonly echo?: (line: string) => void;
  /** The store's ack point (default quorum-fsync); a memory one makes leaders apply early. */
  readonly ackPoint?: AckPoint;
  /**
   * `mixed` (default): random faults of every kind. `backlog`: a large backlog, leader kills,
   * a long stop, deploys, then every member killed at once (backlog-world.ts).
   */
  readonly world?: PersistenceWorld;
}

export type PersistenceWorld = "mixed" | "backlog";

export interface PersistenceSimulationResult {
  readonly seed: number;
  readonly violations: readonly PersistenceViolation[];
  readonly traceTail: readonly string[];
  readonly trace: readonly string[];
  readonly stats: { readonly virtualMs: number; readonly events: number; readonly history: Record<string, number>; readonly faults: number };
  /** The command that replays this run with its whole trace. */
  readonly replay: string;
}

/** One simulated member: its disk outlives its incarnations, each a Replica and a server. */
export interface PersistenceMember {
  readonly id: string;
  readonly disk: SimDisk;
  state: "up" | "down" | "paused";
  owner: EventOwner | null;
  replica: Replica | null;
  server: PersistenceServer | null;
  incarnation: number;
}

const traceTailLines = 80;

/**
 * One seeded run of the persistence state machine replicated by consensus: the real Replica,
 * WAL, PersistenceApplication, persistence state and DeliveryEngine on every member, over the
 * consensus simulator's scheduler, network, disks and faults; clients (persistence-workload.ts)
 * publish, subscribe, ack and write the map. A safety phase with faults, then healing: faults
 * stop, everyone runs, clients finish and ack everything, and the cluster must drain and
 * converge; then the checkers read the history and every member's final state.
 */
export class PersistenceSimulation {
  readonly scheduler = new Scheduler();
  readonly random: Prng;
  readonly network: Network;
  readonly trace: Trace;
  readonly history = new PersistenceHistory();
  readonly members: PersistenceMember[] = [];
  private readonly workload: PersistenceWorkload;
  private readonly definedMembers: MemberDefinition[] = [];
  private readonly faults: FaultInjector;
  /** The backlog world's scripted faults (then `faults` stays idle). */
  private readonly backlog: { readonly faults: BacklogFaults; readonly timing: BacklogTiming } | null;
  private readonly timing: { safetyMs: number; healingMs: number };
  private readonly violations: PersistenceViolation[] = [];
  private traceTail: string[] = [];
  private readonly stores: ClusterStoresConfig;

  constructor(readonly options: PersistenceSimulationOptions) {
    this.random = new Prng(options.seed);
    this.stores = options.world === "backlog" ? backlogStores(options.ackPoint ?? "quorum-fsync") : simulatedStoresWith(options.ackPoint ?? "quorum-fsync");
    this.trace = new Trace(traceTailLines, options.fullTrace, options.echo ?? null);
    this.network = new Network(this.scheduler, this.random.fork());
    this.network.observeSends((message) => this.trace.message(this.scheduler.now(), message.from, message));
    for (let i = 1; i <= options.members; i++) this.definedMembers.push({ id: `m${i}`, weight: 1 });
    const diskRandom = this.random.fork();
    for (const definition of this.definedMembers) {
      this.members.push({
        id: definition.id,
        disk: new SimDisk(definition.id, this.scheduler, diskRandom.fork(), { syncDelayMinMs: 0, syncDelayMaxMs: 8, segmentBytesMax: 16 * 1024 }),
        state: "down", owner: null, replica: null, server: null, incarnation: 0,
      });
    }
    const linkRandom = this.random.fork();
    // Client connections are FIFO (TCP): each direction keeps order, whatever the drawn delays.
    const lastToServerMs = new Map<string, number>();
    let lastToClientMs = 0;
    const backlog = options.world === "backlog";
    this.workload = new PersistenceWorkload(
      backlog ? backlogWorkloadOptions : defaultWorkloadOptions,
      this.definedMembers.map((member) => member.id),
      this.scheduler,
      this.random.fork(),
      this.history,
      {
        toServer: (id, action) => {
          const member = this.memberById(id);
          if (member === undefined || member.owner === null || member.server === null) return;
          const server = member.server;
          const nowMs = this.scheduler.now();
          const atMs = Math.max(nowMs + linkRandom.int(1, 10), lastToServerMs.get(id) ?? 0);
          lastToServerMs.set(id, atMs);
          this.scheduler.schedule(atMs - nowMs, member.owner, () => action(server));
        },
        toClient: (action) => {
          const nowMs = this.scheduler.now();
          lastToClientMs = Math.max(nowMs + linkRandom.int(1, 10), lastToClientMs);
          this.scheduler.schedule(lastToClientMs - nowMs, null, action);
        },
      },
      (text) => this.trace.event(this.scheduler.now(), "cli", text),
    );
    this.faults = new FaultInjector(this, this.random.fork());
    this.timing = options.quick ? { safetyMs: 4_000, healingMs: 12_000 } : { safetyMs: 12_000, healingMs: 20_000 };
    this.backlog = null;
    if (backlog) {
      const timing = options.quick ? backlogTimingQuick : backlogTiming;
      this.backlog = { faults: new BacklogFaults(this, this.random.fork(), timing), timing };
      this.timing = { safetyMs: timing.safetyMs, healingMs: 30_000 };
    }
  }

  run(): PersistenceSimulationResult {
    if (this.backlog === null) {
      this.network.faults = this.faults.drawNetworkFaults();
      this.faults.start();
    } else {
      this.backlog.faults.start();
    }
    this.workload.start();
    // The backlog world snapshots only as production does (the replica's own policy).
    if (this.backlog === null) this.scheduleSnapshots();
    this.scheduleObserver();
    this.scheduler.schedule(0, null, () => {
      for (const member of this.members) this.start(member);
    });
    this.runFor(this.timing.safetyMs);
    if (this.violations.length === 0 && this.backlog !== null) this.serveAgain(this.backlog.faults, this.backlog.timing.serveAgainMs);
    if (this.violations.length === 0) this.heal();
    if (this.violations.length === 0) this.finalCheck();
    if (this.traceTail.length === 0) this.traceTail = this.trace.tail();
    return {
      seed: this.options.seed,
      violations: this.violations,
      traceTail: this.traceTail,
      trace: this.trace.lines(),
      replay: replayCommand(this.options),
      stats: { virtualMs: this.scheduler.now(), events: this.scheduler.eventsRun, history: this.history.counts(), faults: this.faults.injected + (this.backlog?.faults.injected ?? 0) },
    };
  }

  // --- phases ------------------------------------------------------------------------------------

  private runFor(durationMs: number, done: () => boolean = () => false): void {
    try {
      this.scheduler.runUntil(this.scheduler.now() + durationMs, done);
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);
      this.fail(error instanceof AssertionError ? "assertion" : "exception", text);
    }
  }

  private fail(checker: string, detail: string): void {
    this.violations.push({ checker, timeMs: this.scheduler.now(), detail });
    if (this.traceTail.length === 0) this.traceTail = this.trace.tail();
  }

  /** Every member killed at once while publishing; after the restart a publish must confirm within `boundMs`. */
  private serveAgain(faults: BacklogFaults, boundMs: number): void {
    const killedMs = this.scheduler.now();
    this.scheduler.schedule(0, null, () => faults.killEveryone());
    // Answers sent before the kill reach clients within 10 ms; every member stays down for
    // longer (killEveryone), so a confirm after this came from a restarted member.
    const servedAfterMs = killedMs + 100;
    this.runFor(boundMs, () => this.history.lastPublishOkMs > servedAfterMs);
    if (this.violations.length > 0 || this.history.lastPublishOkMs > servedAfterMs) return;
    this.fail("serve-again", `no publish confirmed within ${boundMs}ms of killing every member at ${killedMs}ms: ${this.describeMembers()}`);
  }

  private describeMembers(): string {
    return this.members.map((member) => {
      const status = member.replica?.status();
      const view = member.server?.state;
      return status === undefined || view === undefined ? `${member.id} ${member.state}` :
        `${member.id} ${status.role} t${status.term} commit=${status.commitIndex} applied=${view.appliedIndex} log=${status.history.index} std=${view.durable("orders", "std")?.backlog} shared=${view.durable("orders", "shared")?.backlog}`;
    }).join("; ");
  }

  /** Charge CPU work to an up member's process (backlog-world.ts: a deploy). */
  charge(member: PersistenceMember, workMs: number): void {
    if (member.owner !== null && member.owner.alive) this.scheduler.charge(member.id, workMs);
  }

  private heal(): void {
    this.faults.stop();
    this.workload.finish();
    this.network.heal();
    this.network.faults = { ...calmNetwork };
    this.trace.event(this.scheduler.now(), "sim", "healing: network healed, everyone up, faults off, clients finish and ack everything");
    this.scheduler.schedule(0, null, () => {
      for (const member of this.members) {
        if (member.state === "paused") this.resume(member);
        if (member.state === "down") this.start(member);
      }
    });
    const startMs = this.scheduler.now();
    let converged = false;
    this.runFor(this.timing.healingMs, () => (converged = this.converged()));
    if (this.violations.length > 0 || converged) return;
    this.fail("liveness", `no convergence within ${this.timing.healingMs}ms of healing (from ${startMs}ms): ${this.describeMembers()}; clients: ${this.workload.describe()}`);
  }

  /** One leader with its engine, every client answered, both acked durables drained, every member at the leader's applied index. */
  private converged(): boolean {
    const leaders = this.members.filter((member) => member.server?.isLeading === true && member.replica?.status().role === "leader");
    const leader = leaders[0];
    if (leaders.length !== 1 || leader === undefined || !this.workload.idle()) return false;
    const view = (leader.server as PersistenceServer).state;
    if (view.durable("orders", "std")?.backlog !== 0 || view.durable("orders", "shared")?.backlog !== 0) return false;
    if ((leader.replica as Replica).status().commitIndex !== view.appliedIndex) return false;
    return this.members.every((member) => member.state === "up" && member.server?.state.appliedIndex === view.appliedIndex);
  }

  private finalCheck(): void {
    const endMs = this.scheduler.now();
    const finals: FinalMember[] = this.members.map((member) => {
      const view = (member.server as PersistenceServer).state;
      return { id: member.id, appliedIndex: view.appliedIndex, snapshot: view.snapshot(), lastValue: keyedIds(view, "lv"), map: keyedIds(view, "map") };
    });
    this.violations.push(...checkHistory(this.history.events, ackWaitMsByDurable), ...checkFinal(this.history.events, finals, endMs));
  }

  // --- members (what faults.ts calls) ------------------------------------------------------------

  memberById(id: string): PersistenceMember | undefined {
    return this.members.find((member) => member.id === id);
  }

  start(member: PersistenceMember): void {
    member.incarnation++;
    const owner: EventOwner = { member: member.id, alive: true };
    const server = new PersistenceServer(member.id, member.incarnation, createPersistenceState(this.stores), applyBeforeCommit(this.stores), owner, this.scheduler, this.history,
      (text) => this.trace.event(this.scheduler.now(), member.id, text));
    member.owner = owner;
    member.server = server;
    member.state = "up";
    const clock = this.scheduler.clockFor(owner);
    member.replica = new Replica({
      consensus: consensusOptions(
        { id: member.id, definedMembers: this.definedMembers, random: this.random.fork() },
        // Small batches and chunks exercise flow control and chunked installs on small states;
        // the backlog world runs production's, at production's scale.
        { ...(this.backlog === null ? { appendEntriesMax: 64, inflightAppendsMax: 4, snapshotChunkBytes: 512 } : {}), applyBeforeCommit: applyBeforeCommit(this.stores) },
      ),
      storage: chargedStorage(member.disk.openLog(), clock.charge),
      transport: this.network.connect(owner),
      clock,
      application: chargedApplication(server.application, clock.charge),
      // The backlog world snapshots as production does, at a scale its backlog reaches.
      ...(this.backlog === null ? {} : { snapshotPolicy: backlogSnapshotPolicy }),
      notify: (notification) => this.notified(member, server, notification),
      onFailure: (error) => {
        this.trace.event(this.scheduler.now(), member.id, `fail-stop: ${error.message}`);
        this.down(member);
      },
    });
    server.replica = member.replica;
  }

  crash(member: PersistenceMember, tornWrites: boolean): void {
    if (member.state === "paused") this.scheduler.resume(member.id);
    this.down(member);
    this.history.add({ kind: "crash", timeMs: this.scheduler.now(), member: member.id });
    member.disk.crash(tornWrites);
  }

  pause(member: PersistenceMember): void {
    member.state = "paused";
    this.scheduler.pause(member.id);
  }

  resume(member: PersistenceMember): void {
    member.state = "up";
    this.scheduler.resume(member.id);
  }

  private down(member: PersistenceMember): void {
    if (member.owner !== null) member.owner.alive = false;
    this.scheduler.forgetWork(member.id);
    member.replica?.stop();
    member.server?.down();
    member.replica = null;
    member.owner = null;
    member.state = "down";
    this.workload.connectionLost(member.id);
  }

  private notified(member: PersistenceMember, server: PersistenceServer, notification: Notification): void {
    if (notification.type === "role-changed") {
      this.trace.event(this.scheduler.now(), member.id, `becomes ${notification.role} in term ${notification.term} (leader ${notification.leaderId ?? "-"})`);
    }
    server.notified(notification);
  }

  /** Every so often an up member snapshots its state, so compaction and snapshot installs run. */
  private scheduleSnapshots(): void {
    this.scheduler.schedule(this.random.int(200, 1500), null, () => {
      const up = this.members.filter((member) => member.state === "up" && member.replica !== null);
      if (up.length > 0) {
        const member = this.random.pick(up);
        if (member.replica?.takeSnapshot() === true) this.trace.event(this.scheduler.now(), member.id, `snapshot at ${member.server?.state.appliedIndex ?? 0}`);
      }
      this.scheduleSnapshots();
    });
  }

  private scheduleObserver(): void {
    this.scheduler.schedule(100, null, () => {
      this.faults.observe();
      this.scheduleObserver();
    });
  }
}

/** Key to message id of one keyed durable. */
function keyedIds(view: PersistenceView, durable: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [key, stored] of view.entriesAfter("orders", durable, "", Number.MAX_SAFE_INTEGER)) ids.set(key, messageIdOf(stored.message));
  return ids;
}

function replayCommand(options: PersistenceSimulationOptions): string {
  const flags = [`--seed ${options.seed}`, `--members ${options.members}`];
  if (options.quick) flags.push("--quick");
  if (options.ackPoint !== undefined && options.ackPoint !== "quorum-fsync") flags.push(`--ack-point ${options.ackPoint}`);
  if (options.world !== undefined && options.world !== "mixed") flags.push(`--world ${options.world}`);
  return `npm run sim -- --persistence ${flags.join(" ")}`;
}

/** How a failing seed reads in a report: each violation, the trace before the first, the replay command. */
export function describePersistenceFailure(result: PersistenceSimulationResult, members: number): string {
  const lines = [`seed ${result.seed} (${members} members, persistence): ${result.violations.length} violation(s)`];
  for (const violation of result.violations) lines.push(`  [${violation.checker}] at ${violation.timeMs}ms: ${violation.detail}`);
  lines.push(`  last ${result.traceTail.length} trace lines:`);
  for (const line of result.traceTail) lines.push(`    ${line}`);
  lines.push(`  replay: ${result.replay}`);
  return lines.join("\n");
}
