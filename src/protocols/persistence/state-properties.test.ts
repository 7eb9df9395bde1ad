import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPersistenceState } from "./persistence-state.js";
import { bytesOf, standard, storeConfig, template, testLimits } from "./state-test-support.js";
import type { ClusterStoresConfig, Command, PersistenceState } from "./state-types.js";

const config: ClusterStoresConfig = {
  stores: [
    storeConfig("S", {
      durables: [
        standard("all", { deadLetterStore: "D" }),
        standard("even", { type: "shared", matcher: { tests: [{ field: "even", equals: true }] } }),
        { name: "last", type: "last-value", keyField: "k" },
        { name: "table", type: "map" },
      ],
      templates: [template("worker"), template("latest", { type: "last-value", keyField: "meta.k" })],
      limits: { messages: 12, ageMs: 50, dynamicDurablesMax: 3 },
      full: "discard-old",
    }),
    storeConfig("D", { durables: [standard("inspect")], limits: { messages: 3 } }),
  ],
};

const key = fc.constantFrom("a", "b", "c", "d", "");
const arbitraryCommand: fc.Arbitrary<(atMs: number) => Command> = fc.oneof(
  fc.tuple(fc.constantFrom("p", "q", "r", "s", "t", "u"), fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), key, fc.boolean()), { maxLength: 4 })).map(
    ([publisherId, items]) => (atMs: number): Command => ({
      type: "publish",
      atMs,
      store: "S",
      publisherId,
      items: items.map(([sequence, k, even]) => ({ sequence, message: bytesOf({ k, even, meta: new Map([["k", { type: "int", value: BigInt(sequence) }]]) }) })),
    }),
  ),
  fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 5 }).chain((sequences) =>
    fc.constantFrom("all", "even", "last", "w1").map((durable) => (atMs: number): Command => ({ type: "ack", atMs, store: "S", durable, sequences })),
  ),
  fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 3 }).map((sequences) => (atMs: number): Command => ({ type: "dead-letter", atMs, store: "S", durable: "all", sequences })),
  fc.tuple(fc.constantFrom("w1", "w2", "l1", "l2"), fc.boolean()).map(
    ([durable, odd]) =>
      (atMs: number): Command => ({ type: "create-durable", atMs, store: "S", durable, template: durable.startsWith("l") ? "latest" : "worker", ...(odd ? { matcher: { tests: [{ field: "even", equals: false }] } } : {}) }),
  ),
  fc.tuple(key, fc.boolean()).map(([k, remove]) => (atMs: number): Command =>
    remove ? { type: "map-remove", atMs, store: "S", durable: "table", key: k } : { type: "map-set", atMs, store: "S", durable: "table", key: k, message: bytesOf({ set: k }) },
  ),
  fc.constant((atMs: number): Command => ({ type: "tick", atMs })),
);

/** Commands with log times that mostly advance (sometimes backwards: a new leader's clock). */
const arbitraryLog = fc.array(fc.tuple(arbitraryCommand, fc.integer({ min: -5, max: 15 })), { maxLength: 60 }).map((steps) => {
  let atMs = 0;
  return steps.map(([make, step]) => make((atMs = Math.max(0, atMs + step))));
});

/** Every view answer, as plain data, for comparing two states. */
function everything(state: PersistenceState): unknown {
  return {
    appliedIndex: state.appliedIndex,
    logTimeMs: state.logTimeMs,
    stores: state.stores().map((store) => ({ ...store, config: undefined })),
    durables: state.stores().map((store) =>
      state.durables(store.name).map((durable) => ({
        durable,
        pending: state.pendingAfter(store.name, durable.name, 0, 1000),
        entries: state.entriesAfter(store.name, durable.name, "", 1000).map(([k, message]) => [k, message.storeSequence]),
        updates: state.updatesAfter(store.name, durable.name, 0, 1000).map(([k, message]) => [k, message.storeSequence]),
      })),
    ),
    messages: state.stores().map((store) => Array.from({ length: store.lastSequence }, (_, index) => state.message(store.name, index + 1) ?? null)),
  };
}

