import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import type { RealmMessage } from "../protocols/realm/messages.js";
import { decodeRealmMessage, encodeRealmMessage } from "./realm-codec.js";

const state = fc.record({ revision: fc.nat(), serving: fc.boolean(), accepting: fc.boolean() });
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const reason = fc.string({ maxLength: 200 });
const message: fc.Arbitrary<RealmMessage> = fc.oneof(
  fc.record({ type: fc.constant("hello" as const), from: name, role: fc.constantFrom("primary" as const, "satellite" as const, "backup" as const, "disaster-recovery" as const), state }),
  fc.record({ type: fc.constant("heartbeat" as const), state }),
  fc.record({ type: fc.constant("revision" as const), revision: fc.record({ number: fc.integer({ min: 1, max: 2 ** 40 }), hash: fc.stringMatching(/^[0-9a-f]{16}$/), text: fc.string({ maxLength: 500 }) }) }),
  fc.record({ type: fc.constant("revision-ack" as const), number: fc.integer({ min: 1 }) }),
  fc.record({ type: fc.constant("revision-refused" as const), number: fc.integer({ min: 1 }), reason }),
  fc.record({ type: fc.constant("refused" as const), reason }),
  fc.record({ type: fc.constant("revision-test" as const), requestId: fc.nat(), revision: fc.record({ number: fc.integer({ min: 1, max: 2 ** 40 }), hash: fc.stringMatching(/^[0-9a-f]{16}$/), text: fc.string({ maxLength: 500 }) }) }),
  fc.record({
    type: fc.constant("revision-test-answer" as const),
    requestId: fc.nat(),
    clients: fc.array(
      fc.record({ clientId: name, client: fc.string({ maxLength: 30 }), user: name, app: name, status: fc.constantFrom("running" as const, "needs-restart" as const, "exception" as const, "timed-out" as const, "out-of-sync" as const), detail: reason }),
      { maxLength: 5 },
    ),
  }),
);

const raw = new Packr({ useRecords: false });

describe("realm codec", () => {
  it("decodes what it encodes, for every message", () => {
    fc.assert(
      fc.property(message, (original) => {
        expect(decodeRealmMessage(encodeRealmMessage(original))).toEqual({ ok: true, message: original });
      }),
      { numRuns: 500 },
    );
  });

  it("names the field a malformed message gets wrong", () => {
    expect(decodeRealmMessage(raw.pack({ type: "hello", from: "s1", role: "leader", state: { revision: 0, serving: false, accepting: true } }))).toEqual({
      ok: false,
      error: "hello.role: expected one of primary, satellite, backup, disaster-recovery",
    });
    expect(decodeRealmMessage(raw.pack({ type: "heartbeat", state: { revision: -1, serving: false, accepting: true } }))).toMatchObject({ ok: false, error: expect.stringMatching(/^heartbeat\.state: expected/) });
    expect(decodeRealmMessage(raw.pack({ type: "revision", revision: { number: 0, hash: "h", text: "" } }))).toMatchObject({ ok: false, error: expect.stringMatching(/^revision\.revision: expected/) });
    expect(decodeRealmMessage(raw.pack({ type: "deploy" }))).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown realm message type "deploy"/) });
    expect(decodeRealmMessage(raw.pack({ type: "toString" }))).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown realm message type/) });
    expect(decodeRealmMessage(new Uint8Array([0xd9]))).toMatchObject({ ok: false, error: expect.stringMatching(/^not msgpack/) });
    expect(decodeRealmMessage(raw.pack("hello"))).toEqual({ ok: false, error: "expected a map with a `type` field" });
  });

  it("checks every field of a deploy test's answer", () => {
    const client = { clientId: "c1", client: "orders", user: "alice", app: "shop", status: "running", detail: "" };
    expect(decodeRealmMessage(raw.pack({ type: "revision-test-answer", requestId: 1, clients: [{ ...client, status: "fine" }] }))).toMatchObject({ ok: false, error: expect.stringMatching(/^revision-test-answer\.clients: expected/) });
    expect(decodeRealmMessage(raw.pack({ type: "revision-test-answer", requestId: 1, clients: [{ ...client, user: 3 }] }))).toMatchObject({ ok: false, error: expect.stringMatching(/^revision-test-answer\.clients/) });
    expect(decodeRealmMessage(raw.pack({ type: "revision-test-answer", requestId: -1, clients: [] }))).toMatchObject({ ok: false, error: expect.stringMatching(/^revision-test-answer\.requestId/) });
    expect(decodeRealmMessage(raw.pack({ type: "revision-test", requestId: 1, revision: { number: 0, hash: "h", text: "" } }))).toMatchObject({ ok: false, error: expect.stringMatching(/^revision-test\.revision/) });
    const long = decodeRealmMessage(encodeRealmMessage({ type: "revision-test-answer", requestId: 1, clients: [{ ...client, status: "exception", detail: "x".repeat(5000) }] }));
    expect(long.ok && long.message.type === "revision-test-answer" ? long.message.clients[0]?.detail.length : 0).toBe(1024);
  });

  it("drops fields it does not know rather than passing them on", () => {
    expect(decodeRealmMessage(raw.pack({ type: "revision-ack", number: 3, extra: "x" }))).toEqual({ ok: true, message: { type: "revision-ack", number: 3 } });
  });

  it("cuts an overlong reason when encoding, so a refusal still arrives", () => {
    const decoded = decodeRealmMessage(encodeRealmMessage({ type: "refused", reason: "x".repeat(5000) }));
    expect(decoded.ok && decoded.message.type === "refused" ? decoded.message.reason.length : 0).toBe(1024);
  });

  it("never throws on junk bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void decodeRealmMessage(bytes)), { numRuns: 1000 });
  });
});
