import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { createPersistenceState } from "./persistence-state.js";
import { snapshotChunkItems } from "./state-snapshot-encoder.js";
import { bytesOf, standard, storeConfig, testLimits } from "./state-test-support.js";
import type { ClusterStoresConfig, Command } from "./state-types.js";

const orders: ClusterStoresConfig = { stores: [storeConfig("orders", { durables: [standard("billing"), { name: "latest", type: "last-value", keyField: "k" }] })] };

function publish(index: number, sequence: number): Command {
  return { type: "publish", atMs: index, store: "orders", publisherId: "p", items: [{ sequence, message: bytesOf({ k: `k${sequence % 7}`, n: BigInt(sequence) }) }] };
}

describe("persistence snapshots: formats and slices", () => {
  it("a snapshot of format 1 (written before format 2) still restores", () => {
    const message = bytesOf({ k: "a", n: 1n });
    // [format, appliedIndex, logTimeMs, [store]]; store: [name, lastSequence, messages, durables, publishers].
    const formatOne = new Packr({ useRecords: false }).pack([1, 3, 500, [["orders", 1, [1, 400, message], [["billing", null, [1]], ["latest", null, ["a", 1]]], [["p", 400, 1, [1, 1]]]]]]);
    const state = createPersistenceState(orders, { limits: testLimits });
    state.restore(formatOne);
    expect(state.appliedIndex).toBe(3);
    expect(state.logTimeMs).toBe(500);
    expect(state.durable("orders", "billing")?.backlog).toBe(1);
    expect(state.entry("orders", "latest", "a")?.storeSequence).toBe(1);
    // The dedup window came back too: a retry of sequence 1 is a duplicate.
    const retry = state.apply(4, { type: "publish", atMs: 600, store: "orders", publisherId: "p", items: [{ sequence: 1, message }] });
    expect(retry).toEqual({ type: "publish", outcomes: [{ status: "duplicate", storeSequence: 1 }] });
  });

  it("a store configured after the snapshot was taken starts empty when it is restored", () => {
    const before = createPersistenceState(orders, { limits: testLimits });
    before.apply(1, publish(1, 1));
    const grown: ClusterStoresConfig = { stores: [...orders.stores, storeConfig("tiny", { durables: [standard("all")] })] };
    const after = createPersistenceState(grown, { limits: testLimits });
    after.restore(before.snapshot());
    expect(after.store("orders")?.messages).toBe(1);
    expect(after.store("tiny")?.messages).toBe(0);
  });

  it("a large state is encoded and restored in many small frames, one per step", () => {
    const count = 5 * snapshotChunkItems;
    const state = createPersistenceState(orders, { limits: testLimits });
    for (let index = 1; index <= count; index++) state.apply(index, publish(index, index));
    const encoding = state.captureSnapshot();
    let encodeSteps = 1;
    while (encoding.step(() => false) === null) encodeSteps++;
    const bytes = state.snapshot();
    const restored = createPersistenceState(orders, { limits: testLimits });
    const restoring = restored.beginRestore(bytes);
    let restoreSteps = 1;
    while (restoring.step(() => false) === null) restoreSteps++;
    // Messages and billing's backlog each take count / chunk frames; the rest a few more. A
    // restore also checks each chunk of messages once the durables took their references.
    expect(encodeSteps).toBeGreaterThanOrEqual(2 * (count / snapshotChunkItems));
    expect(restoreSteps).toBeGreaterThanOrEqual(encodeSteps + count / snapshotChunkItems);
    expect(restored.store("orders")?.messages).toBe(count);
    expect(restored.durable("orders", "billing")?.backlog).toBe(count);
  });
});
