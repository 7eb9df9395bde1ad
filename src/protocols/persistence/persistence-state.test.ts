import { describe, expect, it } from "vitest";
import { bytesOf, Harness, standard, storeConfig, template } from "./state-test-support.js";

const small = bytesOf({ subject: "ORDERS.EU.new", id: 1n });

describe("publishing and acking", () => {
  it("stores each retained message under the next store sequence, starting at 1", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")] })]);
    const outcomes = harness.publish("ORDERS", "p", [[1, small], [2, small]]);
    expect(outcomes).toEqual([
      { status: "stored", storeSequence: 1, retainedBy: 1 },
      { status: "stored", storeSequence: 2, retainedBy: 1 },
    ]);
    expect(harness.state.pendingAfter("ORDERS", "all", 0, 10)).toEqual([1, 2]);
    expect(harness.state.message("ORDERS", 2)?.message).toEqual(small);
  });

  it("a retried publish with the same publisher id and sequence is not stored twice", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")] })]);
    harness.publishOne("ORDERS", "p", 7, small);
    expect(harness.publishOne("ORDERS", "p", 7, small)).toEqual({ status: "duplicate", storeSequence: 1 });
    expect(harness.publishOne("ORDERS", "q", 7, small)).toMatchObject({ status: "stored", storeSequence: 2 });
    expect(harness.state.store("ORDERS")?.messages).toBe(2);
  });

  it("a retry of a rejected publish gets the same rejection again", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")], limits: { messages: 1 } })]);
    harness.publishOne("ORDERS", "p", 1, small);
    const first = harness.publishOne("ORDERS", "p", 2, small);
    expect(first).toMatchObject({ status: "rejected", reason: "store-full" });
    harness.ack("ORDERS", "all", [1]);
    expect(harness.publishOne("ORDERS", "p", 2, small)).toEqual(first);
  });

  it("a sequence older than the publisher's window is refused, not stored", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")] })]);
    harness.publishOne("ORDERS", "p", 100, small);
    expect(harness.publishOne("ORDERS", "p", 92, small)).toMatchObject({ status: "rejected", reason: "duplicate-outside-window" });
    expect(harness.publishOne("ORDERS", "p", 93, small)).toMatchObject({ status: "stored" });
  });

  it("a publisher silent past the idle time is forgotten: its retry is stored again", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")] })]);
    harness.publishOne("ORDERS", "p", 1, small);
    harness.tick(1000);
    expect(harness.publishOne("ORDERS", "p", 1, small)).toMatchObject({ status: "stored", storeSequence: 2 });
  });

  it("a message no durable is interested in is not kept but still takes a sequence", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("us", { matcher: { subject: "ORDERS.US.>" } })] })]);
    expect(harness.publishOne("ORDERS", "p", 1, small)).toEqual({ status: "stored", storeSequence: 1, retainedBy: 0 });
    expect(harness.publishOne("ORDERS", "p", 2, bytesOf({ subject: "ORDERS.US.new" }))).toEqual({ status: "stored", storeSequence: 2, retainedBy: 1 });
    expect(harness.state.message("ORDERS", 1)).toBeUndefined();
    expect(harness.state.store("ORDERS")).toMatchObject({ messages: 1, lastSequence: 2 });
  });

  it("a message is kept until every durable holding it acked it; acks are idempotent", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("a"), standard("b", { type: "shared" })] })]);
    harness.publishOne("ORDERS", "p", 1, small);
    expect(harness.ack("ORDERS", "a", [1, 99])).toEqual({ type: "ack", acked: 1 });
    expect(harness.ack("ORDERS", "a", [1])).toEqual({ type: "ack", acked: 0 });
    expect(harness.state.message("ORDERS", 1)).toBeDefined();
    expect(harness.state.isPending("ORDERS", "a", 1)).toBe(false);
    expect(harness.state.isPending("ORDERS", "b", 1)).toBe(true);
    harness.ack("ORDERS", "b", [1]);
    expect(harness.state.message("ORDERS", 1)).toBeUndefined();
    expect(harness.state.store("ORDERS")).toMatchObject({ messages: 0, bytes: 0 });
  });

  it("a message that does not decode is rejected when a durable reads fields", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("eu", { matcher: { subject: "ORDERS.EU.*" } })] })]);
    expect(harness.publishOne("ORDERS", "p", 1, new Uint8Array([9, 9]))).toMatchObject({ status: "rejected", reason: "invalid-message" });
  });

  it("a message larger than the store's maximum is rejected, naming its size and the limit", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")], limits: { messageBytesMax: 10 } })]);
    const outcome = harness.publishOne("ORDERS", "p", 1, new Uint8Array(11));
    expect(outcome).toMatchObject({ status: "rejected", reason: "too-large" });
    expect(outcome.status === "rejected" && outcome.detail).toMatch(/11 bytes.*at most 10 bytes/);
  });

  it("unknown stores and durables are rejected with what exists", () => {
    const harness = new Harness([storeConfig("ORDERS", { durables: [standard("all")] })]);
    expect(harness.apply({ type: "publish", atMs: 0, store: "NOPE", publisherId: "p", items: [] })).toMatchObject({ type: "rejected", reason: "unknown-store", detail: expect.stringContaining('"ORDERS"') });
    expect(harness.ack("ORDERS", "nope", [1])).toMatchObject({ type: "rejected", reason: "unknown-durable", detail: expect.stringContaining('"all"') });
  });

  it("the applied index moves by one per entry; a gap is a programmer error", () => {
    const harness = new Harness([storeConfig("ORDERS")]);
    harness.state.skip(1);
    expect(harness.state.appliedIndex).toBe(1);
    expect(() => harness.state.apply(3, { type: "tick", atMs: 0 })).toThrow(/after 1/);
  });

  it("log time never goes backwards across leaders", () => {
    const harness = new Harness([storeConfig("ORDERS")]);
    harness.tick(500);
    harness.tick(200);
    expect(harness.state.logTimeMs).toBe(500);
  });
});

