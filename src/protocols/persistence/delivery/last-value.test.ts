import { describe, expect, it } from "vitest";
import { DeliveryEngine, type Delivery } from "./delivery-engine.js";
import { FakeView } from "./fake-view.js";

const store = "prices";
const durable = "latest";

function setup() {
  const view = new FakeView().addDurable(store, durable, { type: "last-value", keyField: "symbol" });
  const engine = new DeliveryEngine(view);
  const set = (key: string): number => view.setKey(store, durable, key);
  return { view, engine, set };
}

const sent = (deliveries: readonly Delivery[]): string[] => deliveries.map((delivery) => `${delivery.key}@${delivery.storeSequence}`);

describe("last-value durable", () => {
  it("a new subscriber gets the current entries in key order, then live updates", () => {
    const { engine, set } = setup();
    set("c");
    set("a");
    set("b");
    set("a");
    engine.attach(0, { subscriberId: "s", store, durable, prefetch: 10 });
    const snapshot = engine.poll(0).deliveries;
    expect(sent(snapshot)).toEqual(["a@4", "b@3", "c@1"]);
    expect(snapshot[0]).toMatchObject({ subscriberId: "s", store, durable, deliveryCount: 1, message: { storeSequence: 4 } });
    set("b");
    expect(sent(engine.poll(1).deliveries)).toEqual(["b@5"]);
    expect(engine.poll(2).deliveries).toEqual([]);
  });

  it("a delivery spends one credit; credit gives them back, never beyond the prefetch", () => {
    const { engine, set } = setup();
    for (const key of ["a", "b", "c", "d", "e"]) set(key);
    engine.attach(0, { subscriberId: "s", store, durable, prefetch: 2 });
    expect(sent(engine.poll(0).deliveries)).toEqual(["a@1", "b@2"]);
    expect(engine.poll(1).deliveries).toEqual([]);
    engine.credit("s", 1);
    expect(sent(engine.poll(2).deliveries)).toEqual(["c@3"]);
    engine.credit("s", 100);
    expect(sent(engine.poll(3).deliveries)).toEqual(["d@4", "e@5"]);
    expect(engine.stats().durables).toMatchObject([{ type: "last-value", inFlight: 2, subscribers: [{ subscriberId: "s", prefetch: 2, inFlight: 2 }] }]);
  });

  it("a key updated before its older value was sent is sent once, newest value only", () => {
    const { engine, set } = setup();
    set("a");
    engine.attach(0, { subscriberId: "s", store, durable, prefetch: 1 });
    expect(sent(engine.poll(0).deliveries)).toEqual(["a@1"]);
    set("x");
    set("x");
    set("x");
    engine.credit("s", 1);
    expect(sent(engine.poll(1).deliveries)).toEqual(["x@4"]);
    engine.credit("s", 1);
    expect(engine.poll(2).deliveries).toEqual([]);
  });

  it("keys updated during a paged snapshot are neither missed nor sent twice", () => {
    const { engine, set } = setup();
    set("a");
    set("b");
    set("c");
    engine.attach(0, { subscriberId: "s", store, durable, prefetch: 1 });
    expect(sent(engine.poll(0).deliveries)).toEqual(["a@1"]);
    set("a"); // after the snapshot passed it
    set("c"); // before the snapshot reaches it
    const received: string[] = [];
    for (let step = 1; step <= 6; step++) {
      engine.credit("s", 1);
      received.push(...sent(engine.poll(step).deliveries));
    }
    expect(received).toEqual(["b@2", "a@4", "c@5"]);
  });

  it("every subscriber gets its own snapshot", () => {
    const { engine, set } = setup();
    set("a");
    engine.attach(0, { subscriberId: "s", store, durable, prefetch: 5 });
    expect(sent(engine.poll(0).deliveries)).toEqual(["a@1"]);
    engine.attach(1, { subscriberId: "t", store, durable, prefetch: 5 });
    expect(engine.poll(1).deliveries).toMatchObject([{ subscriberId: "t", key: "a" }]);
    engine.detach(2, "s");
    set("b");
    expect(engine.poll(2).deliveries).toMatchObject([{ subscriberId: "t", key: "b" }]);
  });
});
