import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocols/consensus/messages.js";
import type { Entry } from "../../src/protocols/consensus/types.js";
import { Checkers } from "./checkers.js";
import { History } from "./history.js";
import { MemberLog } from "./observed-storage.js";

const encoder = new TextEncoder();

function command(index: number, term: number, payload: string): Entry {
  return { index, term, kind: "command", data: encoder.encode(payload) };
}

function setup() {
  const history = new History();
  const logs = new Map<string, MemberLog>([["m1", new MemberLog()], ["m2", new MemberLog()], ["m3", new MemberLog()]]);
  const checkers = new Checkers(history, (member) => logs.get(member) ?? null);
  history.onAcknowledged((operation) => checkers.acknowledged(operation));
  history.onRead((read) => checkers.readInvoked(read), (read) => checkers.readAnswered(read));
  return { history, logs, checkers };
}

function write(log: MemberLog, entries: Entry[]): void {
  log.written({ snapshot: null, truncateFrom: null, entries, hardState: null, compactThrough: null });
}

function checkerNames(checkers: Checkers): string[] {
  return checkers.violations.map((violation) => violation.checker);
}

function voteResponse(from: string, to: string, term: number, granted: boolean, empty: boolean): Message {
  return { type: "vote-response", from, to, term, granted, empty, blind: false };
}

function vote(from: string, to: string, term: number, empty: boolean): Message {
  return { type: "vote", from, to, term, lastIndex: 0, lastTerm: 0, empty, transfer: false };
}