describe("limits", () => {
  const full = (policy: "reject-new" | "discard-old", limits: object) => new Harness([storeConfig("ORDERS", { durables: [standard("a"), standard("b")], full: policy, limits })]);

  it("reject-new refuses a message past the message limit, naming the limit and usage", () => {
    const harness = full("reject-new", { messages: 2 });
    harness.publish("ORDERS", "p", [[1, small], [2, small]]);
    const outcome = harness.publishOne("ORDERS", "p", 3, small);
    expect(outcome).toMatchObject({ status: "rejected", reason: "store-full" });
    expect(outcome.status === "rejected" && outcome.detail).toMatch(/2 of 2 messages.*discard-old/);
  });

  it("reject-new refuses a message past the byte limit", () => {
    const harness = full("reject-new", { bytes: small.length * 2 + 1 });
    harness.publish("ORDERS", "p", [[1, small], [2, small]]);
    expect(harness.publishOne("ORDERS", "p", 3, small)).toMatchObject({ status: "rejected", reason: "store-full" });
  });

  it("discard-old removes the oldest messages from every durable until the new one fits", () => {
    const harness = full("discard-old", { messages: 2 });
    harness.publish("ORDERS", "p", [[1, small], [2, small], [3, small]]);
    expect(harness.state.pendingAfter("ORDERS", "a", 0, 10)).toEqual([2, 3]);
    expect(harness.state.pendingAfter("ORDERS", "b", 0, 10)).toEqual([2, 3]);
    expect(harness.state.message("ORDERS", 1)).toBeUndefined();
  });

  it("a message that could never fit is refused even under discard-old", () => {
    const harness = full("discard-old", { bytes: small.length - 1 });
    expect(harness.publishOne("ORDERS", "p", 1, small)).toMatchObject({ status: "rejected", reason: "store-full" });
  });

  it("messages older than the age limit are removed at the next command", () => {
    const harness = full("reject-new", { ageMs: 100 });
    harness.publishOne("ORDERS", "p", 1, small);
    harness.atMs = 50;
    harness.publishOne("ORDERS", "p", 2, small);
    harness.tick(99);
    expect(harness.state.pendingAfter("ORDERS", "a", 0, 10)).toEqual([1, 2]);
    harness.tick(100);
    expect(harness.state.pendingAfter("ORDERS", "a", 0, 10)).toEqual([2]);
    harness.tick(150);
    expect(harness.state.store("ORDERS")).toMatchObject({ messages: 0, bytes: 0 });
  });
});

