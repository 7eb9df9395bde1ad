import { describe, expect, it } from "vitest";
import { realmServiceOptions } from "../protocols/realm/options.js";
import { RealmServiceNode } from "../protocols/realm/realm-service-node.js";
import type { Revision } from "../protocols/realm/messages.js";
import { RealmEffectRunner, type RealmPorts } from "./realm-effect-runner.js";

const family = [
  { name: "p1", role: "primary" as const },
  { name: "p1-backup", role: "backup" as const, of: "p1" },
];
const revision1: Revision = { number: 1, hash: "h1", text: "one" };

/** A backup whose revision stores complete (or fail) only when the test says so. */
function backupWithDisk(storeError?: Error): { node: RealmServiceNode; runner: RealmEffectRunner; done: string[]; completeSyncs(): void } {
  const syncs: Array<() => void> = [];
  const done: string[] = [];
  const ports: RealmPorts = {
    dial: (peer) => done.push(`dial ${peer}`),
    close: (peer) => done.push(`close ${peer}`),
    send: (to, message) => done.push(`send ${to} ${message.type}`),
    storeRevision: (revision, callback) => {
      done.push(`store ${revision.number}`);
      syncs.push(() => callback(storeError));
    },
    activate: (revision) => done.push(`activate ${revision.number}`),
    answerDeploy: (requestId) => done.push(`answer ${requestId}`),
    handBackClients: (to) => done.push(`hand back to ${to}`),
    testClients: (from, requestId) => done.push(`test clients ${requestId} from ${from}`),
    answerTest: (requestId) => done.push(`test answer ${requestId}`),
    log: () => undefined,
    stopped: (reason) => done.push(`stopped: ${reason}`),
  };
  const node = new RealmServiceNode(realmServiceOptions({ self: "p1-backup", family }), null, 0);
  const runner = new RealmEffectRunner(ports);
  runner.run(node.takeEffects());
  node.step(0, { type: "connected", peer: "p1", inbound: true });
  node.step(0, { type: "message", from: "p1", message: { type: "hello", from: "p1", role: "primary", state: { revision: 1, serving: true, accepting: true } } });
  runner.run(node.takeEffects());
  done.length = 0;
  return { node, runner, done, completeSyncs: () => syncs.splice(0).forEach((callback) => callback()) };
}

describe("the realm effect runner", () => {
  it("acknowledges a revision only once it is durable, and holds later batches behind the store", () => {
    const { node, runner, done, completeSyncs } = backupWithDisk();
    node.step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision1 } });
    runner.run(node.takeEffects());
    node.step(1000, { type: "tick" });
    runner.run(node.takeEffects());
    expect(done).toEqual(["store 1"]);
    expect(runner.idle).toBe(false);
    completeSyncs();
    expect(done).toEqual(["store 1", "activate 1", "send p1 revision-ack", "send p1 heartbeat"]);
    expect(runner.idle).toBe(true);
  });

  it("stops, running nothing that depended on it, when a store fails", () => {
    const { node, runner, done, completeSyncs } = backupWithDisk(new Error("ENOSPC: no space left on device"));
    node.step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision1 } });
    runner.run(node.takeEffects());
    completeSyncs();
    expect(done).toEqual(["store 1", "stopped: storing revision 1 failed: ENOSPC: no space left on device"]);
    node.step(1000, { type: "tick" });
    runner.run(node.takeEffects());
    expect(done).toHaveLength(2);
  });

  it("stops when effects pile up behind a store that never completes", () => {
    const { node, done } = backupWithDisk();
    const ports: RealmPorts = {
      dial: () => undefined,
      close: () => undefined,
      send: () => undefined,
      storeRevision: () => undefined,
      activate: () => undefined,
      answerDeploy: () => undefined,
      handBackClients: () => undefined,
      testClients: () => undefined,
      answerTest: () => undefined,
      log: () => undefined,
      stopped: (reason) => done.push(reason),
    };
    const runner = new RealmEffectRunner(ports, 3);
    node.step(1, { type: "message", from: "p1", message: { type: "revision", revision: revision1 } });
    runner.run(node.takeEffects());
    for (let nowMs = 1000; done.length === 0 && nowMs < 10_000; nowMs += 1000) {
      node.step(nowMs, { type: "tick" });
      runner.run(node.takeEffects());
    }
    expect(done).toEqual([expect.stringMatching(/wait behind a revision store that has not completed: the disk is stalled$/)]);
  });
});
