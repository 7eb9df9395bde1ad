import type { Logger } from "../../adapters/node/logger.js";
import { NodeClock } from "../../adapters/node/clock.js";
import { NodeFileSystem } from "../../adapters/node/file-system.js";
import { TcpTransport } from "../../adapters/node/tcp-transport.js";
import { WalStorage } from "../../adapters/wal/wal-storage.js";
import { limits } from "../../kernel/limits.js";
import { Prng } from "../../kernel/prng.js";
import type { Notification } from "../../protocols/consensus/effects.js";
import { consensusOptions, type ConsensusOptions } from "../../protocols/consensus/options.js";
import type { MemberStatus } from "../../protocols/consensus/types.js";
import { encodeCommand } from "../../protocols/persistence/command-codec.js";
import { createPersistenceState } from "../../protocols/persistence/persistence-state.js";
import type { AckPoint, ClusterStoresConfig, Command, PersistenceView } from "../../protocols/persistence/state-types.js";
import { defaultSnapshotPolicy, Replica } from "../../runtime/replica.js";
import { PersistenceApplication } from "./persistence-application.js";
import { DeliveryDriver, type DriverAttachResult, type SubscriberHandle } from "./delivery-driver.js";
import { ProposalWaiters, type ProposeOutcome } from "./proposal-waiters.js";
import { VisibleView } from "./visible-view.js";

export type { ProposeFailure, ProposeOutcome } from "./proposal-waiters.js";

export type { SubscriberHandle } from "./delivery-driver.js";

export interface PersistenceServiceOptions {
  readonly cluster: string;
  /** This service's name (its consensus member id). */
  readonly name: string;
  readonly members: readonly { readonly name: string; readonly weight: number; readonly host: string; readonly peerPort: number }[];
  readonly secret: string;
  readonly stores: ClusterStoresConfig;
  readonly dataDirectory: string;
  readonly log: Logger;
  readonly timing?: Partial<Pick<ConsensusOptions, "heartbeatIntervalMs" | "electionTimeoutMinMs" | "electionTimeoutMaxMs" | "leaderLeaseMs">>;
  /** Called when the disk failed and the service stopped itself (fail-stop). */
  readonly onFailure?: (error: Error) => void;
}

/**
 * One persistence service: a consensus member whose replicated application is the persistence
 * state machine, plus, while it leads, the delivery engine that hands messages to subscribers.
 * Sessions (client connections) call it; it never talks to a socket of theirs directly.
 */
export class PersistenceService {
  readonly cluster: string;
  readonly name: string;
  private readonly replica: Replica;
  private readonly application: PersistenceApplication;
  private readonly fileSystem: NodeFileSystem;
  private readonly log: Logger;
  private readonly proposals: ProposalWaiters;
  private queuedIds: number[] = [];
  private queuedData: Uint8Array[] = [];
  private proposeScheduled = false;
  /** Leading (proposals accepted); deliveries start later, see DeliveryDriver. */
  private leading = false;
  private readonly delivery: DeliveryDriver;
  /** What the delivery engine sees: only messages at their store's ack point (visible-view.ts). */
  private readonly visible: VisibleView;
  private readonly ackPoints: ReadonlyMap<string, AckPoint>;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly leaderListeners: ((leaderId: string | null) => void)[] = [];
  private leaderId: string | null = null;
  private stopped = false;
  private lastNowMs = 0;

  private constructor(options: PersistenceServiceOptions, replicaOf: (service: PersistenceService) => Replica, fileSystem: NodeFileSystem, application: PersistenceApplication) {
    this.cluster = options.cluster;
    this.name = options.name;
    this.log = options.log;
    this.fileSystem = fileSystem;
    this.application = application;
    this.proposals = new ProposalWaiters(application, () => this.replica.holdsLease());
    this.replica = replicaOf(this);
    this.ackPoints = new Map(options.stores.stores.map((store) => [store.name, store.ackPoint]));
    this.visible = new VisibleView(application.state, () => this.replica, applyBeforeCommit(options.stores));
    this.delivery = new DeliveryDriver(this.visible, {
      now: () => this.nowMs(),
      defer: (callback) => setImmediate(callback),
      setTimer: (delayMs, callback) => {
        const timer = setTimeout(callback, delayMs);
        return { cancel: () => clearTimeout(timer) };
      },
      holdsLease: () => this.replica.holdsLease(),
      propose: (command) => void this.propose(command),
    });
  }

