import { describe, expect, it } from "vitest";
import { Prng } from "../../kernel/prng.js";
import type { Notification, Ready } from "./effects.js";
import type { Message } from "./messages.js";
import { ConsensusNode } from "./node.js";
import { consensusOptions } from "./options.js";
import type { Entry, MemberId } from "./types.js";

const ids = ["m1", "m2", "m3"] as const;

/**
 * Three nodes, messages delivered at once, fsync instant unless a member's disk is "slow":
 * then its writes (and what waits on them: acknowledgments, applies, notifications) are held
 * until `flushDisk`. Enough to watch what a leader with `applyBeforeCommit` does and when.
 */
class Trio {
  nowMs = 0;
  readonly nodes = new Map<MemberId, ConsensusNode>();
  readonly applied = new Map<MemberId, number[]>(ids.map((id) => [id, []]));
  readonly early = new Map<MemberId, number[]>(ids.map((id) => [id, []]));
  readonly notes = new Map<MemberId, Notification[]>(ids.map((id) => [id, []]));
  readonly restoredAt = new Map<MemberId, number[]>(ids.map((id) => [id, []]));
  readonly slowDisk = new Set<MemberId>();
  private readonly held = new Map<MemberId, Ready[]>(ids.map((id) => [id, []]));
  private readonly cut = new Set<MemberId>();
  private queue: Message[] = [];

  constructor(applyBeforeCommit: boolean) {
    for (const id of ids) {
      const options = consensusOptions({ id, definedMembers: ids.map((each) => ({ id: each, weight: 1 })), random: new Prng(id.charCodeAt(1)) }, { applyBeforeCommit });
      this.nodes.set(id, new ConsensusNode(options, { hardState: { term: 0, votedFor: null, empty: false }, snapshot: null, entries: [] }, 0));
    }
  }

  node(id: MemberId): ConsensusNode {
    return this.nodes.get(id) as ConsensusNode;
  }

  leader(): MemberId | undefined {
    return ids.find((id) => this.node(id).status().role === "leader");
  }

  isolate(id: MemberId): void {
    this.cut.add(id);
  }

  /** Run until quiet, ticking every 10 ms for `forMs`. */
  run(forMs: number): void {
    const end = this.nowMs + forMs;
    while (this.nowMs < end) {
      this.nowMs += 10;
      for (const id of ids) this.node(id).step(this.nowMs, { type: "tick" });
      this.settle();
    }
  }

  propose(id: MemberId, proposalId: number): void {
    this.node(id).step(this.nowMs, { type: "propose", proposals: [{ proposalId, data: new Uint8Array([proposalId]) }] });
    this.settle();
  }

  flushDisk(id: MemberId): void {
    const held = this.held.get(id) as Ready[];
    this.held.set(id, []);
    for (const ready of held) this.afterPersist(id, ready);
    this.settle();
  }

  settle(): void {
    for (let rounds = 0; rounds < 1000; rounds++) {
      let busy = false;
      for (const id of ids) {
        const node = this.node(id);
        while (node.hasReady()) {
          busy = true;
          this.execute(id, node.takeReady());
        }
      }
      const messages = this.queue;
      this.queue = [];
      for (const message of messages) {
        if (this.cut.has(message.from) || this.cut.has(message.to)) continue;
        busy = true;
        this.node(message.to).step(this.nowMs, { type: "message", message });
      }
      if (!busy) return;
    }
    throw new Error("no quiet after 1000 rounds");
  }

  private execute(id: MemberId, ready: Ready): void {
    this.queue.push(...ready.messages);
    (this.early.get(id) as number[]).push(...ready.applyEarly.map((entry: Entry) => entry.index));
    (this.notes.get(id) as Notification[]).push(...ready.notifyEarly);
    if (this.slowDisk.has(id) && ready.persist !== null) (this.held.get(id) as Ready[]).push(ready);
    else this.afterPersist(id, ready);
  }

  private afterPersist(id: MemberId, ready: Ready): void {
    this.queue.push(...ready.messagesAfterPersist);
    const last = ready.persist?.entries.at(-1);
    if (last !== undefined || ready.persist?.hardState) {
      this.node(id).step(this.nowMs, { type: "persisted", through: last ? { index: last.index, term: last.term } : null, hardState: ready.persist?.hardState ?? null });
    }
    const applied = this.applied.get(id) as number[];
    if (ready.applySnapshot !== null) {
      (this.restoredAt.get(id) as number[]).push(ready.applySnapshot.index);
      applied.length = 0;
    }
    applied.push(...ready.apply.map((entry) => entry.index));
    (this.notes.get(id) as Notification[]).push(...ready.notify);
  }
}

