import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../kernel/assert.js";
import { decodeCommand, encodeCommand } from "./command-codec.js";
import { compileMatcher } from "./matcher.js";
import type { Command } from "./state-types.js";

const name = fc.string({ minLength: 1, maxLength: 12 });
const sequence = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const atMs = fc.nat();
const bytes = fc.uint8Array({ maxLength: 64 });

const arbitraryCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant("publish" as const), atMs, store: name, publisherId: name, items: fc.array(fc.record({ sequence, message: bytes }), { maxLength: 8 }) }),
  fc.record({ type: fc.constantFrom("ack" as const, "dead-letter" as const), atMs, store: name, durable: name, sequences: fc.array(sequence, { maxLength: 8 }) }),
  fc.record({ type: fc.constant("create-durable" as const), atMs, store: name, durable: name, template: name }),
  fc.record({ type: fc.constant("map-set" as const), atMs, store: name, durable: name, key: fc.string(), message: bytes }),
  fc.record({ type: fc.constant("map-remove" as const), atMs, store: name, durable: name, key: fc.string() }),
  fc.record({ type: fc.constant("tick" as const), atMs }),
);

/** Decoded bytes may be Buffers; compare them as plain bytes. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

describe("command codec", () => {
  it("every command round-trips", () => {
    fc.assert(
      fc.property(arbitraryCommand, (command) => {
        const decoded = decodeCommand(encodeCommand(command));
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(plain(decoded.command)).toEqual(plain(command));
      }),
    );
  });

  it("publish items keep their message bytes raw", () => {
    const message = new Uint8Array([1, 2, 3]);
    const decoded = decodeCommand(encodeCommand({ type: "publish", atMs: 1, store: "S", publisherId: "p", items: [{ sequence: 1, message }] }));
    const decodedMessage = decoded.ok && decoded.command.type === "publish" ? decoded.command.items[0]?.message : undefined;
    expect(decodedMessage).toBeInstanceOf(Uint8Array);
    expect([...(decodedMessage ?? [])]).toEqual([...message]);
  });

  it("a matcher keeps its int operands and nested messages exact", () => {
    const matcher = { subject: "ORDERS.>", tests: [{ field: "id", equals: 5n }, { field: "price", equals: 5 }, { field: "customer.region", present: true as const }] };
    const decoded = decodeCommand(encodeCommand({ type: "create-durable", atMs: 0, store: "S", durable: "d", template: "t", matcher }));
    if (!decoded.ok || decoded.command.type !== "create-durable") throw new Error("did not decode");
    const original = compileMatcher(matcher);
    const again = compileMatcher(decoded.command.matcher);
    expect(again.ok && original.ok && again.matcher.tests).toEqual(original.ok && original.matcher.tests);
  });

  it("an invalid matcher written raw by older versions still reads, so every service rejects it alike", () => {
    const packr = new Packr({ useRecords: false });
    const decoded = decodeCommand(packr.pack([1, 2, 0, "S", "d", "t", [1, { subject: "A..B" }]]));
    expect(decoded.ok && decoded.command.type === "create-durable" && compileMatcher(decoded.command.matcher).ok).toBe(false);
  });

  it("never writes a matcher that does not compile: the session refuses it before proposing", () => {
    expect(() => encodeCommand({ type: "create-durable", atMs: 0, store: "S", durable: "d", template: "t", matcher: { subject: "A..B" } })).toThrow(AssertionError);
  });

  it("names, sequences and shapes out of bounds are errors, not exceptions", () => {
    const packr = new Packr({ useRecords: false });
    expect(decodeCommand(packr.pack([1, 0, 0, "S", "", []]))).toMatchObject({ ok: false, error: expect.stringContaining("publisherId") });
    expect(decodeCommand(packr.pack([1, 1, 0, "S", "d", [0]]))).toMatchObject({ ok: false, error: expect.stringContaining("positive") });
    expect(decodeCommand(packr.pack([1, 0, 0, "S", "p", [1]]))).toMatchObject({ ok: false });
    expect(decodeCommand(packr.pack([2, 6, 0]))).toMatchObject({ ok: false, error: expect.stringContaining("format") });
    expect(decodeCommand(packr.pack({ type: "tick" }))).toMatchObject({ ok: false });
    expect(decodeCommand(new Uint8Array())).toMatchObject({ ok: false });
  });

  it("random bytes decode to an error or a valid command, never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        const decoded = decodeCommand(garbage);
        if (decoded.ok) expect(decodeCommand(encodeCommand(decoded.command)).ok).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("corrupted encodings of real commands never throw", () => {
    fc.assert(
      fc.property(arbitraryCommand, fc.nat(), fc.integer({ min: 0, max: 255 }), (command, position, value) => {
        const encoded = encodeCommand(command).slice();
        encoded[position % encoded.length] = value;
        decodeCommand(encoded);
        decodeCommand(encoded.subarray(0, position % encoded.length));
      }),
      { numRuns: 2000 },
    );
  });
});
