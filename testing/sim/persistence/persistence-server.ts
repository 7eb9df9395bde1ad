import type { Notification } from "../../../src/protocols/consensus/effects.js";
import { encodeCommand } from "../../../src/protocols/persistence/command-codec.js";
import { DeliveryEngine, type AttachResult, type Delivery } from "../../../src/protocols/persistence/delivery/delivery-engine.js";
import type { Command, CommandResult, PersistenceState } from "../../../src/protocols/persistence/state-types.js";
import type { TimerHandle } from "../../../src/runtime/ports.js";
import type { Replica } from "../../../src/runtime/replica.js";
import { PersistenceApplication } from "../../../src/services/persistence/persistence-application.js";
import type { EventOwner, Scheduler } from "../scheduler.js";
import { messageIdOf } from "./persistence-messages.js";
import type { PersistenceHistory } from "./persistence-history.js";

/** Why a proposal gave no result (as the real service answers its sessions). */
export type ProposeReply =
  | { readonly ok: true; readonly index: number; readonly result: CommandResult }
  | { readonly ok: false; readonly reason: "not-leader" | "overloaded" | "unknown"; readonly leaderId: string | null };

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
 * `PersistenceApplication` over the real state; while it leads, a `DeliveryEngine` driven as
 * src/services/persistence/persistence-service.ts drives it (new engine on becoming leader,
 * dropped with its subscribers on losing it; after applies: `acked` for ack and dead-letter
 * commands, then `poll`; a timer at `nextDeadlineMs()`), with the scheduler in place of
 * setImmediate/setTimeout. Its events belong to `owner`, so a pause holds them and a crash
 * drops them.
 */
export class PersistenceServer {
  readonly application: PersistenceApplication;
  replica: Replica | null = null;
  private engine: DeliveryEngine | null = null;
  private engineId = "";
  private leaderships = 0;
  private readonly waiting = new Map<number, (reply: ProposeReply) => void>();
  private nextProposalId = 1;
  private readonly subscribers = new Map<string, SubscriberPort>();
  private pollScheduled = false;
  private pollTimer: TimerHandle | null = null;
  leaderId: string | null = null;
  private term = 0;

  constructor(
    readonly member: string,
    readonly incarnation: number,
    state: PersistenceState,
    private readonly owner: EventOwner,
    private readonly scheduler: Scheduler,
    private readonly history: PersistenceHistory,
    private readonly note: (text: string) => void,
    /**
     * Not what the service does (see README.md, findings): start the engine only once this
     * leader has applied through the first entry of its term, so its view holds every ack
     * committed before it.
     */
    private readonly engineAfterCommitInTerm = false,
  ) {
    this.application = new PersistenceApplication(state);
    this.application.listener = {
      applied: (_index, command) => this.applied(command),
      restored: () => this.stopLeading("the state was replaced by a snapshot"),
    };
  }

  get state(): PersistenceState {
    return this.application.state;
  }

  get isLeading(): boolean {
    return this.engine !== null;
  }

  // --- requests from clients (each already delivered to this incarnation) -----------------------

  propose(command: Command, reply: (reply: ProposeReply) => void): void {
    if (this.engine === null || this.replica === null) {
      reply({ ok: false, reason: "not-leader", leaderId: this.leaderId });
      return;
    }
    const proposalId = this.nextProposalId++;
    this.waiting.set(proposalId, reply);
    this.replica.propose([{ proposalId, data: encodeCommand(command) }]);
  }

  attach(port: SubscriberPort, durable: string, prefetch: number): AttachReply {
    if (this.engine === null) return { ok: false, reason: "not-leader", detail: `${this.member} does not lead`, leaderId: this.leaderId };
    const result = this.engine.attach(this.scheduler.now(), { subscriberId: port.subscriberId, store: "orders", durable, prefetch });
    if (result.ok) {
      this.subscribers.set(port.subscriberId, port);
      this.history.add({ kind: "attach", timeMs: this.scheduler.now(), engine: this.engineId, subscriberId: port.subscriberId, durable });
      this.schedulePoll();
    }
    return result;
  }

  detach(subscriberId: string): void {
    if (!this.subscribers.delete(subscriberId)) return;
    this.history.add({ kind: "detach", timeMs: this.scheduler.now(), engine: this.engineId, subscriberId });
    this.engine?.detach(this.scheduler.now(), subscriberId);
    this.schedulePoll();
  }

  credit(subscriberId: string, count: number): void {
    if (!this.subscribers.has(subscriberId)) return;
    this.engine?.credit(subscriberId, count);
    this.schedulePoll();
  }