function electedTrio(applyBeforeCommit: boolean): { trio: Trio; leader: MemberId; followers: MemberId[] } {
  const trio = new Trio(applyBeforeCommit);
  trio.run(3000);
  const leader = trio.leader();
  if (leader === undefined) throw new Error("no leader after 3 s");
  return { trio, leader, followers: ids.filter((id) => id !== leader) };
}

describe("applyBeforeCommit: memory ack points", () => {
  it("the leader applies its own entry as it appends it and says so; followers apply only what committed", () => {
    const { trio, leader, followers } = electedTrio(true);
    trio.slowDisk.add(leader);
    for (const follower of followers) trio.slowDisk.add(follower);
    const appliedBefore = trio.node(leader).status().commitIndex;
    trio.propose(leader, 7);
    const index = trio.node(leader).status().history.index;
    expect(trio.early.get(leader)).toContain(index);
    expect(trio.notes.get(leader)).toContainEqual({ type: "appended", proposalId: 7, index });
    expect(trio.node(leader).status().commitIndex).toBe(appliedBefore);
    for (const follower of followers) expect(trio.early.get(follower)).toEqual([]);
  });

  it("a quorum holding the entry in memory is announced before anyone's fsync; commit waits for the fsyncs", () => {
    const { trio, leader, followers } = electedTrio(true);
    for (const id of ids) trio.slowDisk.add(id);
    trio.propose(leader, 9);
    const index = trio.node(leader).status().history.index;
    expect(trio.notes.get(leader)).toContainEqual({ type: "quorum-received", index });
    expect(trio.node(leader).status().commitIndex).toBeLessThan(index);
    expect(trio.notes.get(leader)?.some((note) => note.type === "committed")).toBe(false);
    trio.flushDisk(leader);
    trio.flushDisk(followers[0] as MemberId);
    expect(trio.node(leader).status().commitIndex).toBe(index);
    expect(trio.notes.get(leader)).toContainEqual({ type: "committed", proposalId: 9, index, term: trio.node(leader).status().term });
  });

  it("a leader deposed before its early-applied entries commit rebuilds from the initial state and what committed", () => {
    const { trio, leader, followers } = electedTrio(true);
    const committed = trio.node(leader).status().commitIndex;
    trio.isolate(leader);
    trio.propose(leader, 11);
    const lost = trio.node(leader).status().history.index;
    expect(trio.early.get(leader)).toContain(lost);
    // The others elect a new leader and write past it; the old leader hears of it on return.
    trio.run(3000);
    const next = trio.leader() === leader ? undefined : ids.find((id) => id !== leader && trio.node(id).status().role === "leader");
    expect(next).toBeDefined();
    expect(followers).toContain(next);
    trio.propose(next as MemberId, 12);
    (trio as unknown as { cut: Set<MemberId> }).cut.clear();
    trio.run(1000);
    expect(trio.node(leader).status().role).toBe("follower");
    expect(trio.restoredAt.get(leader)).toContain(0);
    expect(trio.notes.get(leader)).toContainEqual({ type: "proposal-unknown", proposalId: 11, leaderId: null });
    // Rebuilt: the committed prefix again, then the new leader's entries; never the lost one
    // out of order, and the same history as the new leader's followers.
    const applied = trio.applied.get(leader) as number[];
    expect(applied).toEqual(Array.from({ length: applied.length }, (_, at) => at + 1));
    expect(applied.length).toBeGreaterThan(committed);
    expect(trio.node(leader).status().appliedIndex).toBe(trio.node(next as MemberId).status().commitIndex);
  });

  it("off (the default): no early applies, no received acknowledgments", () => {
    const { trio, leader, followers } = electedTrio(false);
    trio.propose(leader, 5);
    expect(trio.early.get(leader)).toEqual([]);
    expect(trio.notes.get(leader)?.some((note) => note.type === "appended" || note.type === "quorum-received")).toBe(false);
    trio.run(200);
    for (const follower of followers) expect(trio.applied.get(follower)).toContain(trio.node(leader).status().commitIndex);
  });
});
