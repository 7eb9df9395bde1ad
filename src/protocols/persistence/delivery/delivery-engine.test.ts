import { describe, expect, it } from "vitest";
import type { DurableSettings } from "../state-types.js";
import { DeliveryEngine, type Delivery, type DeliveryOptions } from "./delivery-engine.js";
import { FakeView } from "./fake-view.js";

const store = "orders";

function setup(durable: string, settings: DurableSettings, options: Partial<DeliveryOptions> = {}) {
  const view = new FakeView().addDurable(store, durable, settings);
  const engine = new DeliveryEngine(view, options);
  const publish = (count: number): number[] => Array.from({ length: count }, () => view.publish(store, [durable]));
  /** What a driver does with an ack: apply it to the state, then tell the engine. */
  const ack = (sequences: readonly number[]): void => {
    view.ack(store, durable, sequences);
    engine.acked(store, durable, sequences);
  };
  return { view, engine, publish, ack };
}

const sequences = (deliveries: readonly Delivery[]): number[] => deliveries.map((delivery) => delivery.storeSequence);
const counts = (deliveries: readonly Delivery[]): number[] => deliveries.map((delivery) => delivery.deliveryCount);

describe("standard durable", () => {
  it("delivers pending messages in store-sequence order, the first delivery counting 1", () => {
    const { engine, publish } = setup("billing", { type: "standard" });
    publish(3);
    expect(engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 10 })).toEqual({ ok: true });
    const { deliveries } = engine.poll(0);
    expect(sequences(deliveries)).toEqual([1, 2, 3]);
    expect(counts(deliveries)).toEqual([1, 1, 1]);
    expect(deliveries[0]).toMatchObject({ subscriberId: "a", store, durable: "billing", message: { storeSequence: 1 } });
  });

  it("prefetch bounds the messages in flight", () => {
    const { engine, publish } = setup("billing", { type: "standard" });
    publish(10);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 3 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1, 2, 3]);
    expect(engine.poll(1).deliveries).toEqual([]);
    expect(engine.stats().durables[0]).toMatchObject({ inFlight: 3, subscribers: [{ subscriberId: "a", prefetch: 3, inFlight: 3 }] });
  });

  it("an ack frees a slot for the next message", () => {
    const { engine, publish, ack } = setup("billing", { type: "standard" });
    publish(5);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 2 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1, 2]);
    ack([1]);
    expect(sequences(engine.poll(1).deliveries)).toEqual([3]);
    ack([2, 3]);
    expect(sequences(engine.poll(2).deliveries)).toEqual([4, 5]);
  });

  it("messages published later are delivered by a later poll", () => {
    const { engine, publish } = setup("billing", { type: "standard" });
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 10 });
    expect(engine.poll(0).deliveries).toEqual([]);
    publish(2);
    expect(sequences(engine.poll(1).deliveries)).toEqual([1, 2]);
    expect(engine.poll(2).deliveries).toEqual([]);
  });

  it("a second subscriber is refused: the durable is busy", () => {
    const { engine } = setup("billing", { type: "standard" });
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    expect(engine.attach(0, { subscriberId: "b", store, durable: "billing", prefetch: 1 })).toEqual({
      ok: false,
      reason: "durable-busy",
      detail: "durable billing already has an active subscriber; a standard durable delivers to one subscriber at a time; use a shared durable for several",
    });
  });

  it("after its subscriber detaches, the next one gets the unacked messages again, lowest first", () => {
    const { engine, publish, ack } = setup("billing", { type: "standard" });
    publish(4);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 2 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1, 2]);
    ack([1]);
    engine.detach(1, "a");
    expect(engine.attach(1, { subscriberId: "b", store, durable: "billing", prefetch: 2 })).toEqual({ ok: true });
    const { deliveries } = engine.poll(1);
    expect(sequences(deliveries)).toEqual([2, 3]);
    expect(counts(deliveries)).toEqual([2, 1]);
  });

  it("an unacked message is delivered again after the ack wait, to the same subscriber, counting 2", () => {
    const { engine, publish } = setup("billing", { type: "standard", ackWaitMs: 1000 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 5 });
    engine.poll(0);
    expect(engine.nextDeadlineMs()).toBe(1000);
    expect(engine.poll(999).deliveries).toEqual([]);
    const { deliveries } = engine.poll(1000);
    expect(deliveries).toMatchObject([{ subscriberId: "a", storeSequence: 1, deliveryCount: 2 }]);
    expect(engine.nextDeadlineMs()).toBe(2000);
  });

  it("the ack wait defaults to the limit when the durable sets none", () => {
    const { engine, publish } = setup("billing", { type: "standard" }, { ackWaitMs: 250 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 5 });
    engine.poll(0);
    expect(engine.nextDeadlineMs()).toBe(250);
  });

  it("an acked message is not delivered again and leaves no deadline", () => {
    const { engine, publish, ack } = setup("billing", { type: "standard", ackWaitMs: 1000 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 5 });
    engine.poll(0);
    ack([1]);
    expect(engine.nextDeadlineMs()).toBeNull();
    expect(engine.poll(5000).deliveries).toEqual([]);
    expect(engine.stats()).toMatchObject({ records: 0 });
  });

  it("an ack for a message not in flight is fine", () => {
    const { engine, publish, ack } = setup("billing", { type: "standard" });
    publish(2);
    ack([1, 7]);
    engine.acked(store, "nobody", [1]);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 5 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([2]);
  });
});

