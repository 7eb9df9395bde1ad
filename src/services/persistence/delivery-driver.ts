import { limits } from "../../kernel/limits.js";
import { DeliveryEngine, type AttachResult, type Delivery } from "../../protocols/persistence/delivery/delivery-engine.js";
import type { Command, PersistenceView } from "../../protocols/persistence/state-types.js";

/** What the driver needs from its host: time, turns, timers, and the replica's lease check. */
export interface DeliveryDriverPorts {
  /** Milliseconds that never go back. */
  now(): number;
  /** Run on a later turn (batches the work of one turn into one poll). */
  defer(callback: () => void): void;
  setTimer(delayMs: number, callback: () => void): { cancel(): void };
  /** Whether the replica leads with a valid lease right now (Replica.holdsLease). */
  holdsLease(): boolean;
  /** Commands the engine asks for (dead-letter moves). */
  propose(command: Command): void;
}

export interface SubscriberHandle {
  readonly subscriberId: string;
  /** Deliveries for this subscriber, in the order the engine chose. */
  deliver(deliveries: readonly Delivery[]): void;
  /** This service stopped leading: the subscriber must find the new leader and subscribe again. */
  lost(reason: string): void;
}

/** For tests and the simulator's history: what the driver did, when. */
export interface DeliveryObserver {
  engineStarted?(term: number): void;
  engineStopped?(reason: string): void;
  delivered?(nowMs: number, deliveries: readonly Delivery[]): void;
}

export type DriverAttachResult = AttachResult | { readonly ok: false; readonly reason: "not-leader"; readonly detail: string };

/**
 * Drives the leader's delivery engine, the same code in the server and in the simulator. Two
 * rules keep "an acked message is never delivered again" across leader changes (both found by
 * the persistence simulator):
 *
 *  1. A new leader starts its engine only once it has applied the first entry of its own
 *     term: before that its state may lack acks the previous leader committed (seed 16).
 *  2. Every poll that may deliver first checks, at that moment, that the leader holds its lease
 *     (as a lease read does): a deposed leader, paused or cut off from its peers, stops
 *     delivering before a new leader can be elected, instead of when it hears of the new term
 *     (seed 140). The check is synchronous with the poll: an answer computed before a pause
 *     would be stale after it (seed 50).
 */
export class DeliveryDriver {
  private engine: DeliveryEngine | null = null;
  /** Leading in `term`, waiting to apply `firstIndex` before starting the engine. */
  private waitingFor: { term: number; firstIndex: number } | null = null;
  private term = 0;
  private readonly subscribers = new Map<string, SubscriberHandle>();
  private pollDeferred = false;
  private pollTimer: { cancel(): void } | null = null;
  private retryTimer: { cancel(): void } | null = null;

  constructor(
    private readonly view: PersistenceView,
    private readonly ports: DeliveryDriverPorts,
    private readonly observer: DeliveryObserver = {},
  ) {}

  /** True while the engine runs (subscribers may attach). */
  get active(): boolean {
    return this.engine !== null;
  }

  stats(): ReturnType<DeliveryEngine["stats"]> | null {
    return this.engine?.stats() ?? null;
  }

  // --- leadership ------------------------------------------------------------------------------

  /** This service leads `term`, whose first entry is at `firstIndex` in its log. */
  becameLeader(term: number, firstIndex: number): void {
    if (this.engine !== null && this.term === term) return;
    this.stoppedLeading("a new term began");
    this.term = term;
    this.waitingFor = { term, firstIndex };
    this.maybeStart();
  }

  stoppedLeading(reason: string): void {
    this.waitingFor = null;
    this.pollTimer?.cancel();
    this.pollTimer = null;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    if (this.engine === null) return;
    this.engine = null;
    this.observer.engineStopped?.(reason);
    const handles = [...this.subscribers.values()];
    this.subscribers.clear();
    for (const handle of handles) handle.lost(reason);
  }

  // --- from the application ---------------------------------------------------------------------

  /** A command was applied (call for every command, before `appliedBatch`). */
  applied(command: Command): void {
    if (this.engine === null) return;
    // Dead-letter moves take messages out of the durable just as acks do.
    if (command.type === "ack" || command.type === "dead-letter") this.engine.acked(command.store, command.durable, command.sequences);
  }

  /** A batch of entries was applied: maybe start the engine, and poll. */
  appliedBatch(): void {
    this.maybeStart();
    this.schedulePoll();
  }

  // --- subscribers --------------------------------------------------------------------------------

  attach(handle: SubscriberHandle, store: string, durable: string, prefetch: number): DriverAttachResult {
    if (this.engine === null) return { ok: false, reason: "not-leader", detail: this.waitingFor ? "the leader is still applying its predecessor's entries; retry shortly" : "this service does not lead its cluster" };
    const result = this.engine.attach(this.ports.now(), { subscriberId: handle.subscriberId, store, durable, prefetch });
    if (result.ok) {
      this.subscribers.set(handle.subscriberId, handle);
      this.schedulePoll();
    }
    return result;
  }

  detach(subscriberId: string): void {
    if (!this.subscribers.delete(subscriberId)) return;
    this.engine?.detach(this.ports.now(), subscriberId);
    this.schedulePoll();
  }

  credit(subscriberId: string, count: number): void {
    if (!this.subscribers.has(subscriberId)) return;
    this.engine?.credit(subscriberId, count);
    this.schedulePoll();
  }

  // --- polling -----------------------------------------------------------------------------------------

  private maybeStart(): void {
    const waiting = this.waitingFor;
    if (waiting === null || this.engine !== null || this.view.appliedIndex < waiting.firstIndex) return;
    this.waitingFor = null;
    this.engine = new DeliveryEngine(this.view);
    this.observer.engineStarted?.(waiting.term);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.engine === null || this.pollDeferred) return;
    this.pollDeferred = true;
    this.ports.defer(() => {
      this.pollDeferred = false;
      this.poll();
    });
  }

  private poll(): void {
    const engine = this.engine;
    if (engine === null) return;
    if (!this.ports.holdsLease()) {
      // Lease lapsed (paused, cut off) or this term's first entry not committed yet: deliver
      // nothing now; try again shortly (a role change stops us).
      if (this.retryTimer === null) {
        this.retryTimer = this.ports.setTimer(limits.deliveryLeaseRetryMs, () => {
          this.retryTimer = null;
          this.schedulePoll();
        });
      }
      return;
    }
    const nowMs = this.ports.now();
    const { deliveries, proposals, more } = engine.poll(nowMs);
    if (deliveries.length > 0) {
      this.observer.delivered?.(nowMs, deliveries);
      const bySubscriber = new Map<string, Delivery[]>();
      for (const delivery of deliveries) {
        const list = bySubscriber.get(delivery.subscriberId);
        if (list) list.push(delivery);
        else bySubscriber.set(delivery.subscriberId, [delivery]);
      }
      for (const [subscriberId, list] of bySubscriber) this.subscribers.get(subscriberId)?.deliver(list);
    }
    for (const proposal of proposals) this.ports.propose(proposal);
    this.pollTimer?.cancel();
    this.pollTimer = null;
    const nextMs = engine.nextDeadlineMs();
    if (nextMs !== null) this.pollTimer = this.ports.setTimer(Math.max(1, nextMs - nowMs), () => this.schedulePoll());
    // More may be ready (the engine bounds each poll).
    if (more) this.schedulePoll();
  }
}
