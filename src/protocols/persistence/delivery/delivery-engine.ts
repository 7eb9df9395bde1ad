import { assert } from "../../../kernel/assert.js";
import type { Command, DurableInfo, PersistenceView } from "../state-types.js";
import { AckedDurable, type DeliveryContext, type DeliveryRecord } from "./acked-durable.js";
import { LastValueSubscriber } from "./last-value-subscriber.js";
import { MinHeap } from "./min-heap.js";
import { deliveryOptions, type DeliveryOptions } from "./options.js";
import type { AttachRequest, AttachResult, Delivery, DeliveryStats, DurableDeliveryStats, PollResult } from "./types.js";

export type { DeliveryOptions } from "./options.js";
export type * from "./types.js";

interface Deadline {
  readonly deadlineMs: number;
  /** Insertion order: equal deadlines fire first-in first-out. */
  readonly order: number;
  readonly durable: AckedDurable;
  readonly record: DeliveryRecord;
  readonly epoch: number;
}

/** Something that delivers in a poll: a standard/shared durable or one last-value subscriber. */
interface DeliveryUnit {
  readonly store: string;
  readonly durable: string;
  deliver(nowMs: number, quota: number, out: Delivery[]): number;
}

/**
 * The leader's delivery engine: which pending message goes to which subscriber, when an
 * unacked one goes again, and when one reaches its delivery limit. Pure and leader-local:
 * nothing here is replicated (acks and dead-letters are, as commands); a new leader starts a
 * fresh engine and delivers everything pending again, paced by each subscriber's prefetch.
 *
 * The driver's contract (see README.md): `attach`/`detach`/`credit` as subscribers come and
 * go; after applying entries, `acked` for every applied ack or dead-letter command, then
 * `poll`; send the deliveries, propose the commands; poll again at `nextDeadlineMs()`, and at
 * once when a poll says `more`.
 */
export class DeliveryEngine {
  private readonly options: DeliveryOptions;
  private readonly context: DeliveryContext;
  /** Standard and shared durables with subscribers or records, by durableKey. */
  private readonly ackedDurables = new Map<string, AckedDurable>();
  private readonly lastValueSubscribers = new Map<string, LastValueSubscriber>();
  /** Every attached subscriber: the durableKey it consumes. */
  private readonly subscribers = new Map<string, string>();
  /** Last-value durables: attached subscribers. */
  private readonly lastValueCounts = new Map<string, number>();
  private readonly deadlines = new MinHeap<Deadline>((a, b) => a.deadlineMs < b.deadlineMs || (a.deadlineMs === b.deadlineMs && a.order < b.order));
  private deadlineOrder = 0;
  private lastNowMs = Number.NEGATIVE_INFINITY;
  /** Where the next poll starts its round robin over durables and last-value subscribers. */
  private rotation = 0;

  constructor(
    private readonly view: PersistenceView,
    options: Partial<DeliveryOptions> = {},
  ) {
    this.options = deliveryOptions(options);
    this.context = {
      view,
      recordsMax: this.options.recordsMax,
      records: 0,
      schedule: (durable, record, deadlineMs) => {
        this.deadlines.push({ deadlineMs, order: this.deadlineOrder++, durable, record, epoch: record.epoch });
        this.compactDeadlines();
      },
    };
  }

