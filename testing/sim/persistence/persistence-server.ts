import type { Notification } from "../../../src/protocols/consensus/effects.js";
import { encodeCommand } from "../../../src/protocols/persistence/command-codec.js";
import type { AttachResult, Delivery } from "../../../src/protocols/persistence/delivery/delivery-engine.js";
import type { Command, PersistenceState } from "../../../src/protocols/persistence/state-types.js";
import type { Replica } from "../../../src/runtime/replica.js";
import { DeliveryDriver } from "../../../src/services/persistence/delivery-driver.js";
import { PersistenceApplication } from "../../../src/services/persistence/persistence-application.js";
import { ProposalWaiters, type ProposeOutcome } from "../../../src/services/persistence/proposal-waiters.js";
import { VisibleView } from "../../../src/services/persistence/visible-view.js";
import { workCosts } from "../cost-model.js";
import type { EventOwner, Scheduler } from "../scheduler.js";
import { messageIdOf } from "./persistence-messages.js";
import type { PersistenceHistory } from "./persistence-history.js";

/** What a proposal came to (as the real service answers its sessions). */
export type ProposeReply = ProposeOutcome;

export type AttachReply = AttachResult | { readonly ok: false; readonly reason: "not-leader"; readonly detail: string; readonly leaderId: string | null };

/** The server's side of one subscriber's connection. */
export interface SubscriberPort {
  readonly subscriberId: string;
  deliver(deliveries: readonly Delivery[]): void;
  /** This server stopped leading: subscribe again at the new leader. */
  lost(reason: string): void;
}

/**
 * One incarnation of a simulated persistence service: the replica's application is the real
 * `PersistenceApplication` over the real state, and deliveries go through the real
 * `DeliveryDriver` (the service's code: the engine starts once the leader applied its term's
 * first entry, and each poll first confirms the lease), with the scheduler in place of
 * setImmediate/setTimeout. Its events belong to `owner`, so a pause holds them and a crash
 * drops them.
 */
export class PersistenceServer {
  readonly application: PersistenceApplication;
  replica: Replica | null = null;
  private readonly delivery: DeliveryDriver;
  private leading = false;
  /** The process is gone: nothing reaches subscribers from it any more. */
  private downed = false;
  private engineId = "";
  private leaderships = 0;
  private readonly proposals: ProposalWaiters;
  private readonly visible: VisibleView;
  private readonly subscribers = new Map<string, SubscriberPort>();
  leaderId: string | null = null;
  private term = 0;

  constructor(
    readonly member: string,
    readonly incarnation: number,
    state: PersistenceState,
    applyBeforeCommit: boolean,
    private readonly owner: EventOwner,
    private readonly scheduler: Scheduler,
    private readonly history: PersistenceHistory,
    private readonly note: (text: string) => void,
  ) {
    this.application = new PersistenceApplication(state);
    this.proposals = new ProposalWaiters(this.application, () => this.replica?.holdsLease() ?? false);
    const clock = scheduler.clockFor(owner);
    this.visible = new VisibleView(state, () => this.replica ?? { commitIndex: 0, quorumReceivedIndex: 0 }, applyBeforeCommit);
    this.delivery = new DeliveryDriver(
      this.visible,
      {
        now: () => clock.nowMs(),
        defer: (callback) => clock.defer(callback),
        setTimer: (delayMs, callback) => clock.setTimer(delayMs, callback),
        holdsLease: () => this.replica?.holdsLease() ?? false,
        propose: (command) => this.proposeFromEngine(command),
      },
      {
        engineStarted: (term) => {
          this.leaderships++;
          this.engineId = `${this.member}.${this.incarnation}.${this.leaderships}`;
          this.history.add({ kind: "engine-start", timeMs: this.scheduler.now(), engine: this.engineId, member: this.member, term });
          this.note(`engine ${this.engineId} starts (term ${term}, applied ${this.state.appliedIndex})`);
        },
        engineStopped: (reason) => {
          this.history.add({ kind: "engine-stop", timeMs: this.scheduler.now(), engine: this.engineId, reason });
          this.note(`engine ${this.engineId} stops: ${reason}`);
        },
        delivered: (nowMs, deliveries) => {
          if (this.owner.alive) this.scheduler.charge(this.member, deliveries.length * workCosts.deliveryMs);
          for (const delivery of deliveries) {
            this.history.add({
              kind: "delivery",
              timeMs: nowMs,
              engine: this.engineId,
              durable: delivery.durable,
              subscriberId: delivery.subscriberId,
              storeSequence: delivery.storeSequence,
              deliveryCount: delivery.deliveryCount,
              messageId: messageIdOf(delivery.message.message),
              ...(delivery.key === undefined ? {} : { key: delivery.key }),
            });
          }
        },
      },
    );
    this.application.listener = {
      applied: (index, command) => {
        this.visible.noteApplied(index);
        this.delivery.applied(command);
      },
      batchApplied: () => this.delivery.appliedBatch(),
      restored: () => {
        this.visible.reset();
        if (!this.leading || this.replica?.status().role !== "leader") return;
        this.delivery.stoppedLeading("the state was replaced by a snapshot");
        this.delivery.becameLeader(this.term, this.state.appliedIndex);
      },
    };
  }

