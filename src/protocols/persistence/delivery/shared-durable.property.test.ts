import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeliveryEngine, type Delivery } from "./delivery-engine.js";
import { FakeView } from "./fake-view.js";

/**
 * Random attach / detach / publish / ack / expire / time / poll steps against the fake view.
 * Safety: a message is never in flight to two subscribers at once, and nobody holds more than
 * its prefetch. Liveness: once a subscriber exists and time passes, every pending message is
 * delivered (and here acked, so the durable drains).
 */
const store = "jobs";
const durable = "work";
const ackWaitMs = 100;
const subscriberIds = ["a", "b", "c"] as const;

type Step =
  | { readonly kind: "publish"; readonly count: number }
  | { readonly kind: "attach"; readonly subscriber: number; readonly prefetch: number }
  | { readonly kind: "detach"; readonly subscriber: number }
  | { readonly kind: "ack"; readonly pick: number }
  | { readonly kind: "expire"; readonly pick: number }
  | { readonly kind: "time"; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("publish" as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("attach" as const), subscriber: fc.integer({ min: 0, max: 2 }), prefetch: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("detach" as const), subscriber: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("ack" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("time" as const), ms: fc.integer({ min: 1, max: 60 }) }) },
);

interface Owner {
  readonly subscriberId: string;
  readonly deadlineMs: number;
}

class Harness {
  readonly view = new FakeView().addDurable(store, durable, { type: "shared", ackWaitMs });
  readonly engine = new DeliveryEngine(this.view, { deliveriesPerPollMax: 7 });
  nowMs = 0;
  readonly attached = new Map<string, number>();
  /** Who holds each message the model believes in flight, until its ack wait. */
  readonly owners = new Map<number, Owner>();
  /** Messages delivered (to anyone) since the last check. */
  readonly delivered = new Set<number>();

  run(next: Step): void {
    switch (next.kind) {
      case "publish":
        for (let index = 0; index < next.count; index++) this.view.publish(store, [durable]);
        return;
      case "attach": {
        const subscriberId = subscriberIds[next.subscriber] as string;
        if (this.attached.has(subscriberId)) return;
        expect(this.engine.attach(this.nowMs, { subscriberId, store, durable, prefetch: next.prefetch })).toEqual({ ok: true });
        this.attached.set(subscriberId, next.prefetch);
        return;
      }
      case "detach": {
        const subscriberId = subscriberIds[next.subscriber] as string;
        this.engine.detach(this.nowMs, subscriberId);
        this.attached.delete(subscriberId);
        for (const [sequence, owner] of this.owners) if (owner.subscriberId === subscriberId) this.owners.delete(sequence);
        return;
      }
      case "ack": {
        const held = [...this.owners.keys()];
        if (held.length === 0) return;
        this.ack([held[next.pick % held.length] as number]);
        return;
      }
      case "expire": {
        const pending = this.view.pendingSequences(store, durable);
        if (pending.length === 0) return;
        const sequence = pending[next.pick % pending.length] as number;
        this.view.expire(store, sequence);
        this.owners.delete(sequence);
        return;
      }
      case "time":
        this.nowMs += next.ms;
        return;
    }
  }

  ack(sequences: readonly number[]): void {
    this.view.ack(store, durable, sequences);
    this.engine.acked(store, durable, sequences);
    for (const sequence of sequences) this.owners.delete(sequence);
  }

  poll(): readonly Delivery[] {
    const { deliveries, proposals } = this.engine.poll(this.nowMs);
    expect(proposals).toEqual([]);
    const thisPoll = new Set<number>();
    for (const delivery of deliveries) {
      const sequence = delivery.storeSequence;
      expect(thisPoll.has(sequence), `${sequence} delivered twice in one poll`).toBe(false);
      thisPoll.add(sequence);
      expect(this.view.isPending(store, durable, sequence), `${sequence} delivered but not pending`).toBe(true);
      expect(this.attached.has(delivery.subscriberId), `${delivery.subscriberId} is not attached`).toBe(true);
      const owner = this.owners.get(sequence);
      if (owner !== undefined) {
        expect(owner.deadlineMs <= this.nowMs, `${sequence} in flight to ${owner.subscriberId} and sent to ${delivery.subscriberId}`).toBe(true);
      }
      this.owners.set(sequence, { subscriberId: delivery.subscriberId, deadlineMs: this.nowMs + ackWaitMs });
      this.delivered.add(sequence);
    }
    for (const [subscriberId, prefetch] of this.attached) {
      const holding = [...this.owners.values()].filter((owner) => owner.subscriberId === subscriberId && owner.deadlineMs > this.nowMs);
      expect(holding.length, `${subscriberId} holds more than its prefetch`).toBeLessThanOrEqual(prefetch);
    }
    const stats = this.engine.stats().durables[0];
    for (const subscriber of stats?.subscribers ?? []) expect(subscriber.inFlight).toBeLessThanOrEqual(subscriber.prefetch);
    return deliveries;
  }
}

describe("shared durable (random steps)", () => {
  it("never has one message in flight to two subscribers, and drains once someone consumes", () => {
    fc.assert(
      // Each step with a 0..3: the driver polls after most events (applied entries, timer,
      // attach, detach), and 0 leaves the poll out so events also pile up between polls.
      fc.property(fc.array(fc.tuple(step, fc.nat({ max: 3 })), { maxLength: 150 }), (steps) => {
        const harness = new Harness();
        for (const [next, poll] of steps) {
          harness.run(next);
          if (poll !== 0) harness.poll();
        }
        // Liveness: a subscriber exists, time passes, everything delivered gets acked.
        if (harness.attached.size === 0) harness.run({ kind: "attach", subscriber: 0, prefetch: 2 });
        const pendingBefore = harness.view.pendingSequences(store, durable);
        harness.delivered.clear();
        for (let round = 0; round < 500 && harness.view.pendingSequences(store, durable).length > 0; round++) {
          harness.ack(harness.poll().map((delivery) => delivery.storeSequence));
          harness.nowMs += ackWaitMs;
        }
        expect(harness.view.pendingSequences(store, durable)).toEqual([]);
        for (const sequence of pendingBefore) expect(harness.delivered.has(sequence), `${sequence} never delivered`).toBe(true);
        // Records of messages that left the view unannounced go at their deadline.
        harness.nowMs += ackWaitMs;
        expect(harness.poll()).toEqual([]);
        expect(harness.engine.stats().records).toBe(0);
        expect(harness.engine.nextDeadlineMs()).toBeNull();
      }),
      {
        numRuns: 1000,
        examples: [
          // Returned by a detach, then sent to b: the ack wait of the first delivery must not cut b's short.
          [[[{ kind: "attach", subscriber: 0, prefetch: 1 }, 0], [{ kind: "attach", subscriber: 1, prefetch: 1 }, 0], [{ kind: "publish", count: 1 }, 1], [{ kind: "time", ms: 5 }, 0], [{ kind: "detach", subscriber: 0 }, 0], [{ kind: "time", ms: 50 }, 1], [{ kind: "time", ms: 45 }, 0]]],
        ],
      },
    );
  });
});
