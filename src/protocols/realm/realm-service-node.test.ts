import { describe, expect, it } from "vitest";
import type { RealmEffect } from "./effects.js";
import type { RealmInput } from "./inputs.js";
import type { RealmMessage, Revision } from "./messages.js";
import { realmServiceOptions } from "./options.js";
import { RealmServiceNode } from "./realm-service-node.js";
import { familyMembers } from "./testdata/family.js";

/** One server's realm service fed by hand; the driver's side is these few lines. */
function server(self: string, newest: Revision | null = null): { node: RealmServiceNode; step: (nowMs: number, input: RealmInput) => RealmEffect[] } {
  const node = new RealmServiceNode(realmServiceOptions({ self, family: familyMembers }), newest, 0);
  node.takeEffects();
  return {
    node,
    step: (nowMs, input) => {
      node.step(nowMs, input);
      return node.takeEffects();
    },
  };
}

const revision1: Revision = { number: 1, hash: "h1", text: "sites: []" };
const revision2: Revision = { number: 2, hash: "h2", text: "sites: [{ name: a }]" };

function sent(effects: readonly RealmEffect[], to?: string): RealmMessage[] {
  return effects.flatMap((effect) => (effect.type === "send" && (to === undefined || effect.to === to) ? [effect.message] : []));
}

function types(effects: readonly RealmEffect[]): string[] {
  return effects.map((effect) => (effect.type === "send" ? `send ${effect.to} ${effect.message.type}` : effect.type === "log" ? "log" : effect.type));
}

/** Brings the link with `peer` up from this side, as if `peer` answered with `state`. */
function linkUp(step: (nowMs: number, input: RealmInput) => RealmEffect[], nowMs: number, peer: string, role: RealmMessage & { type: "hello" }): RealmEffect[] {
  return [...step(nowMs, { type: "connected", peer, inbound: false }), ...step(nowMs, { type: "message", from: peer, message: role })];
}

function hello(from: string, role: "primary" | "satellite" | "backup" | "disaster-recovery", revision: number, serving = revision > 0, accepting = true): RealmMessage & { type: "hello" } {
  return { type: "hello", from, role, state: { revision, serving, accepting } };
}

describe("connections", () => {
  it("a satellite dials the primary and its backup on its first tick, and says hello on connect", () => {
    const { step } = server("sat1");
    expect(step(0, { type: "tick" })).toEqual([
      { type: "dial", peer: "p1" },
      { type: "dial", peer: "sat1-backup" },
    ]);
    expect(sent(step(5, { type: "connected", peer: "p1", inbound: false }))).toEqual([
      { type: "hello", from: "sat1", role: "satellite", state: { revision: 0, serving: false, accepting: false } },
    ]);
  });

  it("a backup and the disaster-recovery server dial nobody", () => {
    expect(server("p1-backup").step(0, { type: "tick" })).toEqual([]);
    expect(server("dr1").step(0, { type: "tick" })).toEqual([]);
  });

  it("a backup refuses a connection from a server it does not back up, saying why", () => {
    const reason = "p1-backup does not accept connections from sat1 (only p1 may)";
    expect(server("p1-backup").step(0, { type: "connected", peer: "sat1", inbound: true })).toEqual([
      { type: "log", level: "warn", text: reason },
      { type: "send", to: "sat1", message: { type: "refused", reason } },
      { type: "close", peer: "sat1", reason },
    ]);
    expect(server("sat2").step(0, { type: "connected", peer: "p1", inbound: true })).toContainEqual({
      type: "close",
      peer: "p1",
      reason: "sat2 does not accept connections from p1 (sat2 dials p1, not the reverse)",
    });
    expect(server("sat2").step(0, { type: "connected", peer: "store1", inbound: true })).toContainEqual({
      type: "close",
      peer: "store1",
      reason: "sat2 does not accept connections from store1 (store1 has no realm role in this server's definition)",
    });
  });

  it("refuses a peer whose hello disagrees with this server's family", () => {
    const { step } = server("p1-backup");
    step(0, { type: "connected", peer: "p1", inbound: true });
    const effects = step(1, { type: "message", from: "p1", message: hello("p1", "satellite", 1) });
    expect(sent(effects, "p1")).toEqual([{ type: "refused", reason: "p1-backup's realm definition says p1 is the primary; the peer says it is p1, a satellite" }]);
    expect(types(effects)).toContain("close");
  });

  it("sends a heartbeat each interval, and closes a link silent for the timeout", () => {
    const { step, node } = server("sat2", revision1);
    step(0, { type: "tick" });
    linkUp(step, 0, "p1", hello("p1", "primary", 1));
    expect(sent(step(999, { type: "tick" }))).toEqual([]);
    expect(sent(step(1000, { type: "tick" }))).toEqual([{ type: "heartbeat", state: { revision: 1, serving: true, accepting: true } }]);
    expect(node.status().links[0]?.state).toBe("up");
    const timedOut = step(3000, { type: "tick" });
    expect(timedOut).toContainEqual({ type: "close", peer: "p1", reason: "nothing heard from p1 for 3000 ms (timeout 3000 ms)" });
    expect(timedOut).toContainEqual({ type: "log", level: "warn", text: "sat2: link with p1 (the primary) is down: nothing heard from p1 for 3000 ms (timeout 3000 ms)" });
    expect(node.status().links[0]?.state).toBe("down");
  });

  it("redials with backoff, doubling to the maximum, and from the minimum again after a link was up", () => {
    const { step } = server("sat2", revision1);
    const dialTimes: number[] = [];
    for (let nowMs = 0; nowMs <= 8000; nowMs += 10) {
      const effects = step(nowMs, { type: "tick" });
      if (effects.some((effect) => effect.type === "dial")) {
        dialTimes.push(nowMs);
        step(nowMs, { type: "disconnected", peer: "p1" });
      }
    }
    expect(dialTimes).toEqual([0, 100, 300, 700, 1500, 3100, 5100, 7100]);
    linkUp(step, 8000, "p1", hello("p1", "primary", 1));
    step(8000, { type: "disconnected", peer: "p1" });
    expect(types(step(8099, { type: "tick" }))).not.toContain("dial");
    expect(types(step(8100, { type: "tick" }))).toContain("dial");
  });
});