  get state(): PersistenceState {
    return this.application.state;
  }

  get isLeading(): boolean {
    return this.leading;
  }

  // --- requests from clients (each already delivered to this incarnation) -----------------------

  propose(command: Command, reply: (reply: ProposeReply) => void): void {
    if (!this.leading || this.replica === null) {
      reply({ ok: false, reason: "not-leader", leaderId: this.leaderId });
      return;
    }
    // As the service does: publishes answer at the store's ack point, everything else at commit.
    const ackPoint = command.type === "publish" ? (this.state.store(command.store)?.config.ackPoint ?? "quorum-fsync") : "quorum-fsync";
    this.replica.propose([{ proposalId: this.proposals.add(reply, ackPoint), data: encodeCommand(command) }]);
  }

  attach(port: SubscriberPort, durable: string, prefetch: number): AttachReply {
    if (!this.leading) return { ok: false, reason: "not-leader", detail: `${this.member} does not lead`, leaderId: this.leaderId };
    const result = this.delivery.attach(
      { subscriberId: port.subscriberId, deliver: (deliveries) => port.deliver(deliveries), lost: (reason) => {
          if (this.downed) return;
          this.subscribers.delete(port.subscriberId);
          port.lost(reason);
        },
      },
      "orders",
      durable,
      prefetch,
    );
    if (!result.ok) return result.reason === "not-leader" ? { ...result, leaderId: this.leaderId } : result;
    this.subscribers.set(port.subscriberId, port);
    this.history.add({ kind: "attach", timeMs: this.scheduler.now(), engine: this.engineId, subscriberId: port.subscriberId, durable });
    return result;
  }

  detach(subscriberId: string): void {
    if (!this.subscribers.delete(subscriberId)) return;
    this.history.add({ kind: "detach", timeMs: this.scheduler.now(), engine: this.engineId, subscriberId });
    this.delivery.detach(subscriberId);
  }

  credit(subscriberId: string, count: number): void {
    this.delivery.credit(subscriberId, count);
  }

  /** The process is gone (crash): nothing of it runs any more; subscribers learn by their connection. */
  down(): void {
    // Nothing of this incarnation runs any more: stop without telling subscribers (they learn
    // from their connection), and record it as the engine's end.
    this.downed = true;
    this.subscribers.clear();
    if (this.delivery.active) this.delivery.stoppedLeading("the member went down");
    this.leading = false;
    this.proposals.clear();
  }

  /** Clients attached here (to tell them the connection dropped). */
  subscriberIds(): string[] {
    return [...this.subscribers.keys()];
  }

  // --- from the replica ----------------------------------------------------------------------------

  notified(notification: Notification): void {
    if (notification.type === "committed" || notification.type === "quorum-received") this.delivery.appliedBatch();
    if (this.proposals.notified(notification, this.leaderId)) return;
    switch (notification.type) {
      case "role-changed":
        this.term = notification.term;
        this.leaderId = notification.leaderId;
        if (notification.role === "leader" && !this.leading) {
          this.leading = true;
          this.application.recordResults = true;
          this.delivery.becameLeader(this.term, this.replica?.status().history.index ?? 0);
        } else if (notification.role !== "leader" && this.leading) {
          this.leading = false;
          this.application.recordResults = false;
          this.application.dropResults();
          this.delivery.stoppedLeading(`${this.member} no longer leads`);
        }
        return;
      default:
        return;
    }
  }

  /** The engine's own proposals (dead-letters): confirmed like acks, for the history. */
  private proposeFromEngine(command: Command): void {
    const engineId = this.engineId;
    this.propose(command, (reply) => {
      if (!reply.ok || (command.type !== "dead-letter" && command.type !== "ack")) return;
      this.history.add({
        kind: "ack-ok", timeMs: this.scheduler.now(), engine: engineId, durable: command.durable, sequences: command.sequences, index: reply.index, deadLetter: command.type === "dead-letter",
      });
    });
  }

  /** An ack a subscriber sent: proposed, and recorded as confirmed once committed and applied here. */
  proposeAck(durable: string, sequences: readonly number[], reply: (reply: ProposeReply) => void): void {
    const engineId = this.engineId;
    this.propose({ type: "ack", atMs: this.scheduler.now(), store: "orders", durable, sequences }, (answer) => {
      if (answer.ok) this.history.add({ kind: "ack-ok", timeMs: this.scheduler.now(), engine: engineId, durable, sequences, index: answer.index, deadLetter: false });
      reply(answer);
    });
  }
}