describe("delivery limit", () => {
  it("a message delivered deliveryLimit times and still unacked is proposed for dead-letter exactly once", () => {
    const { engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100, deliveryLimit: 2 });
    publish(2);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 5 });
    expect(counts(engine.poll(0).deliveries)).toEqual([1, 1]);
    expect(counts(engine.poll(100).deliveries)).toEqual([2, 2]);
    const atLimit = engine.poll(200);
    expect(atLimit.deliveries).toEqual([]);
    expect(atLimit.proposals).toEqual([{ type: "dead-letter", atMs: 200, store, durable: "billing", sequences: [1, 2] }]);
    expect(engine.poll(250).proposals).toEqual([]);
    expect(engine.poll(299).proposals).toEqual([]);
    expect(engine.stats().durables[0]).toMatchObject({ inFlight: 0, deadLettering: 2 });
  });

  it("the dead-lettered slot is free for the next message while the proposal is outstanding", () => {
    const { engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100, deliveryLimit: 1 });
    publish(2);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1]);
    const result = engine.poll(100);
    expect(result.proposals).toMatchObject([{ sequences: [1] }]);
    expect(sequences(result.deliveries)).toEqual([2]);
  });

  it("once the dead-letter is applied the message is forgotten", () => {
    const { view, engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100, deliveryLimit: 1 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    engine.poll(0);
    engine.poll(100);
    view.ack(store, "billing", [1]); // the state applied the dead-letter command
    engine.acked(store, "billing", [1]);
    expect(engine.poll(1000)).toEqual({ deliveries: [], proposals: [], more: false });
    expect(engine.stats().records).toBe(0);
  });

  it("a dead-letter proposal still pending after another ack wait is proposed again", () => {
    const { engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100, deliveryLimit: 1 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    engine.poll(0);
    expect(engine.poll(100).proposals).toMatchObject([{ sequences: [1] }]);
    expect(engine.poll(199).proposals).toEqual([]);
    expect(engine.poll(200).proposals).toEqual([{ type: "dead-letter", atMs: 200, store, durable: "billing", sequences: [1] }]);
  });

  it("dead-letter sequences are batched into one command per durable", () => {
    const view = new FakeView().addDurable(store, "a", { type: "shared", ackWaitMs: 10, deliveryLimit: 1 }).addDurable(store, "b", { type: "shared", ackWaitMs: 10, deliveryLimit: 1 });
    const engine = new DeliveryEngine(view);
    for (let index = 0; index < 3; index++) view.publish(store, ["a", "b"]);
    engine.attach(0, { subscriberId: "x", store, durable: "a", prefetch: 10 });
    engine.attach(0, { subscriberId: "y", store, durable: "b", prefetch: 10 });
    engine.poll(0);
    const { proposals } = engine.poll(10);
    expect(proposals).toHaveLength(2);
    expect(proposals).toContainEqual({ type: "dead-letter", atMs: 10, store, durable: "a", sequences: [1, 2, 3] });
    expect(proposals).toContainEqual({ type: "dead-letter", atMs: 10, store, durable: "b", sequences: [1, 2, 3] });
  });

  it("delivery counts survive a detach, so a crashing subscriber cannot dodge the limit", () => {
    const { engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100, deliveryLimit: 2 });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    engine.poll(0);
    engine.detach(1, "a");
    engine.attach(2, { subscriberId: "b", store, durable: "billing", prefetch: 1 });
    expect(counts(engine.poll(2).deliveries)).toEqual([2]);
    expect(engine.poll(102).proposals).toMatchObject([{ sequences: [1] }]);
  });
});

