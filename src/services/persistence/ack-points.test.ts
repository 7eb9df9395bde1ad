import { describe, expect, it } from "vitest";
import type { CommandResult } from "../../protocols/persistence/state-types.js";
import { bytesOf, Harness, standard, storeConfig } from "../../protocols/persistence/state-test-support.js";
import type { PersistenceApplication } from "./persistence-application.js";
import { ProposalWaiters, type ProposeOutcome } from "./proposal-waiters.js";
import { VisibleView } from "./visible-view.js";

const resultAt = (index: number): CommandResult => ({ type: "map-set", storeSequence: index });

/** Results by index, as the application keeps them while leading. */
function applicationWithResults(indexes: readonly number[]): PersistenceApplication {
  const results = new Map(indexes.map((index) => [index, resultAt(index)]));
  return {
    takeResult: (index: number) => {
      const result = results.get(index);
      for (const older of [...results.keys()]) if (older <= index) results.delete(older);
      return result;
    },
    takeResultAt: (index: number) => {
      const result = results.get(index);
      results.delete(index);
      return result;
    },
  } as unknown as PersistenceApplication;
}

describe("ProposalWaiters: each proposal answered at its ack point", () => {
  function setup(lease = { held: true }): { waiters: ProposalWaiters; outcomes: Map<number, ProposeOutcome> } {
    const waiters = new ProposalWaiters(applicationWithResults([1, 2, 3, 4]), () => lease.held);
    return { waiters, outcomes: new Map() };
  }

  it("leader-memory answers at append, quorum-memory at the quorum that covers it, quorum-fsync at commit", () => {
    const { waiters, outcomes } = setup();
    const leader = waiters.add((outcome) => outcomes.set(1, outcome), "leader-memory");
    const quorum = waiters.add((outcome) => outcomes.set(2, outcome), "quorum-memory");
    const fsync = waiters.add((outcome) => outcomes.set(3, outcome), "quorum-fsync");
    waiters.notified({ type: "appended", proposalId: leader, index: 1 }, null);
    waiters.notified({ type: "appended", proposalId: quorum, index: 2 }, null);
    waiters.notified({ type: "appended", proposalId: fsync, index: 3 }, null);
    expect(outcomes.get(1)).toEqual({ ok: true, index: 1, result: resultAt(1), ackPoint: "leader-memory" });
    expect(outcomes.has(2)).toBe(false);
    waiters.notified({ type: "quorum-received", index: 2 }, null);
    expect(outcomes.get(2)).toEqual({ ok: true, index: 2, result: resultAt(2), ackPoint: "quorum-memory" });
    expect(outcomes.has(3)).toBe(false);
    // The commits come later and find the early ones answered already.
    for (const [proposalId, index] of [[leader, 1], [quorum, 2], [fsync, 3]] as const) waiters.notified({ type: "committed", proposalId, index, term: 1 }, null);
    expect(outcomes.get(3)).toEqual({ ok: true, index: 3, result: resultAt(3), ackPoint: "quorum-fsync" });
    expect(outcomes.get(1)?.ok && outcomes.get(1)).toMatchObject({ ackPoint: "leader-memory" });
  });

  it("without the lease nothing is answered early: the commit answers, naming the stronger point it reached", () => {
    const lease = { held: false };
    const { waiters, outcomes } = setup(lease);
    const quorum = waiters.add((outcome) => outcomes.set(1, outcome), "quorum-memory");
    waiters.notified({ type: "appended", proposalId: quorum, index: 1 }, null);
    waiters.notified({ type: "quorum-received", index: 1 }, null);
    expect(outcomes.has(1)).toBe(false);
    waiters.notified({ type: "committed", proposalId: quorum, index: 1, term: 1 }, null);
    expect(outcomes.get(1)).toMatchObject({ ok: true, ackPoint: "quorum-fsync" });
  });

  it("leadership lost before the quorum: the proposal's fate is unknown, not confirmed", () => {
    const { waiters, outcomes } = setup();
    const quorum = waiters.add((outcome) => outcomes.set(1, outcome), "quorum-memory");
    waiters.notified({ type: "appended", proposalId: quorum, index: 1 }, null);
    waiters.notified({ type: "role-changed", role: "follower", term: 2, leaderId: "m2" }, null);
    waiters.notified({ type: "proposal-unknown", proposalId: quorum, leaderId: "m2" }, "m2");
    expect(outcomes.get(1)).toEqual({ ok: false, reason: "unknown", leaderId: "m2" });
  });
});

describe("VisibleView: the delivery engine sees a message only at its store's ack point", () => {
  function setup(ackPoint: "quorum-fsync" | "quorum-memory" | "leader-memory"): { harness: Harness; progress: { commitIndex: number; quorumReceivedIndex: number }; view: VisibleView } {
    const harness = new Harness([storeConfig("orders", { ackPoint, durables: [standard("billing")] })]);
    const progress = { commitIndex: 0, quorumReceivedIndex: 0 };
    const view = new VisibleView(harness.state, () => progress, true);
    view.reset();
    for (let sequence = 1; sequence <= 3; sequence++) {
      harness.publishOne("orders", "p", sequence, bytesOf({ n: sequence }));
      view.noteApplied(sequence);
    }
    return { harness, progress, view };
  }

  it("quorum-fsync: only committed messages", () => {
    const { progress, view } = setup("quorum-fsync");
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([]);
    progress.quorumReceivedIndex = 3;
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([]);
    progress.commitIndex = 2;
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([1, 2]);
    expect(view.store("orders")?.lastSequence).toBe(2);
  });

  it("quorum-memory: what a quorum holds in memory", () => {
    const { progress, view } = setup("quorum-memory");
    progress.quorumReceivedIndex = 1;
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([1]);
  });

  it("leader-memory: everything applied", () => {
    const { view } = setup("leader-memory");
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([1, 2, 3]);
  });

  it("after a reset (snapshot, rollback) everything in the state is visible", () => {
    const { view } = setup("quorum-fsync");
    view.reset();
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([1, 2, 3]);
  });

  it("entries applied as committed (a follower, or no early apply) are visible at once", () => {
    const harness = new Harness([storeConfig("orders", { durables: [standard("billing")] })]);
    const progress = { commitIndex: 5, quorumReceivedIndex: 0 };
    const view = new VisibleView(harness.state, () => progress, true);
    harness.publishOne("orders", "p", 1, bytesOf({ n: 1 }));
    view.noteApplied(1);
    expect(view.pendingAfter("orders", "billing", 0, 10)).toEqual([1]);
  });
});