  static async start(given: PersistenceServiceOptions): Promise<PersistenceService> {
    // Its WAL's and peer links' lines too say which service and cluster they are about.
    const options = { ...given, log: given.log.child({ cluster: given.cluster, service: given.name }) };
    const self = options.members.find((member) => member.name === options.name);
    if (!self) throw new Error(`service ${options.name} is not a member of cluster ${options.cluster}`);
    const fileSystem = new NodeFileSystem(options.dataDirectory);
    const storage = new WalStorage(fileSystem, { logger: { warn: (message) => options.log.warn(message) } });
    const peers = Object.fromEntries(options.members.filter((m) => m.name !== options.name).map((m) => [m.name, { host: m.host, port: m.peerPort }]));
    const transport = new TcpTransport({ selfId: options.name, listen: { host: self.host, port: self.peerPort }, peers, secret: options.secret, logger: options.log });
    await transport.start();
    const application = new PersistenceApplication(createPersistenceState(options.stores));
    const service = new PersistenceService(
      options,
      (owner) =>
        new Replica({
          consensus: consensusOptions(
            { id: options.name, definedMembers: options.members.map((m) => ({ id: m.name, weight: m.weight })), random: new Prng(Date.now() ^ process.pid) },
            { ...options.timing, applyBeforeCommit: applyBeforeCommit(options.stores) },
          ),
          storage,
          transport,
          clock: new NodeClock(),
          application,
          snapshotPolicy: defaultSnapshotPolicy,
          notify: (notification) => owner.notified(notification),
          onFailure: (error) => {
            options.log.error(`${options.name}: disk failure, service stopped: ${error.message}`);
            owner.stopLeading("the service stopped after a disk failure");
            options.onFailure?.(error);
          },
        }),
      fileSystem,
      application,
    );
    application.listener = {
      applied: (index, command) => {
        service.visible.noteApplied(index);
        service.delivery.applied(command);
      },
      batchApplied: () => service.appliedBatch(),
      restored: () => service.restored(),
    };
    if (service.replica.emptyReason) options.log.warn(`${options.name}: starting empty (${service.replica.emptyReason}); it will not vote until it has caught up`);
    return service;
  }

  // --- reads -----------------------------------------------------------------------------------

  get view(): PersistenceView {
    return this.application.state;
  }

  /** Leading with deliveries running: persistence requests are served here. */
  get isLeader(): boolean {
    return this.leading;
  }

  get currentLeaderId(): string | null {
    return this.leaderId;
  }

  status(): MemberStatus {
    return this.replica.status();
  }

  /** Where the state stands against the log: applied in slices, so it may lag after a restart. */
  applyStatus(): ReturnType<Replica["applyStatus"]> {
    return this.replica.applyStatus();
  }

  /** Leader only: per durable, subscribers and messages delivered but not yet acked. */
  deliveryStats(): ReturnType<DeliveryDriver["stats"]> {
    return this.delivery.stats();
  }

  get emptyReason(): string | null {
    return this.replica.emptyReason;
  }