  /** The process is gone (crash): nothing of it runs any more; subscribers learn by their connection. */
  down(): void {
    if (this.engine !== null) this.history.add({ kind: "engine-stop", timeMs: this.scheduler.now(), engine: this.engineId, reason: "the member went down" });
    this.engine = null;
    this.subscribers.clear();
    this.waiting.clear();
  }

  /** Clients attached here (to tell them the connection dropped). */
  subscriberIds(): string[] {
    return [...this.subscribers.keys()];
  }

  // --- from the replica ----------------------------------------------------------------------------

  notified(notification: Notification): void {
    switch (notification.type) {
      case "committed": {
        const reply = this.waiting.get(notification.proposalId);
        const result = this.application.takeResult(notification.index);
        if (reply === undefined) return;
        this.waiting.delete(notification.proposalId);
        if (result === undefined) reply({ ok: false, reason: "unknown", leaderId: this.leaderId });
        else reply({ ok: true, index: notification.index, result });
        return;
      }
      case "proposal-rejected": {
        const reply = this.waiting.get(notification.proposalId);
        this.waiting.delete(notification.proposalId);
        reply?.({ ok: false, reason: notification.reason === "overloaded" ? "overloaded" : "not-leader", leaderId: notification.leaderId });
        return;
      }
      case "proposal-unknown": {
        const reply = this.waiting.get(notification.proposalId);
        this.waiting.delete(notification.proposalId);
        reply?.({ ok: false, reason: "unknown", leaderId: notification.leaderId });
        return;
      }
      case "role-changed":
        this.term = notification.term;
        this.leaderId = notification.leaderId;
        if (notification.role === "leader" && this.engine === null) {
          if (this.engineAfterCommitInTerm) this.startWhenCaughtUp(this.term, this.replica?.status().history.index ?? 0);
          else this.startLeading();
        } else if (notification.role !== "leader") this.stopLeading(`${this.member} no longer leads`);
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

  /** Checks each heartbeat until the term's first entry (index `firstIndex`) is applied here. */
  private startWhenCaughtUp(term: number, firstIndex: number): void {
    const status = this.replica?.status();
    if (status === undefined || status.role !== "leader" || status.term !== term || this.engine !== null) return;
    if (this.state.appliedIndex >= firstIndex) {
      this.startLeading();
      return;
    }
    this.scheduler.schedule(10, this.owner, () => this.startWhenCaughtUp(term, firstIndex));
  }

  private startLeading(): void {
    this.leaderships++;
    this.engineId = `${this.member}.${this.incarnation}.${this.leaderships}`;
    this.application.recordResults = true;
    this.engine = new DeliveryEngine(this.application.state);
    this.history.add({ kind: "engine-start", timeMs: this.scheduler.now(), engine: this.engineId, member: this.member, term: this.term });
    this.note(`engine ${this.engineId} starts (term ${this.term}, applied ${this.state.appliedIndex})`);
  }

  private stopLeading(reason: string): void {
    if (this.engine === null) return;
    this.history.add({ kind: "engine-stop", timeMs: this.scheduler.now(), engine: this.engineId, reason });
    this.note(`engine ${this.engineId} stops: ${reason}`);
    this.engine = null;
    this.application.recordResults = false;
    this.application.dropResults();
    this.pollTimer?.cancel();
    this.pollTimer = null;
    const ports = [...this.subscribers.values()];
    this.subscribers.clear();
    for (const port of ports) port.lost(reason);
  }

  private applied(command: Command): void {
    if (this.engine === null) return;
    if (command.type === "ack" || command.type === "dead-letter") this.engine.acked(command.store, command.durable, command.sequences);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.pollScheduled || this.engine === null) return;
    this.pollScheduled = true;
    this.scheduler.schedule(0, this.owner, () => this.poll());
  }

  private poll(): void {
    this.pollScheduled = false;
    const engine = this.engine;
    if (engine === null) return;
    const nowMs = this.scheduler.now();
    const { deliveries, proposals, more } = engine.poll(nowMs);
    const bySubscriber = new Map<string, Delivery[]>();
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
      const list = bySubscriber.get(delivery.subscriberId);
      if (list === undefined) bySubscriber.set(delivery.subscriberId, [delivery]);
      else list.push(delivery);
    }
    for (const [subscriberId, list] of bySubscriber) this.subscribers.get(subscriberId)?.deliver(list);
    for (const proposal of proposals) this.proposeFromEngine(proposal);
    this.pollTimer?.cancel();
    this.pollTimer = null;
    const nextMs = engine.nextDeadlineMs();
    if (nextMs !== null) this.pollTimer = this.scheduler.schedule(Math.max(1, nextMs - nowMs), this.owner, () => this.schedulePoll());
    if (more) this.schedulePoll();
  }
}