describe("state properties", () => {
  it("every message held by a durable is retained, and nothing else is (refcounts)", () => {
    fc.assert(
      fc.property(arbitraryLog, (commands) => {
        const state = createPersistenceState(config, { limits: testLimits });
        commands.forEach((command, index) => state.apply(index + 1, command));
        for (const store of state.stores()) {
          const held = new Set<number>();
          for (const durable of state.durables(store.name)) {
            for (const sequence of state.pendingAfter(store.name, durable.name, 0, 1000)) held.add(sequence);
            for (const [, message] of state.entriesAfter(store.name, durable.name, "", 1000)) held.add(message.storeSequence);
          }
          const retained = Array.from({ length: store.lastSequence }, (_, index) => index + 1).filter((sequence) => state.message(store.name, sequence) !== undefined);
          expect(retained).toEqual([...held].sort((a, b) => a - b));
          expect(store.messages).toBe(retained.length);
          expect(store.bytes).toBe(retained.reduce((sum, sequence) => sum + (state.message(store.name, sequence)?.message.length ?? 0), 0));
        }
      }),
    );
  });

  it("a map durable agrees with a plain Map under random sets and removes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "bb", "ab"), fc.boolean()), { maxLength: 80 }), (operations) => {
        const state = createPersistenceState({ stores: [storeConfig("M", { durables: [{ name: "table", type: "map" }] })] });
        const model = new Map<string, number>();
        operations.forEach(([k, remove], index) => {
          const result = state.apply(index + 1, remove ? { type: "map-remove", atMs: 0, store: "M", durable: "table", key: k } : { type: "map-set", atMs: 0, store: "M", durable: "table", key: k, message: bytesOf({ index: BigInt(index) }) });
          if (remove) {
            expect(result).toEqual({ type: "map-remove", removed: model.has(k) });
            model.delete(k);
          } else if (result.type === "map-set") model.set(k, result.storeSequence);
        });
        const expected = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
        expect(state.entriesAfter("M", "table", "", 100).map(([k, message]) => [k, message.storeSequence])).toEqual(expected);
        expect(state.entriesAfter("M", "table", "b", 100).map(([k]) => k)).toEqual(expected.map(([k]) => k).filter((k) => k > "b"));
        expect(state.updatesAfter("M", "table", 0, 100).map(([, message]) => message.storeSequence)).toEqual([...model.values()].sort((a, b) => a - b));
        expect(state.store("M")?.messages).toBe(model.size);
      }),
    );
  });

  it("a last-value durable keeps the newest message per key value", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom<string | bigint | boolean>("x", "y", 1n, 2n, true), fc.nat()), { maxLength: 60 }), (publishes) => {
        const state = createPersistenceState({ stores: [storeConfig("L", { durables: [{ name: "last", type: "last-value", keyField: "k" }] })] });
        const model = new Map<string, number>();
        publishes.forEach(([k, payload], index) => {
          const result = state.apply(index + 1, { type: "publish", atMs: 0, store: "L", publisherId: "p", items: [{ sequence: index + 1, message: bytesOf({ k, payload: BigInt(payload) }) }] });
          const outcome = result.type === "publish" ? result.outcomes[0] : undefined;
          if (outcome?.status === "stored") model.set(String(k), outcome.storeSequence);
        });
        expect(state.entriesAfter("L", "last", "", 100).map(([k, message]) => [k, message.storeSequence])).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
        expect(state.store("L")?.messages).toBe(model.size);
      }),
    );
  });

  it("a state restored from a snapshot behaves exactly like the original", () => {
    fc.assert(
      fc.property(arbitraryLog, arbitraryLog, (before, after) => {
        const original = createPersistenceState(config, { limits: testLimits });
        before.forEach((command, index) => original.apply(index + 1, command));
        const bytes = original.snapshot();
        expect(original.snapshot()).toEqual(bytes);
        const restored = createPersistenceState(config, { limits: testLimits });
        restored.apply(1, { type: "tick", atMs: 0 });
        restored.restore(bytes);
        expect(everything(restored)).toEqual(everything(original));
        after.forEach((command, offset) => {
          const index = before.length + offset + 1;
          expect(restored.apply(index, command)).toEqual(original.apply(index, command));
        });
        expect(everything(restored)).toEqual(everything(original));
        expect(Buffer.from(restored.snapshot()).equals(Buffer.from(original.snapshot()))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("a snapshot captured and then encoded a frame at a time, while the state goes on, has the bytes of a whole snapshot taken at the capture", () => {
    fc.assert(
      fc.property(arbitraryLog, arbitraryLog, (before, after) => {
        const state = createPersistenceState(config, { limits: testLimits });
        before.forEach((command, index) => state.apply(index + 1, command));
        const whole = state.snapshot();
        const encoding = state.captureSnapshot();
        let steps = 0;
        let bytes: Uint8Array | null = null;
        while (bytes === null) {
          // One frame per step; the state changes between steps, as applies go on meanwhile.
          bytes = encoding.step(() => false);
          const command = after[steps++];
          if (command !== undefined) state.apply(before.length + steps, command);
        }
        expect(Buffer.from(bytes).equals(Buffer.from(whole))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("a restore a frame at a time leaves the state as it was until its last frame, then equals a whole restore", () => {
    fc.assert(
      fc.property(arbitraryLog, arbitraryLog, (before, other) => {
        const source = createPersistenceState(config, { limits: testLimits });
        before.forEach((command, index) => source.apply(index + 1, command));
        const bytes = source.snapshot();
        const target = createPersistenceState(config, { limits: testLimits });
        other.forEach((command, index) => target.apply(index + 1, command));
        const untouched = everything(target);
        const restoring = target.beginRestore(bytes);
        while (restoring.step(() => false) === null) expect(everything(target)).toEqual(untouched);
        expect(everything(target)).toEqual(everything(source));
        expect(restoring.progressBytes).toBe(bytes.length);
      }),
      { numRuns: 200 },
    );
  });
});
