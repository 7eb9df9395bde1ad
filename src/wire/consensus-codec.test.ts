import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import type { Message } from "../protocols/consensus/messages.js";
import type { Configuration, Entry } from "../protocols/consensus/types.js";
import { decodeMessage, encodeMessage } from "./consensus-codec.js";

const config: Configuration = {
  voters: [
    { id: "a1", weight: 1 },
    { id: "a2", weight: 2.5 },
  ],
  learners: [{ id: "a3", weight: 0 }],
};

const entries: Entry[] = [
  { index: 5, term: 2, kind: "noop", data: new Uint8Array(0) },
  { index: 6, term: 2, kind: "command", data: new Uint8Array([1, 2, 3]) },
  { index: 7, term: 3, kind: "config", data: new Uint8Array(0), config },
  // Past 2^32: must come back as a number, not a bigint or a rounded float.
  { index: 2 ** 40 + 1, term: 2 ** 33, kind: "command", data: new Uint8Array(128).fill(9) },
];

const envelope = { from: "a1", to: "a2", term: 3 };

const oneOfEachType: Message[] = [
  { ...envelope, type: "pre-vote", lastIndex: 10, lastTerm: 2, empty: false },
  { ...envelope, type: "pre-vote-response", granted: true, empty: true, blind: true },
  { ...envelope, type: "vote", lastIndex: 10, lastTerm: 2, empty: false, transfer: true },
  { ...envelope, type: "vote-response", granted: false, empty: false, blind: false },
  { ...envelope, type: "append", prevIndex: 4, prevTerm: 2, entries, commitIndex: 4, sentAtMs: 1234.5 , commitWithoutFollower: false},
  { ...envelope, type: "append", prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0, sentAtMs: 0 , commitWithoutFollower: false},
  { ...envelope, type: "append-response", success: true, matchIndex: 7, rejectHint: 0, empty: false, sentAtMs: 99 },
  {
    ...envelope,
    type: "install-snapshot",
    snapshot: { index: 100, term: 3, config, data: new Uint8Array([4, 5, 6]) },
    offset: 1024,
    done: true,
    sentAtMs: 7,
  },
  { ...envelope, type: "install-snapshot-response", matchIndex: 100, receivedBytes: 1027, snapshotIndex: 100, done: true, empty: false, sentAtMs: 7 },
  { ...envelope, type: "timeout-now" },
  { ...envelope, type: "append-received", matchIndex: 12 },
];

/** Builds raw wire arrays, to hand the decoder shapes the encoder never produces. */
const raw = new Packr({ useRecords: false });

function decodeRaw(wire: unknown): ReturnType<typeof decodeMessage> {
  return decodeMessage(raw.pack(wire));
}

describe("consensus codec", () => {
  it.each(oneOfEachType.map((message) => [message.type, message] as const))("round-trips %s", (_type, message) => {
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded).toEqual({ ok: true, message });
  });

  it("returns entry data as plain Uint8Arrays", () => {
    const decoded = decodeMessage(encodeMessage(oneOfEachType[4] as Message));
    if (!decoded.ok || decoded.message.type !== "append") throw new Error("expected an append");
    for (const entry of decoded.message.entries) expect(Object.getPrototypeOf(entry.data)).toBe(Uint8Array.prototype);
  });

  it("round-trips random appends", () => {
    const entry = fc.record({
      index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      term: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      kind: fc.constantFrom("command" as const, "noop" as const),
      data: fc.uint8Array({ maxLength: 200 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (list, sentAtMs) => {
        const message: Message = { ...envelope, type: "append", prevIndex: 1, prevTerm: 1, entries: list, commitIndex: 1, sentAtMs, commitWithoutFollower: false };
        expect(decodeMessage(encodeMessage(message))).toEqual({ ok: true, message });
      }),
      { numRuns: 100 },
    );
  });

  it("returns an error, never throws, for random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = decodeMessage(bytes);
        if (!decoded.ok) expect(decoded.error).toMatch(/^malformed consensus message: /);
      }),
      { numRuns: 500 },
    );
  });

  it("returns an error for every truncation of a valid message", () => {
    const bytes = encodeMessage(oneOfEachType[4] as Message);
    for (let length = 0; length < bytes.length; length++) {
      expect(decodeMessage(bytes.subarray(0, length)).ok).toBe(false);
    }
  });

  it("returns an error for random msgpack values", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(decodeRaw(value).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  const appendWire = (entriesWire: unknown): unknown[] => [4, "a1", "a2", 3, 4, 2, entriesWire, 4, 1, false];

  it.each([
    ["an unknown type code", [42, "a1", "a2", 3], "type code"],
    ["a missing field", [0, "a1", "a2", 3, 10, 2], "pre-vote message should be an array of 7"],
    ["a string term", [8, "a1", "a2", "3"], "term should be a non-negative integer"],
    ["a negative index", [0, "a1", "a2", 3, -1, 2, false], "lastIndex"],
    ["a fractional term", [8, "a1", "a2", 1.5], "term"],
    ["an empty member id", [8, "", "a2", 3], "from should be a non-empty member id"],
    ["a numeric flag", [1, "a1", "a2", 3, 1, false, false], "granted should be a boolean"],
    ["entries not an array", appendWire("x"), "entries should be an array of entries"],
    ["an entry with string data", appendWire([[5, 2, 0, "abc"]]), "entries[0].data should be bytes"],
    ["an unknown entry kind", appendWire([[5, 2, 7, new Uint8Array(0)]]), "entries[0].kind"],
    ["a config entry without config", appendWire([[5, 2, 2, new Uint8Array(0)]]), "entries[0].config"],
    ["a command entry with config", appendWire([[5, 2, 0, new Uint8Array(0), [[], []]]]), "entries[0].config"],
    ["a bad voter weight", appendWire([[5, 2, 2, new Uint8Array(0), [[["a1", "heavy"]], []]]]), "entries[0].config.voters[0].weight"],
    ["an infinite sentAtMs", [4, "a1", "a2", 3, 4, 2, [], 4, Infinity, false], "sentAtMs should be a finite number"],
    ["a map instead of an array", { type: "timeout-now", from: "a1", to: "a2", term: 1 }, "message should be an array"],
  ])("names the bad field for %s", (_case, wire, expected) => {
    const decoded = decodeRaw(wire);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toContain(expected);
  });

  it("round-trips a full 256-entry append (speed is measured by npm run bench, not here)", () => {
    const list = Array.from({ length: 256 }, (_, i): Entry => ({ index: 1000 + i, term: 7, kind: "command", data: new Uint8Array(128).fill(i) }));
    const message: Message = { ...envelope, type: "append", prevIndex: 999, prevTerm: 7, entries: list, commitIndex: 998, sentAtMs: 1 , commitWithoutFollower: false};
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.message).toEqual(message);
  });
});