describe("revisions", () => {
  it("the primary refuses a deploy while its backup link is down, and takes it once the link is up", () => {
    const { step } = server("p1", revision1);
    step(0, { type: "tick" });
    expect(step(1, { type: "deploy", requestId: 7, text: revision2.text, hash: "h2" })).toContainEqual({
      type: "deploy-answer",
      requestId: 7,
      answer: { ok: false, code: "backup-link-down", reason: "p1's backup p1-backup is not connected, so p1 cannot take a new revision: reconnect them, then deploy again" },
    });
    linkUp(step, 2, "p1-backup", hello("p1-backup", "backup", 1, false));
    const effects = step(3, { type: "deploy", requestId: 8, text: revision2.text, hash: "h2" });
    // Stored before it is answered or pushed (effects.ts: the ordering contract).
    expect(types(effects)).toEqual(["store-revision", "activate", "log", "deploy-answer", "send p1-backup heartbeat", "send p1-backup revision"]);
    expect(effects).toContainEqual({ type: "deploy-answer", requestId: 8, answer: { ok: true, revision: { number: 2, hash: "h2" }, unchanged: false } });
    expect(sent(effects, "p1-backup")).toContainEqual({ type: "revision", revision: revision2 });
  });

  it("the same definition deployed again makes no new revision", () => {
    const primary = server("p1", revision1);
    primary.step(0, { type: "tick" });
    linkUp(primary.step, 0, "p1-backup", hello("p1-backup", "backup", 1, false));
    expect(primary.step(1, { type: "deploy", requestId: 1, text: revision1.text, hash: "h1" })).toContainEqual({
      type: "deploy-answer",
      requestId: 1,
      answer: { ok: true, revision: { number: 1, hash: "h1" }, unchanged: true },
    });
  });

  it("a deploy or admin write anywhere but the primary is refused, naming the primary", () => {
    for (const name of ["sat1", "p1-backup", "dr1"]) {
      const { step, node } = server(name, revision1);
      const answer = step(0, { type: "deploy", requestId: 1, text: "x", hash: "hx" }).find((effect) => effect.type === "deploy-answer");
      expect(answer).toMatchObject({ answer: { ok: false, code: "not-primary", reason: expect.stringMatching(/go to the primary p1$/) } });
      expect(node.admitWrite()).toMatchObject({ admitted: false, primary: "p1" });
    }
    expect(server("sat1").node.admitWrite()).toEqual({ admitted: false, reason: "sat1 is a satellite: deploys, edits and admin writes go to the primary p1", primary: "p1" });
    expect(server("p1").node.admitWrite()).toEqual({ admitted: true });
  });

  it("a primary whose store is behind its backup's refuses to deploy, saying so, rather than reuse a number", () => {
    // p1 lost its revision store; its backup still holds revision 2.
    const { step } = server("p1", revision1);
    step(0, { type: "tick" });
    const effects = linkUp(step, 0, "p1-backup", hello("p1-backup", "backup", 2, false));
    const reason = "p1-backup holds revision 2, newer than p1's 1: p1's revision store is behind (lost or restored from an older copy); restore it before deploying";
    expect(effects).toContainEqual({ type: "log", level: "warn", text: `p1: ${reason}` });
    expect(step(1, { type: "deploy", requestId: 1, text: "new", hash: "hn" })).toContainEqual({ type: "deploy-answer", requestId: 1, answer: { ok: false, code: "out-of-sync", reason } });
  });

  it("the primary pushes its newest revision to a satellite that connects behind it, once", () => {
    const { step } = server("p1", revision2);
    step(0, { type: "connected", peer: "sat2", inbound: true });
    const effects = step(1, { type: "message", from: "sat2", message: hello("sat2", "satellite", 1) });
    expect(sent(effects, "sat2").map((message) => message.type)).toEqual(["hello", "revision"]);
    expect(sent(step(2, { type: "message", from: "sat2", message: { type: "heartbeat", state: { revision: 1, serving: true, accepting: true } } }), "sat2")).toEqual([]);
  });

  it("a satellite whose backup link is down refuses a revision, and is pushed it again once it accepts", () => {
    const satellite = server("sat1", revision1);
    satellite.step(0, { type: "tick" });
    linkUp(satellite.step, 0, "p1", hello("p1", "primary", 2));
    const refusal = satellite.step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision2 } });
    expect(sent(refusal, "p1")).toEqual([{ type: "revision-refused", number: 2, reason: "sat1's backup sat1-backup is not connected; sat1 takes the revision once it is" }]);
    expect(satellite.node.newest).toEqual(revision1);

    const primary = server("p1", revision2);
    primary.step(0, { type: "connected", peer: "sat1", inbound: true });
    primary.step(0, { type: "message", from: "sat1", message: hello("sat1", "satellite", 1, true, true) });
    primary.step(1, { type: "message", from: "sat1", message: { type: "revision-refused", number: 2, reason: "backup down" } });
    expect(sent(primary.step(2, { type: "tick" }), "sat1")).toEqual([]);
    const again = primary.step(3, { type: "message", from: "sat1", message: { type: "heartbeat", state: { revision: 1, serving: true, accepting: true } } });
    expect(sent(again, "sat1")).toEqual([{ type: "revision", revision: revision2 }]);
  });

  it("a backup stores a revision from its regular server before acknowledging it, and ignores one from anyone else", () => {
    const { step, node } = server("p1-backup");
    step(0, { type: "connected", peer: "p1", inbound: true });
    step(0, { type: "message", from: "p1", message: hello("p1", "primary", 1) });
    const effects = step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision1 } });
    expect(types(effects).slice(0, 4)).toEqual(["store-revision", "activate", "log", "send p1 revision-ack"]);
    expect(node.newest).toEqual(revision1);
  });
});