  /** A subscriber starts consuming a durable that exists in the view. */
  attach(nowMs: number, request: AttachRequest): AttachResult {
    this.advance(nowMs);
    const { subscriberId, store, durable, prefetch } = request;
    assert(!this.subscribers.has(subscriberId), `subscriber ${subscriberId} is already attached`);
    if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > this.options.prefetchMax) {
      return refuse("invalid-prefetch", `prefetch must be an integer from 1 to ${this.options.prefetchMax}, got ${String(prefetch)}`);
    }
    const info = this.view.durable(store, durable);
    if (info === undefined) return refuse("unknown-durable", `store ${store} has no durable ${durable}`);
    if (this.subscribers.size >= this.options.subscribersMax) {
      return refuse("too-many-subscribers", `this leader already serves ${this.options.subscribersMax} subscribers; try again later or spread them over clusters`);
    }
    const key = durableKey(store, durable);
    switch (info.settings.type) {
      case "map":
        return refuse("wrong-durable-type", `durable ${durable} of store ${store} is a map; maps are not subscribed to: use the map API (get, set, remove, iterate)`);
      case "last-value":
        return this.attachLastValue(subscriberId, info, prefetch);
      case "standard":
      case "shared": {
        const acked = this.ackedDurables.get(key) ?? this.createAckedDurable(info, info.settings.type);
        if (info.settings.type === "standard" && acked.subscribers.length > 0) {
          return refuse(
            "durable-busy",
            `durable ${durable} already has an active subscriber; a standard durable delivers to one subscriber at a time; use a shared durable for several`,
          );
        }
        if (acked.subscribers.length >= this.options.subscribersPerDurableMax) {
          return refuse("too-many-subscribers", `durable ${durable} already has ${this.options.subscribersPerDurableMax} subscribers, the most one durable may have`);
        }
        acked.addSubscriber(subscriberId, prefetch);
        this.subscribers.set(subscriberId, key);
        return { ok: true };
      }
    }
  }

  /**
   * Its connection is gone or it unsubscribed: its unacked messages are delivered again by the
   * next poll (to another subscriber of a shared durable, to the next subscriber of a standard
   * one), with their delivery counts kept. Unknown subscribers are ignored.
   */
  detach(nowMs: number, subscriberId: string): void {
    this.advance(nowMs);
    const key = this.subscribers.get(subscriberId);
    if (key === undefined) return;
    this.subscribers.delete(subscriberId);
    const lastValue = this.lastValueSubscribers.get(subscriberId);
    if (lastValue !== undefined) {
      this.lastValueSubscribers.delete(subscriberId);
      const count = (this.lastValueCounts.get(key) ?? 0) - 1;
      if (count > 0) this.lastValueCounts.set(key, count);
      else this.lastValueCounts.delete(key);
      return;
    }
    const acked = this.ackedDurables.get(key);
    assert(acked !== undefined, `subscriber ${subscriberId} of ${key} has no durable state`);
    acked.removeSubscriber(subscriberId);
    this.forgetIfIdle(acked);
  }

  /**
   * Last-value: the subscriber processed `count` messages and may receive that many more
   * (never more than its prefetch outstanding). Acked subscribers free slots by acking, so
   * credit is ignored for them, as it is for unknown subscribers.
   */
  credit(subscriberId: string, count: number): void {
    this.lastValueSubscribers.get(subscriberId)?.credit(count);
  }

  /**
   * These sequences left the durable: an `ack` (or `dead-letter`) command for them was applied.
   * Pass the command's sequences whatever the result counted; ones not in flight are ignored.
   */
  acked(store: string, durable: string, sequences: readonly number[]): void {
    const acked = this.ackedDurables.get(durableKey(store, durable));
    if (acked === undefined) return;
    for (const sequence of sequences) acked.settle(sequence);
    this.forgetIfIdle(acked);
  }

  /** What to send now and what to propose. Call after every applied batch and on the timer. */
  poll(nowMs: number): PollResult {
    this.advance(nowMs);
    const { proposals, expirationsLeft } = this.expireDeadlines(nowMs);
    const { deliveries, budgetLeft } = this.deliver(nowMs);
    return { deliveries, proposals, more: !expirationsLeft || budgetLeft === 0 };
  }

  /** Earliest time at which a poll has an ack wait (or a dead-letter retry) to act on, or null. */
  nextDeadlineMs(): number | null {
    for (let top = this.deadlines.peek(); top !== undefined; top = this.deadlines.peek()) {
      if (isLive(top)) return top.deadlineMs;
      this.deadlines.pop();
    }
    return null;
  }

  stats(): DeliveryStats {
    const durables: DurableDeliveryStats[] = [];
    for (const acked of this.ackedDurables.values()) {
      durables.push({
        store: acked.store,
        durable: acked.durable,
        type: acked.type,
        subscribers: acked.subscriberStats(),
        inFlight: acked.count("in-flight"),
        awaitingRedelivery: acked.count("ready"),
        deadLettering: acked.count("dead-lettering"),
      });
    }
    const lastValue = new Map<string, { store: string; durable: string; subscribers: DurableDeliveryStats["subscribers"][number][] }>();
    for (const subscriber of this.lastValueSubscribers.values()) {
      const key = durableKey(subscriber.store, subscriber.durable);
      const entry = lastValue.get(key) ?? { store: subscriber.store, durable: subscriber.durable, subscribers: [] };
      entry.subscribers.push({ subscriberId: subscriber.id, prefetch: subscriber.prefetch, inFlight: subscriber.outstanding });
      lastValue.set(key, entry);
    }
    for (const { store, durable, subscribers } of lastValue.values()) {
      const inFlight = subscribers.reduce((sum, subscriber) => sum + subscriber.inFlight, 0);
      durables.push({ store, durable, type: "last-value", subscribers, inFlight, awaitingRedelivery: 0, deadLettering: 0 });
    }
    return { durables, subscribers: this.subscribers.size, records: this.context.records };
  }

  private attachLastValue(subscriberId: string, info: DurableInfo, prefetch: number): AttachResult {
    const key = durableKey(info.store, info.name);
    const count = this.lastValueCounts.get(key) ?? 0;
    if (count >= this.options.subscribersPerDurableMax) {
      return refuse("too-many-subscribers", `durable ${info.name} already has ${this.options.subscribersPerDurableMax} subscribers, the most one durable may have`);
    }
    const snapshotThrough = this.view.store(info.store)?.lastSequence ?? 0;
    this.lastValueSubscribers.set(subscriberId, new LastValueSubscriber(this.view, subscriberId, info.store, info.name, prefetch, snapshotThrough));
    this.lastValueCounts.set(key, count + 1);
    this.subscribers.set(subscriberId, key);
    return { ok: true };
  }

  private createAckedDurable(info: DurableInfo, type: "standard" | "shared"): AckedDurable {
    const ackWaitMs = info.settings.ackWaitMs ?? this.options.ackWaitMs;
    const acked = new AckedDurable(this.context, info.store, info.name, type, ackWaitMs, info.settings.deliveryLimit);
    this.ackedDurables.set(durableKey(info.store, info.name), acked);
    return acked;
  }

  private forgetIfIdle(acked: AckedDurable): void {
    if (acked.idle) this.ackedDurables.delete(durableKey(acked.store, acked.durable));
  }

  /** Ack waits that passed: redeliver, or collect dead-letter proposals (one command per durable). */
  private expireDeadlines(nowMs: number): { proposals: Command[]; expirationsLeft: boolean } {
    const deadLetters = new Map<AckedDurable, number[]>();
    let handled = 0;
    let expirationsLeft = true;
    for (let top = this.deadlines.peek(); top !== undefined && top.deadlineMs <= nowMs; top = this.deadlines.peek()) {
      if (!isLive(top)) {
        this.deadlines.pop();
        continue;
      }
      if (handled === this.options.expirationsPerPollMax) {
        expirationsLeft = false;
        break;
      }
      this.deadlines.pop();
      handled++;
      const outcome = top.durable.expire(nowMs, top.record);
      if (outcome === "dead-letter") {
        const sequences = deadLetters.get(top.durable) ?? [];
        sequences.push(top.record.sequence);
        deadLetters.set(top.durable, sequences);
      }
      this.forgetIfIdle(top.durable);
    }
    const proposals: Command[] = [];
    for (const [acked, sequences] of deadLetters) {
      sequences.sort((a, b) => a - b);
      proposals.push({ type: "dead-letter", atMs: nowMs, store: acked.store, durable: acked.durable, sequences });
    }
    return { proposals, expirationsLeft };
  }

  /**
   * Round robin over durables and last-value subscribers, starting one further each poll: each
   * pass gives every unit that still has work an equal share of what is left of the budget.
   */
  private deliver(nowMs: number): { deliveries: Delivery[]; budgetLeft: number } {
    const deliveries: Delivery[] = [];
    let units = this.deliveryUnits();
    let budget = this.options.deliveriesPerPollMax;
    if (units.length > 0) {
      const start = this.rotation++ % units.length;
      units = [...units.slice(start), ...units.slice(0, start)];
    }
    while (budget > 0 && units.length > 0) {
      const share = Math.max(1, Math.floor(budget / units.length));
      const stillBusy: DeliveryUnit[] = [];
      for (const unit of units) {
        if (budget === 0) break;
        const quota = Math.min(share, budget);
        const sent = unit.deliver(nowMs, quota, deliveries);
        budget -= sent;
        if (sent === quota) stillBusy.push(unit);
      }
      units = stillBusy;
    }
    return { deliveries, budgetLeft: budget };
  }

  private deliveryUnits(): DeliveryUnit[] {
    const units: DeliveryUnit[] = [];
    for (const acked of this.ackedDurables.values()) {
      if (acked.subscribers.length > 0 && this.exists(acked)) units.push(acked);
    }
    for (const subscriber of this.lastValueSubscribers.values()) {
      if (this.exists(subscriber)) units.push({ store: subscriber.store, durable: subscriber.durable, deliver: (_nowMs, quota, out) => subscriber.deliver(quota, out) });
    }
    return units;
  }

  /** A durable removed from the view (a realm change) delivers nothing more. */
  private exists(unit: { store: string; durable: string }): boolean {
    return this.view.durable(unit.store, unit.durable) !== undefined;
  }

  private compactDeadlines(): void {
    // Entries of records that moved on stay until they surface; keep them a minority.
    if (this.deadlines.size > 2 * this.context.records + 1024) this.deadlines.retain(isLive);
  }

  /** Time is the driver's monotonic clock: it never goes back. */
  private advance(nowMs: number): void {
    assert(Number.isFinite(nowMs) && nowMs >= this.lastNowMs, `time went back: ${nowMs} after ${this.lastNowMs}`);
    this.lastNowMs = nowMs;
  }
}

function isLive(deadline: Deadline): boolean {
  const record = deadline.durable.records.get(deadline.record.sequence);
  return record === deadline.record && record.epoch === deadline.epoch;
}

function durableKey(store: string, durable: string): string {
  return `${store}\u0000${durable}`;
}

function refuse(reason: Exclude<AttachResult, { ok: true }>["reason"], detail: string): AttachResult {
  return { ok: false, reason, detail };
}