describe("dynamic durables", () => {
  const stores = () => [storeConfig("ORDERS", { templates: [template("worker")], limits: { dynamicDurablesMax: 2 } })];

  it("a durable made from a template gets only messages published after its creation", () => {
    const harness = new Harness(stores());
    harness.publishOne("ORDERS", "p", 1, small);
    expect(harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w1", template: "worker" })).toEqual({ type: "create-durable", created: true });
    harness.publishOne("ORDERS", "p", 2, small);
    expect(harness.state.pendingAfter("ORDERS", "w1", 0, 10)).toEqual([2]);
    expect(harness.state.durable("ORDERS", "w1")).toMatchObject({ dynamic: true, backlog: 1, settings: { type: "standard" } });
  });

  it("creating an existing durable is idempotent", () => {
    const harness = new Harness(stores());
    harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w1", template: "worker" });
    expect(harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w1", template: "worker" })).toEqual({ type: "create-durable", created: false });
  });

  it("an unknown template, an invalid matcher and one durable too many are rejected", () => {
    const harness = new Harness(stores());
    expect(harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "x", template: "nope" })).toMatchObject({ reason: "unknown-template", detail: expect.stringContaining('"worker"') });
    expect(harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "x", template: "worker", matcher: { subject: "A..B" } })).toMatchObject({
      reason: "invalid-matcher",
      detail: expect.stringContaining("empty token"),
    });
    harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w1", template: "worker" });
    harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w2", template: "worker" });
    expect(harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "w3", template: "worker" })).toMatchObject({ reason: "too-many-durables" });
  });

  it("a dynamic durable's matcher selects what it retains", () => {
    const harness = new Harness(stores());
    harness.apply({ type: "create-durable", atMs: 0, store: "ORDERS", durable: "eu", template: "worker", matcher: { tests: [{ field: "id", equals: 2n }] } });
    harness.publish("ORDERS", "p", [[1, bytesOf({ id: 1n })], [2, bytesOf({ id: 2n })], [3, bytesOf({ id: 2 })]]);
    expect(harness.state.pendingAfter("ORDERS", "eu", 0, 10)).toEqual([2]);
  });
});

describe("dead letters", () => {
  const stores = (dlqLimits = {}) => [
    storeConfig("ORDERS", { durables: [standard("all", { deliveryLimit: 3, deadLetterStore: "DLQ" }), standard("drop", { deliveryLimit: 3 })] }),
    storeConfig("DLQ", { durables: [standard("inspect")], limits: dlqLimits }),
  ];

  it("messages move to the dead-letter store under new sequences and leave the durable", () => {
    const harness = new Harness(stores());
    harness.publish("ORDERS", "p", [[1, small], [2, small]]);
    expect(harness.apply({ type: "dead-letter", atMs: 0, store: "ORDERS", durable: "all", sequences: [2, 5] })).toEqual({ type: "dead-letter", moved: 1, dropped: 0 });
    expect(harness.state.pendingAfter("ORDERS", "all", 0, 10)).toEqual([1]);
    expect(harness.state.pendingAfter("DLQ", "inspect", 0, 10)).toEqual([1]);
    expect(harness.state.message("DLQ", 1)?.message).toEqual(small);
  });

  it("without a dead-letter store, or when it refuses, the message is dropped", () => {
    const harness = new Harness(stores({ messages: 0 }));
    harness.publish("ORDERS", "p", [[1, small]]);
    expect(harness.apply({ type: "dead-letter", atMs: 0, store: "ORDERS", durable: "drop", sequences: [1] })).toEqual({ type: "dead-letter", moved: 0, dropped: 1 });
    expect(harness.apply({ type: "dead-letter", atMs: 0, store: "ORDERS", durable: "all", sequences: [1] })).toEqual({ type: "dead-letter", moved: 0, dropped: 1 });
    expect(harness.state.store("ORDERS")?.messages).toBe(0);
  });
});