describe("shared durable", () => {
  it("spreads work to the subscriber with the most free slots, ties round robin", () => {
    const { engine, publish } = setup("work", { type: "shared" });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 4 });
    engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 2 });
    publish(6);
    const { deliveries } = engine.poll(0);
    expect(deliveries.map((delivery) => delivery.subscriberId)).toEqual(["a", "a", "b", "a", "b", "a"]);
  });

  it("a detached subscriber's messages go to another subscriber at once", () => {
    const { engine, publish } = setup("work", { type: "shared" });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 2 });
    engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 2 });
    publish(2);
    engine.poll(0);
    expect(engine.stats().durables[0]?.subscribers).toEqual([
      { subscriberId: "a", prefetch: 2, inFlight: 1 },
      { subscriberId: "b", prefetch: 2, inFlight: 1 },
    ]);
    engine.detach(1, "b");
    const { deliveries } = engine.poll(1);
    expect(deliveries).toMatchObject([{ subscriberId: "a", deliveryCount: 2 }]);
  });

  it("a message returned by a detach gets a fresh ack wait from its new delivery", () => {
    const { engine, publish } = setup("work", { type: "shared", ackWaitMs: 100 });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 1 });
    engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 1 });
    publish(1);
    expect(engine.poll(0).deliveries).toMatchObject([{ subscriberId: "a" }]);
    engine.detach(30, "a");
    expect(engine.poll(30).deliveries).toMatchObject([{ subscriberId: "b", deliveryCount: 2 }]);
    expect(engine.nextDeadlineMs()).toBe(130);
    expect(engine.poll(100).deliveries).toEqual([]);
    expect(engine.poll(130).deliveries).toMatchObject([{ subscriberId: "b", deliveryCount: 3 }]);
  });

  it("an expired message may go to another subscriber", () => {
    const { engine, publish } = setup("work", { type: "shared", ackWaitMs: 100 });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 1 });
    engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 1 });
    publish(1);
    expect(engine.poll(0).deliveries).toMatchObject([{ subscriberId: "a" }]);
    expect(engine.poll(100).deliveries).toMatchObject([{ subscriberId: "b", deliveryCount: 2 }]);
  });

  it("refuses subscribers past the per-durable bound", () => {
    const { engine } = setup("work", { type: "shared" }, { subscribersPerDurableMax: 2 });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 1 });
    engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 1 });
    expect(engine.attach(0, { subscriberId: "c", store, durable: "work", prefetch: 1 })).toMatchObject({ ok: false, reason: "too-many-subscribers" });
  });
});

describe("attach refusals", () => {
  it("names an unknown durable, a map, and a prefetch out of range", () => {
    const view = new FakeView().addDurable(store, "prices", { type: "map", keyField: "id" });
    const engine = new DeliveryEngine(view, { prefetchMax: 100 });
    expect(engine.attach(0, { subscriberId: "a", store, durable: "nope", prefetch: 1 })).toEqual({
      ok: false,
      reason: "unknown-durable",
      detail: "store orders has no durable nope",
    });
    const map = engine.attach(0, { subscriberId: "a", store, durable: "prices", prefetch: 1 });
    expect(map).toMatchObject({ ok: false, reason: "wrong-durable-type" });
    expect(map.ok === false && map.detail).toMatch(/map API/);
    for (const prefetch of [0, 101, 1.5, Number.NaN]) {
      expect(engine.attach(0, { subscriberId: "a", store, durable: "prices", prefetch })).toMatchObject({ ok: false, reason: "invalid-prefetch" });
    }
  });

  it("refuses subscribers past the engine's bound", () => {
    const { engine } = setup("work", { type: "shared" }, { subscribersMax: 1 });
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 1 });
    expect(engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 1 })).toMatchObject({ ok: false, reason: "too-many-subscribers" });
    engine.detach(0, "a");
    expect(engine.attach(0, { subscriberId: "b", store, durable: "work", prefetch: 1 })).toEqual({ ok: true });
  });
});