describe("checkers fail on bad histories", () => {
  it("election safety: two leaders in one term", () => {
    const { checkers } = setup();
    checkers.leader("m1", 3);
    checkers.leader("m1", 3);
    checkers.leader("m2", 4);
    expect(checkers.violations).toEqual([]);
    checkers.sent({ type: "append", from: "m3", to: "m1", term: 3, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0, sentAtMs: 0 , commitWithoutFollower: false});
    expect(checkerNames(checkers)).toEqual(["election-safety"]);
  });

  it("acknowledged kept: an acknowledged command missing at the end", () => {
    const { history, checkers } = setup();
    const kept = history.invoke(1, 0, "c0.1", "m1", 0);
    history.ok(kept, 1, 1, 10);
    checkers.appliedEntry("m1", command(1, 1, "c0.1"), "c0.1", 1);
    const lost = history.invoke(2, 0, "c0.2", "m1", 20);
    history.ok(lost, 2, 1, 30);
    checkers.finalCheck(new Map([["m1", 1], ["m2", 1]]));
    expect(checkerNames(checkers)).toEqual(["acknowledged-kept"]);
    expect(checkers.violations[0]?.detail).toContain("c0.2");
  });

  it("acknowledged kept: something else applied where a command was acknowledged", () => {
    const { history, checkers } = setup();
    history.ok(history.invoke(1, 0, "c0.1", "m1", 0), 5, 2, 10);
    checkers.appliedEntry("m2", command(5, 3, "c1.1"), "c1.1", 7);
    expect(checkerNames(checkers)).toContain("acknowledged-kept");
  });

  it("failed not applied: a command the client was told failed shows up applied", () => {
    const { history, checkers } = setup();
    history.fail(history.invoke(1, 0, "c0.1", "m2", 0), "not-leader at m2", 5);
    checkers.appliedEntry("m1", command(1, 1, "c0.1"), "c0.1", 1);
    expect(checkerNames(checkers)).toEqual(["failed-not-applied"]);
  });

  it("empty member votes: an empty member grants a vote to a member with history", () => {
    const { checkers } = setup();
    checkers.recovered("m3", true);
    checkers.sent(vote("m1", "m3", 5, false));
    checkers.sent(voteResponse("m3", "m1", 5, false, true));
    expect(checkers.violations).toEqual([]);
    checkers.sent(voteResponse("m3", "m1", 5, true, true));
    expect(checkerNames(checkers)).toContain("empty-member-votes");
  });

  it("empty member votes: a member that recovered empty grants before it caught up, even claiming not to be", () => {
    const { checkers, logs } = setup();
    checkers.recovered("m2", true);
    checkers.sent(vote("m1", "m2", 2, false));
    (logs.get("m2") as MemberLog).durableHardState = { term: 2, votedFor: "m1", empty: false };
    checkers.sent(voteResponse("m2", "m1", 2, true, false));
    expect(checkerNames(checkers)).toEqual(["empty-member-votes"]);
    checkers.caughtUp("m2");
    checkers.sent(vote("m3", "m2", 3, false));
    (logs.get("m2") as MemberLog).durableHardState = { term: 3, votedFor: "m3", empty: false };
    checkers.sent(voteResponse("m2", "m3", 3, true, false));
    expect(checkers.violations).toHaveLength(1);
  });

  it("empty member votes: empty grants to an empty candidate are a first formation, allowed", () => {
    const { checkers, logs } = setup();
    checkers.recovered("m2", true);
    checkers.sent(vote("m1", "m2", 1, true));
    (logs.get("m2") as MemberLog).durableHardState = { term: 1, votedFor: "m1", empty: true };
    checkers.sent(voteResponse("m2", "m1", 1, true, true));
    checkers.leader("m1", 1, true);
    expect(checkers.violations).toEqual([]);
    // A second formation after the cluster formed is not.
    checkers.leader("m3", 2, true);
    expect(checkerNames(checkers)).toEqual(["empty-member-votes"]);
  });

  it("empty member votes: an empty candidate with history (a cut WAL tail) wins only unanimously", () => {
    const { checkers, logs } = setup();
    checkers.leader("m1", 1);
    for (const voter of ["m2", "m3"]) {
      (logs.get(voter) as MemberLog).durableHardState = { term: 2, votedFor: "m1", empty: false };
    }
    checkers.sent(voteResponse("m2", "m1", 2, true, false));
    checkers.leader("m1", 2, true, ["m1", "m2", "m3"]);
    expect(checkerNames(checkers)).toEqual(["empty-member-votes"]);
    for (const voter of ["m1", "m2"]) {
      (logs.get(voter) as MemberLog).durableHardState = { term: 3, votedFor: "m3", empty: false };
      checkers.sent(voteResponse(voter, "m3", 3, true, false));
    }
    checkers.leader("m3", 3, true, ["m1", "m2", "m3"]);
    expect(checkerNames(checkers)).toEqual(["empty-member-votes"]);
  });

  it("durable before vote: a vote granted before the vote is on disk", () => {
    const { checkers } = setup();
    checkers.sent(voteResponse("m2", "m1", 4, true, false));
    expect(checkerNames(checkers)).toEqual(["durable-before-vote"]);
  });

  it("durable before ack: an append acknowledged beyond the durable log", () => {
    const { checkers, logs } = setup();
    write(logs.get("m2") as MemberLog, [command(1, 1, "a"), command(2, 1, "b")]);
    checkers.sent({ type: "append-response", from: "m2", to: "m1", term: 1, success: true, matchIndex: 2, rejectHint: 0, empty: false, sentAtMs: 0 });
    expect(checkerNames(checkers)).toEqual(["durable-before-ack"]);
  });

  it("log matching: one index and term holding two payloads", () => {
    const { checkers } = setup();
    checkers.logEntries("m1", [command(1, 1, "a"), command(2, 1, "b")]);
    checkers.logEntries("m2", [command(1, 1, "a"), command(2, 2, "x")]);
    expect(checkers.violations).toEqual([]);
    checkers.logEntries("m3", [command(2, 1, "c")]);
    expect(checkerNames(checkers)).toEqual(["log-matching"]);
  });

  it("leader completeness: a new leader missing an acknowledged entry", () => {
    const { history, checkers, logs } = setup();
    write(logs.get("m1") as MemberLog, [command(1, 1, "c0.1")]);
    history.ok(history.invoke(1, 0, "c0.1", "m1", 0), 1, 1, 10);
    checkers.leader("m1", 1);
    expect(checkers.violations).toEqual([]);
    checkers.leader("m2", 2);
    expect(checkerNames(checkers)).toEqual(["leader-completeness"]);
  });

  it("state machine safety: members applying different entries, or the same after different histories", () => {
    const { checkers } = setup();
    checkers.appliedEntry("m1", command(1, 1, "a"), "a", 11);
    checkers.appliedEntry("m2", command(1, 1, "a"), "a", 11);
    expect(checkers.violations).toEqual([]);
    checkers.appliedEntry("m3", command(1, 2, "b"), "b", 12);
    checkers.appliedEntry("m2", command(2, 1, "c"), "c", 13);
    checkers.appliedEntry("m1", command(2, 1, "c"), "c", 99);
    expect(checkerNames(checkers)).toEqual(["state-machine-safety", "state-machine-safety"]);
  });

  it("state machine safety: a snapshot whose state differs from what was applied at its index", () => {
    const { checkers } = setup();
    checkers.appliedEntry("m1", command(1, 1, "a"), "a", 11);
    const config = { voters: [], learners: [] };
    checkers.restoredSnapshot("m2", { index: 1, term: 1, config, data: new Uint8Array(8) }, 11);
    expect(checkers.violations).toEqual([]);
    checkers.restoredSnapshot("m3", { index: 1, term: 1, config, data: new Uint8Array(8) }, 12);
    expect(checkerNames(checkers)).toEqual(["state-machine-safety"]);
  });

  it("linearizable read: a read misses a write acknowledged before it was invoked", () => {
    const { history, checkers } = setup();
    const concurrent = history.invokeRead(1, 1, "m1", 5);
    history.ok(history.invoke(1, 0, "c0.1", "m1", 0), 5, 2, 10);
    // Invoked before the acknowledgment: the read may or may not see the write.
    history.readOk(concurrent, 4, 2, 12);
    expect(checkers.violations).toEqual([]);
    history.readOk(history.invokeRead(2, 1, "m1", 20), 4, 2, 25);
    expect(checkerNames(checkers)).toEqual(["linearizable-read"]);
    expect(checkers.violations[0]?.detail).toContain("c0.1");
  });

  it("linearizable read: a read sees an older state than a read answered before it was invoked", () => {
    const { history, checkers } = setup();
    history.readOk(history.invokeRead(1, 0, "m1", 10), 7, 2, 30);
    history.readOk(history.invokeRead(2, 1, "m1", 40), 7, 2, 45);
    expect(checkers.violations).toEqual([]);
    history.readOk(history.invokeRead(3, 2, "m2", 50), 6, 2, 55);
    expect(checkerNames(checkers)).toEqual(["linearizable-read"]);
    expect(checkers.violations[0]?.detail).toContain("answered at index 7");
  });

  it("stale leader read: an old leader answers after a newer leader acknowledged a write", () => {
    const { history, checkers } = setup();
    history.ok(history.invoke(1, 0, "c0.1", "m1", 0), 3, 1, 10);
    const early = history.invokeRead(1, 1, "m1", 45);
    history.ok(history.invoke(2, 0, "c0.2", "m2", 20), 4, 2, 50);
    // Invoked before the term 2 acknowledgment: m1 may still hold its lease.
    history.readOk(early, 3, 1, 47);
    expect(checkers.violations).toEqual([]);
    // Invoked after it: m1's lease must have ended, even though index 4 is reflected.
    history.readOk(history.invokeRead(2, 1, "m1", 60), 4, 1, 61);
    expect(checkerNames(checkers)).toEqual(["stale-leader-read"]);
    expect(checkers.violations[0]?.detail).toContain("term 2");
  });

  it("stale leader read: a member answers a read while not leading", () => {
    const { history, checkers } = setup();
    history.readOk(history.invokeRead(1, 1, "m3", 5), 0, null, 6);
    expect(checkerNames(checkers)).toEqual(["stale-leader-read"]);
  });
});