  onLeaderChange(listener: (leaderId: string | null) => void): void {
    this.leaderListeners.push(listener);
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Propose a command; resolves once it is committed and applied here (with its result), or
   * with why not. Commands from one event-loop turn go to consensus as one batch.
   */
  propose(command: Command): Promise<ProposeOutcome> {
    if (this.stopped || !this.leading) return Promise.resolve({ ok: false, reason: "not-leader", leaderId: this.leaderId });
    const data = encodeCommand(command);
    if (data.length > limits.proposalBytesMax) return Promise.resolve({ ok: false, reason: "too-large", leaderId: this.leaderId });
    return new Promise((resolve) => {
      // Publishes answer at their store's ack point; everything else (acks included) once a
      // quorum fsynced it, so an acknowledged message is never delivered again.
      const ackPoint = command.type === "publish" ? (this.ackPoints.get(command.store) ?? "quorum-fsync") : "quorum-fsync";
      this.queuedIds.push(this.proposals.add(resolve, ackPoint));
      this.queuedData.push(data);
      if (!this.proposeScheduled) {
        this.proposeScheduled = true;
        setImmediate(() => this.proposeQueued());
      }
    });
  }

  /** Log time for a new command: the leader's wall clock (the state keeps it monotonic). */
  nowMs(): number {
    // The delivery engine requires time that never goes back; the wall clock may (NTP steps).
    this.lastNowMs = Math.max(this.lastNowMs, Date.now());
    return this.lastNowMs;
  }

  // --- subscribers (leader only) ----------------------------------------------------------------

  attach(handle: SubscriberHandle, store: string, durable: string, prefetch: number): DriverAttachResult {
    return this.delivery.attach(handle, store, durable, prefetch);
  }

  detach(subscriberId: string): void {
    this.delivery.detach(subscriberId);
  }

  credit(subscriberId: string, count: number): void {
    this.delivery.credit(subscriberId, count);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopLeading("the service is stopping");
    this.replica.stop();
    this.fileSystem.close();
  }

  /** Hand leadership to another service and wait (bounded) until it has it. */
  async transferLeadership(): Promise<void> {
    if (this.replica.status().role !== "leader") return;
    this.replica.transferLeadership(null);
    const deadline = Date.now() + limits.electionTimeoutMaxMs;
    while (Date.now() < deadline && this.replica.status().role === "leader") await new Promise((resolve) => setTimeout(resolve, 10));
  }

  // --- from the replica ---------------------------------------------------------------------------

  private proposeQueued(): void {
    this.proposeScheduled = false;
    const ids = this.queuedIds;
    const data = this.queuedData;
    this.queuedIds = [];
    this.queuedData = [];
    if (this.stopped) return;
    this.replica.propose(ids.map((proposalId, at) => ({ proposalId, data: data[at] as Uint8Array })));
  }

  private notified(notification: Notification): void {
    if (notification.type === "committed" || notification.type === "quorum-received") this.delivery.appliedBatch();
    if (this.proposals.notified(notification, this.leaderId)) return;
    if (notification.type === "role-changed") this.roleChanged(notification.role, notification.leaderId, notification.term);
  }

  private roleChanged(role: string, leaderId: string | null, term: number): void {
    this.log.info(`${this.name}: ${role} in term ${term}${leaderId ? ` (leader ${leaderId})` : ""}`, { role, term, leader: leaderId });
    if (role === "leader" && !this.leading) {
      this.leading = true;
      this.application.recordResults = true;
      // The term's first entry (its no-op) is the last one in the log when leadership begins.
      this.delivery.becameLeader(term, this.replica.status().history.index);
      this.scheduleTick();
    } else if (role !== "leader") {
      this.stopLeading(`service ${this.name} is no longer the leader of ${this.cluster}`);
    }
    if (leaderId !== this.leaderId) {
      this.leaderId = leaderId;
      for (const listener of this.leaderListeners) listener(leaderId);
    }
  }

  /**
   * Age limits act on log time, which moves only with commands: while a store with an age
   * limit sees no traffic, the leader writes a tick now and then so old messages still go.
   */
  private scheduleTick(): void {
    if (this.tickTimer !== null || !this.application.state.stores().some((store) => store.config.limits.ageMs !== undefined)) return;
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      if (!this.leading || this.stopped) return;
      if (this.nowMs() - this.application.state.logTimeMs >= limits.logTimeTickIntervalMs) void this.propose({ type: "tick", atMs: this.nowMs() });
      this.scheduleTick();
    }, limits.logTimeTickIntervalMs);
  }

  private stopLeading(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.application.recordResults = false;
    this.application.dropResults();
    this.delivery.stoppedLeading(reason);
  }

  private appliedBatch(): void {
    this.delivery.appliedBatch();
  }

  private restored(): void {
    this.visible.reset();
    // The state jumped: start deliveries over from it (the engine's cursors are stale). A
    // rollback of early applies comes as leadership ends: nothing to restart then.
    if (!this.leading || this.replica.status().role !== "leader") return;
    this.delivery.stoppedLeading("the service's state was replaced by a snapshot");
    this.delivery.becameLeader(this.replica.status().term, this.application.state.appliedIndex);
  }
}

/** A store acknowledging before a quorum fsync needs the leader to apply as it appends. */
export function applyBeforeCommit(stores: ClusterStoresConfig): boolean {
  return stores.stores.some((store) => store.ackPoint !== "quorum-fsync");
}