describe("messages that leave the view", () => {
  it("are skipped when their turn comes and their records dropped", () => {
    const { view, engine, publish } = setup("billing", { type: "standard", ackWaitMs: 100 });
    publish(3);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1]);
    view.ack(store, "billing", [1]); // acked by entries the engine was not told about
    view.expire(store, 2);
    expect(engine.poll(50).deliveries).toEqual([]);
    expect(sequences(engine.poll(100).deliveries)).toEqual([3]);
    expect(engine.stats().records).toBe(1);
  });

  it("a durable removed from the view delivers nothing more", () => {
    const { view, engine, publish } = setup("billing", { type: "standard" });
    publish(1);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 1 });
    view.removeDurable(store, "billing");
    expect(engine.poll(0).deliveries).toEqual([]);
  });
});

describe("bounds", () => {
  it("deliveries per poll are shared round robin, so one durable cannot starve another", () => {
    const view = new FakeView().addDurable(store, "big", { type: "standard" }).addDurable(store, "small", { type: "standard" });
    const engine = new DeliveryEngine(view, { deliveriesPerPollMax: 4 });
    for (let index = 0; index < 10; index++) view.publish(store, ["big"]);
    view.publish(store, ["small"]);
    engine.attach(0, { subscriberId: "a", store, durable: "big", prefetch: 100 });
    engine.attach(0, { subscriberId: "b", store, durable: "small", prefetch: 100 });
    const first = engine.poll(0);
    expect(first.deliveries).toHaveLength(4);
    expect(first.deliveries.filter((delivery) => delivery.durable === "small")).toHaveLength(1);
    expect(first.more).toBe(true);
    expect(engine.poll(0).deliveries).toHaveLength(4);
    const last = engine.poll(0);
    expect(last.deliveries).toHaveLength(3);
    expect(last.more).toBe(false);
  });

  it("no new message is taken once the records bound is reached", () => {
    const { engine, publish, ack } = setup("work", { type: "shared" }, { recordsMax: 3 });
    publish(5);
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 10 });
    expect(sequences(engine.poll(0).deliveries)).toEqual([1, 2, 3]);
    expect(engine.poll(1).deliveries).toEqual([]);
    ack([2]);
    expect(sequences(engine.poll(2).deliveries)).toEqual([4]);
  });

  it("expirations per poll are bounded; the rest come with the next poll", () => {
    const { engine, publish } = setup("work", { type: "shared", ackWaitMs: 10 }, { expirationsPerPollMax: 2 });
    publish(3);
    engine.attach(0, { subscriberId: "a", store, durable: "work", prefetch: 10 });
    engine.poll(0);
    const first = engine.poll(10);
    expect(sequences(first.deliveries)).toEqual([1, 2]);
    expect(first.more).toBe(true);
    expect(engine.nextDeadlineMs()).toBe(10);
    expect(sequences(engine.poll(10).deliveries)).toEqual([3]);
  });

  it("time never goes back", () => {
    const { engine } = setup("work", { type: "shared" });
    engine.poll(10);
    expect(() => engine.poll(9)).toThrow(/time went back/);
  });
});

describe("failover", () => {
  it("a new engine over the same view delivers everything pending again, at most prefetch at a time", () => {
    const { view, engine, publish, ack } = setup("billing", { type: "standard" });
    publish(6);
    engine.attach(0, { subscriberId: "a", store, durable: "billing", prefetch: 4 });
    engine.poll(0);
    ack([1, 2]);
    // The leader dies; the new one starts a fresh engine over its own (replicated) view.
    const successor = new DeliveryEngine(view);
    successor.attach(0, { subscriberId: "a2", store, durable: "billing", prefetch: 2 });
    const first = successor.poll(0);
    expect(sequences(first.deliveries)).toEqual([3, 4]);
    expect(counts(first.deliveries)).toEqual([1, 1]);
    expect(successor.poll(1).deliveries).toEqual([]);
    view.ack(store, "billing", [3, 4]);
    successor.acked(store, "billing", [3, 4]);
    expect(sequences(successor.poll(2).deliveries)).toEqual([5, 6]);
  });
});
