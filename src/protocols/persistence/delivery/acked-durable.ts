import { assert } from "../../../kernel/assert.js";
import type { PersistenceView, StoredMessage } from "../state-types.js";
import { MinHeap } from "./min-heap.js";
import type { Delivery, SubscriberStats } from "./types.js";

/**
 * One standard or shared durable on the leader: its subscribers and one record per message the
 * engine has taken from the view and not yet seen leave it (see README.md for the diagram).
 *
 * Messages enter through `cursor`: the highest sequence ever taken from `pendingAfter`, so a
 * poll reads only what is new. Every pending sequence at or below the cursor has a record
 * (records are dropped only once the view says the message is no longer pending, and a
 * sequence never becomes pending again), which is why delivery counts survive detach.
 */
export type RecordState = "ready" | "in-flight" | "dead-lettering";

export interface DeliveryRecord {
  readonly sequence: number;
  state: RecordState;
  /** Deliveries by this leader so far. */
  deliveryCount: number;
  /** In flight: to whom. */
  subscriberId: string | null;
  /** Bumped on every transition, so heap entries made before it are recognised as stale. */
  epoch: number;
}

export interface AckedSubscriber {
  readonly id: string;
  readonly prefetch: number;
  /** Sequences delivered to it and not yet acked, expired or returned. */
  readonly inFlight: Set<number>;
}

/** What every durable shares with the engine: the record budget and the deadline queue. */
export interface DeliveryContext {
  readonly view: PersistenceView;
  readonly recordsMax: number;
  /** Records of all durables. */
  records: number;
  /** Calls `durable.expire(record)` at deadlineMs unless the record changed since. */
  schedule(durable: AckedDurable, record: DeliveryRecord, deadlineMs: number): void;
}

interface ReadyEntry {
  readonly sequence: number;
  readonly epoch: number;
}

export type Expiry = "gone" | "redeliver" | "dead-letter";

export class AckedDurable {
  readonly subscribers: AckedSubscriber[] = [];
  readonly records = new Map<number, DeliveryRecord>();
  /** Highest sequence taken from the view. */
  cursor = 0;
  private readonly ready = new MinHeap<ReadyEntry>((a, b) => a.sequence < b.sequence);
  private readonly counts: Record<RecordState, number> = { ready: 0, "in-flight": 0, "dead-lettering": 0 };
  /** Where the next round-robin scan for a subscriber starts. */
  private nextPick = 0;

  constructor(
    private readonly context: DeliveryContext,
    readonly store: string,
    readonly durable: string,
    readonly type: "standard" | "shared",
    readonly ackWaitMs: number,
    readonly deliveryLimit: number | undefined,
  ) {}

  /** No subscribers and nothing remembered: the engine may forget this durable. */
  get idle(): boolean {
    return this.subscribers.length === 0 && this.records.size === 0;
  }

  count(state: RecordState): number {
    return this.counts[state];
  }

  addSubscriber(id: string, prefetch: number): void {
    assert(this.type === "shared" || this.subscribers.length === 0, `standard durable ${this.durable} got a second subscriber`);
    this.subscribers.push({ id, prefetch, inFlight: new Set() });
  }

  /** Its unacked messages become ready again at once, keeping their delivery counts. */
  removeSubscriber(id: string): void {
    const index = this.subscribers.findIndex((subscriber) => subscriber.id === id);
    assert(index >= 0, `subscriber ${id} is not attached to durable ${this.durable}`);
    const subscriber = this.subscribers[index] as AckedSubscriber;
    for (const sequence of [...subscriber.inFlight]) {
      const record = this.records.get(sequence);
      assert(record !== undefined && record.subscriberId === id, `in-flight ${sequence} of ${id} has no record`);
      this.makeReady(record);
    }
    this.subscribers.splice(index, 1);
    if (this.nextPick > index) this.nextPick--;
  }

  /**
   * Delivers at most `quota` messages: returned ones first (lowest sequence first), then new
   * ones in sequence order. Returns how many it delivered.
   */
  deliver(nowMs: number, quota: number, out: Delivery[]): number {
    let sent = 0;
    while (sent < quota) {
      const picked = this.pickSubscriber();
      if (picked === undefined) break;
      const record = this.takeReady(quota - sent);
      if (record === undefined) break;
      const message = this.pendingMessage(record.sequence);
      if (message === undefined) {
        this.forget(record);
        continue;
      }
      this.send(nowMs, record, picked.subscriber, message, out);
      this.nextPick = (picked.index + 1) % this.subscribers.length;
      sent++;
    }
    return sent;
  }

  /** The message left the durable (ack or dead-letter applied, or gone from the view). */
  settle(sequence: number): void {
    const record = this.records.get(sequence);
    if (record !== undefined) this.forget(record);
  }

  /** The record's deadline passed: what the engine should do with it. */
  expire(nowMs: number, record: DeliveryRecord): Expiry {
    if (this.pendingMessage(record.sequence) === undefined) {
      this.forget(record);
      return "gone";
    }
    const limitReached = this.deliveryLimit !== undefined && record.deliveryCount >= this.deliveryLimit;
    if (record.state === "dead-lettering" || limitReached) {
      this.transition(record, "dead-lettering");
      this.context.schedule(this, record, nowMs + this.ackWaitMs);
      return "dead-letter";
    }
    this.makeReady(record);
    return "redeliver";
  }

