import { describe, expect, it } from "vitest";
import type { RealmEffect } from "./effects.js";
import type { RealmInput } from "./inputs.js";
import type { ClientTestAnswer, RealmMessage, Revision } from "./messages.js";
import { realmServiceOptions } from "./options.js";
import { RealmServiceNode } from "./realm-service-node.js";
import { familyMembers } from "./testdata/family.js";

type Step = (nowMs: number, input: RealmInput) => RealmEffect[];

function server(self: string, newest: Revision | null): Step {
  const node = new RealmServiceNode(realmServiceOptions({ self, family: familyMembers }, { testTimeoutMs: 1000 }), newest, 0);
  node.takeEffects();
  return (nowMs, input) => {
    node.step(nowMs, input);
    return node.takeEffects();
  };
}

const revision1: Revision = { number: 1, hash: "h1", text: "one" };
const revision2: Revision = { number: 2, hash: "h2", text: "two" };
const state = { revision: 1, serving: true, accepting: true };
const hello = (from: string, role: "satellite" | "backup" | "disaster-recovery" | "primary"): RealmMessage => ({ type: "hello", from, role, state });
const alice: ClientTestAnswer = { clientId: "c1", client: "orders", user: "alice", app: "shop", status: "needs-restart", detail: "user alice is not in the new definition" };

function sent(effects: readonly RealmEffect[]): string[] {
  return effects.flatMap((effect) => (effect.type === "send" && effect.message.type.startsWith("revision-test") ? [`${effect.to} ${effect.message.type}`] : []));
}

function answers(effects: readonly RealmEffect[]): RealmEffect[] {
  return effects.filter((effect) => effect.type === "test-answer");
}

/** The primary with every link up except those in `down`. */
function primary(down: readonly string[] = []): Step {
  const step = server("p1", revision1);
  for (const peer of ["p1-backup", "dr1"].filter((peer) => !down.includes(peer))) {
    step(0, { type: "connected", peer, inbound: false });
    step(0, { type: "message", from: peer, message: hello(peer, peer === "dr1" ? "disaster-recovery" : "backup") });
  }
  for (const peer of ["sat1", "sat2"].filter((peer) => !down.includes(peer))) {
    step(0, { type: "connected", peer, inbound: true });
    step(0, { type: "message", from: peer, message: hello(peer, "satellite") });
  }
  return step;
}

describe("a deploy's test down the family", () => {
  it("asks every downstream server whose link is up, and answers when all have answered", () => {
    const step = primary(["sat2"]);
    const asked = step(10, { type: "test", requestId: 7, revision: revision2 });
    expect(sent(asked)).toEqual(["p1-backup revision-test", "dr1 revision-test", "sat1 revision-test"]);
    expect(answers(asked)).toEqual([]);
    expect(answers(step(20, { type: "message", from: "sat1", message: { type: "revision-test-answer", requestId: 7, clients: [alice] } }))).toEqual([]);
    expect(answers(step(21, { type: "message", from: "p1-backup", message: { type: "revision-test-answer", requestId: 7, clients: [] } }))).toEqual([]);
    expect(answers(step(22, { type: "message", from: "dr1", message: { type: "revision-test-answer", requestId: 7, clients: [] } }))).toEqual([
      {
        type: "test-answer",
        requestId: 7,
        servers: [
          { server: "p1-backup", outcome: "answered", clients: [] },
          { server: "dr1", outcome: "answered", clients: [] },
          { server: "sat1", outcome: "answered", clients: [alice] },
          // A satellite away does not hold a deploy up (seed 003): it is reported, not awaited.
          { server: "sat2", outcome: "unreachable", clients: [] },
        ],
      },
    ]);
  });

  it("counts a server whose link goes down before it answers as unreachable", () => {
    const step = primary(["p1-backup", "dr1", "sat2"]);
    step(10, { type: "test", requestId: 1, revision: revision2 });
    const effects = step(20, { type: "disconnected", peer: "sat1" });
    expect(answers(effects)).toEqual([{ type: "test-answer", requestId: 1, servers: expect.arrayContaining([{ server: "sat1", outcome: "unreachable", clients: [] }]) as unknown }]);
  });

  it("counts a server that does not answer within testTimeoutMs as timed out, and ignores its late answer", () => {
    const step = primary(["p1-backup", "dr1", "sat2"]);
    step(10, { type: "test", requestId: 1, revision: revision2 });
    expect(answers(step(1009, { type: "tick" }))).toEqual([]);
    const expired = answers(step(1010, { type: "tick" }));
    expect(expired).toEqual([{ type: "test-answer", requestId: 1, servers: expect.arrayContaining([{ server: "sat1", outcome: "timed-out", clients: [] }]) as unknown }]);
    expect(answers(step(1020, { type: "message", from: "sat1", message: { type: "revision-test-answer", requestId: 1, clients: [alice] } }))).toEqual([]);
  });

  it("answers at once when no downstream server is up", () => {
    const step = primary(["p1-backup", "dr1", "sat1", "sat2"]);
    expect(answers(step(10, { type: "test", requestId: 3, revision: revision2 }))).toHaveLength(1);
  });

  it("a satellite asked by the primary has its driver test its clients and answers upstream", () => {
    const step = server("sat1", revision1);
    step(0, { type: "tick" });
    step(1, { type: "connected", peer: "p1", inbound: false });
    step(2, { type: "message", from: "p1", message: hello("p1", "primary") });
    const asked = step(3, { type: "message", from: "p1", message: { type: "revision-test", requestId: 9, revision: revision2 } });
    expect(asked).toContainEqual({ type: "test-clients", from: "p1", requestId: 9, revision: revision2 });
    // Nothing is stored or activated by a test.
    expect(asked.some((effect) => effect.type === "store-revision" || effect.type === "activate")).toBe(false);
    expect(step(4, { type: "clients-tested", to: "p1", requestId: 9, clients: [alice] })).toContainEqual({
      type: "send",
      to: "p1",
      message: { type: "revision-test-answer", requestId: 9, clients: [alice] },
    });
  });

  it("a server ignores a test from a peer it does not take its definition from", () => {
    const step = server("sat1", revision1);
    step(0, { type: "tick" });
    step(1, { type: "connected", peer: "sat1-backup", inbound: false });
    step(2, { type: "message", from: "sat1-backup", message: hello("sat1-backup", "backup") });
    const effects = step(3, { type: "message", from: "sat1-backup", message: { type: "revision-test", requestId: 1, revision: revision2 } });
    expect(effects.some((effect) => effect.type === "test-clients")).toBe(false);
  });
});