describe("clients", () => {
  it("a satellite accepts no client before it has a definition", () => {
    const { node, step } = server("sat2");
    expect(node.admitClient("application")).toEqual({ admitted: false, reason: "sat2 has no realm definition yet (it waits for one from p1)", redirectTo: [] });
    step(0, { type: "tick" });
    linkUp(step, 0, "p1", hello("p1", "primary", 1));
    step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision1 } });
    expect(node.admitClient("application")).toEqual({ admitted: true });
  });

  it("a backup accepts clients only while its regular server is not serving, and hands them back", () => {
    const { node, step } = server("p1-backup", revision1);
    // Started alone: p1 is down as far as it knows.
    expect(node.admitClient("application")).toEqual({ admitted: true });
    step(0, { type: "connected", peer: "p1", inbound: true });
    const back = step(0, { type: "message", from: "p1", message: hello("p1", "primary", 1, true) });
    expect(back).toContainEqual({ type: "hand-back-clients", to: "p1" });
    expect(node.admitClient("application")).toEqual({
      admitted: false,
      reason: "p1-backup is the backup of p1 and accepts clients only while p1 is down; connect to p1",
      redirectTo: ["p1"],
    });
    const failover = step(10, { type: "disconnected", peer: "p1" });
    expect(failover).toContainEqual({ type: "log", level: "warn", text: "p1-backup: p1 is down: its backup p1-backup accepts its clients" });
    expect(node.admitClient("application")).toEqual({ admitted: true });
  });

  it("the disaster-recovery server accepts only disaster-recovery persistence services", () => {
    const { node } = server("dr1", revision1);
    expect(node.admitClient("disaster-recovery-service")).toEqual({ admitted: true });
    expect(node.admitClient("application")).toEqual({
      admitted: false,
      reason: "dr1 is the disaster-recovery server and accepts only disaster-recovery persistence services; connect to the primary p1",
      redirectTo: ["p1"],
    });
  });
});