  subscriberStats(): SubscriberStats[] {
    return this.subscribers.map((subscriber) => ({
      subscriberId: subscriber.id,
      prefetch: subscriber.prefetch,
      inFlight: subscriber.inFlight.size,
    }));
  }

  /**
   * The subscriber with the most free prefetch slots; among equals, the first from where the
   * last scan stopped (round robin), so work spreads evenly over a shared durable.
   */
  private pickSubscriber(): { subscriber: AckedSubscriber; index: number } | undefined {
    const count = this.subscribers.length;
    let best: { subscriber: AckedSubscriber; index: number } | undefined;
    let bestFree = 0;
    for (let step = 0; step < count; step++) {
      const index = (this.nextPick + step) % count;
      const subscriber = this.subscribers[index] as AckedSubscriber;
      const free = subscriber.prefetch - subscriber.inFlight.size;
      if (free > bestFree) {
        best = { subscriber, index };
        bestFree = free;
      }
    }
    return best;
  }

  private freeSlots(): number {
    let free = 0;
    for (const subscriber of this.subscribers) free += subscriber.prefetch - subscriber.inFlight.size;
    return free;
  }

  /** The lowest ready record; when none is ready, takes up to `wanted` new sequences first. */
  private takeReady(wanted: number): DeliveryRecord | undefined {
    let record = this.popReady();
    if (record !== undefined) return record;
    this.takeNew(wanted);
    record = this.popReady();
    return record;
  }

  private popReady(): DeliveryRecord | undefined {
    for (let entry = this.ready.pop(); entry !== undefined; entry = this.ready.pop()) {
      const record = this.records.get(entry.sequence);
      if (record !== undefined && record.state === "ready" && record.epoch === entry.epoch) return record;
    }
    return undefined;
  }

  private takeNew(wanted: number): void {
    const room = this.context.recordsMax - this.context.records;
    const countMax = Math.min(wanted, this.freeSlots(), room);
    if (countMax <= 0) return;
    const sequences = this.context.view.pendingAfter(this.store, this.durable, this.cursor, countMax);
    assert(sequences.length <= countMax, `pendingAfter returned ${sequences.length} sequences, asked for ${countMax}`);
    for (const sequence of sequences) {
      assert(sequence > this.cursor, `pendingAfter returned ${sequence} after ${this.cursor}`);
      this.cursor = sequence;
      const record: DeliveryRecord = { sequence, state: "ready", deliveryCount: 0, subscriberId: null, epoch: 0 };
      this.records.set(sequence, record);
      this.context.records++;
      this.counts.ready++;
      this.ready.push({ sequence, epoch: record.epoch });
    }
  }

  private send(nowMs: number, record: DeliveryRecord, subscriber: AckedSubscriber, message: StoredMessage, out: Delivery[]): void {
    assert(subscriber.inFlight.size < subscriber.prefetch, `subscriber ${subscriber.id} is past its prefetch`);
    this.transition(record, "in-flight");
    record.subscriberId = subscriber.id;
    record.deliveryCount++;
    subscriber.inFlight.add(record.sequence);
    this.context.schedule(this, record, nowMs + this.ackWaitMs);
    out.push({
      subscriberId: subscriber.id,
      store: this.store,
      durable: this.durable,
      storeSequence: record.sequence,
      deliveryCount: record.deliveryCount,
      message,
    });
  }

  private pendingMessage(sequence: number): StoredMessage | undefined {
    const view = this.context.view;
    if (!view.isPending(this.store, this.durable, sequence)) return undefined;
    return view.message(this.store, sequence);
  }

  private makeReady(record: DeliveryRecord): void {
    this.transition(record, "ready");
    this.ready.push({ sequence: record.sequence, epoch: record.epoch });
    // Entries of records that moved on stay until they surface; keep them a minority.
    if (this.ready.size > 2 * this.counts.ready + 64) {
      this.ready.retain((entry) => {
        const current = this.records.get(entry.sequence);
        return current !== undefined && current.state === "ready" && current.epoch === entry.epoch;
      });
    }
  }

  private forget(record: DeliveryRecord): void {
    this.releaseSlot(record);
    this.counts[record.state]--;
    record.epoch++;
    this.records.delete(record.sequence);
    this.context.records--;
  }

  private transition(record: DeliveryRecord, state: RecordState): void {
    this.releaseSlot(record);
    this.counts[record.state]--;
    this.counts[state]++;
    record.state = state;
    record.epoch++;
  }

  /** An in-flight record stops occupying its subscriber's prefetch slot. */
  private releaseSlot(record: DeliveryRecord): void {
    if (record.state !== "in-flight") return;
    const subscriber = this.subscribers.find((candidate) => candidate.id === record.subscriberId);
    assert(subscriber !== undefined, `in-flight ${record.sequence} belongs to no attached subscriber`);
    subscriber.inFlight.delete(record.sequence);
    record.subscriberId = null;
  }
}
