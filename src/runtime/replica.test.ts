import { describe, expect, it } from "vitest";
import { MemoryLogStorage } from "../adapters/memory/log-storage.js";
import { ManualClock } from "../adapters/memory/manual-clock.js";
import { Prng } from "../kernel/prng.js";
import type { Notification, PersistBatch } from "../protocols/consensus/effects.js";
import type { Message } from "../protocols/consensus/messages.js";
import { consensusOptions } from "../protocols/consensus/options.js";
import type { Entry, MemberDefinition, Snapshot } from "../protocols/consensus/types.js";
import type { LogStorage, Transport } from "./ports.js";
import { Replica } from "./replica.js";

class RecordingTransport implements Transport {
  sent: Message[] = [];
  handler: ((message: Message) => void) | null = null;
  closed = false;
  send(message: Message): void {
    this.sent.push(message);
  }
  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }
  close(): void {
    this.closed = true;
  }
}

/** Durability callbacks wait until the test releases them. */
class Deferred {
  private callbacks: Array<() => void> = [];
  defer = (callback: () => void): void => {
    this.callbacks.push(callback);
  };
  flush(): void {
    while (this.callbacks.length > 0) (this.callbacks.shift() as () => void)();
  }
  get waiting(): number {
    return this.callbacks.length;
  }
}

class RecordingApplication {
  applied: Entry[] = [];
  restored: Snapshot[] = [];
  apply(entries: readonly Entry[]): void {
    this.applied.push(...entries);
  }
  restore(snapshot: Snapshot): void {
    this.restored.push(snapshot);
  }
  snapshot(): Uint8Array {
    return new Uint8Array([this.applied.length]);
  }
}

function member(id: string, definedMembers: MemberDefinition[], storage: LogStorage) {
  const clock = new ManualClock();
  const transport = new RecordingTransport();
  const application = new RecordingApplication();
  const notifications: Notification[] = [];
  const failures: Error[] = [];
  const replica = new Replica({
    consensus: consensusOptions({ id, definedMembers, random: new Prng(1) }),
    storage,
    transport,
    clock,
    application,
    notify: (notification) => notifications.push(notification),
    onFailure: (error) => failures.push(error),
  });
  return { replica, clock, transport, application, notifications, failures };
}

const one: MemberDefinition[] = [{ id: "m1", weight: 1 }];
const three: MemberDefinition[] = [{ id: "m1", weight: 1 }, { id: "m2", weight: 1 }, { id: "m3", weight: 1 }];

describe("Replica", () => {
  it("a single member forms, commits a proposal and notifies only after the write is durable", () => {
    const disk = new Deferred();
    const { replica, clock, application, notifications } = member("m1", one, new MemoryLogStorage({ defer: disk.defer }));
    clock.advance(2000, () => disk.flush());
    expect(replica.status().role).toBe("leader");
    replica.propose([{ proposalId: 7, data: new Uint8Array([1, 2]) }]);
    clock.advance(0);
    expect(notifications.some((notification) => notification.type === "committed")).toBe(false);
    expect(disk.waiting).toBeGreaterThan(0);
    disk.flush();
    clock.advance(0);
    const committed = notifications.find((notification) => notification.type === "committed");
    expect(committed).toMatchObject({ type: "committed", proposalId: 7 });
    expect(application.applied.map((entry) => entry.kind)).toContain("command");
    // Applied entries are contiguous from 1.
    expect(application.applied.map((entry) => entry.index)).toEqual(application.applied.map((_, i) => i + 1));
  });

  it("sends a vote grant only once the vote is durable", () => {
    const disk = new Deferred();
    const { transport, clock } = member("m2", three, new MemoryLogStorage({ defer: disk.defer }));
    transport.handler?.({ type: "vote", from: "m1", to: "m2", term: 1, lastIndex: 0, lastTerm: 0, empty: true, transfer: false });
    clock.advance(0);
    expect(transport.sent.filter((message) => message.type === "vote-response")).toEqual([]);
    disk.flush();
    expect(transport.sent.filter((message) => message.type === "vote-response")).toMatchObject([{ granted: true, term: 1, to: "m1" }]);
  });

  it("keeps batch order: a later Ready without a write waits behind an earlier pending write", () => {
    const disk = new Deferred();
    const { replica, clock, notifications } = member("m1", one, new MemoryLogStorage({ defer: disk.defer }));
    clock.advance(2000, () => disk.flush());
    const before = notifications.length;
    replica.propose([{ proposalId: 1, data: new Uint8Array([1]) }]);
    clock.advance(0);
    // Answered from memory, no write of its own: still it must not overtake the proposal's write.
    replica.read(9);
    clock.advance(0);
    expect(notifications.slice(before)).toEqual([]);
    disk.flush();
    clock.advance(0);
    // Batch order: the read's Ready came before the one the commit produced.
    const types = notifications.slice(before).map((notification) => notification.type);
    expect(types[0]).toMatch(/^read-/);
    expect(types).toContain("committed");
  });

  it("stops on a disk error and reports it (fail-stop)", () => {
    const failing: LogStorage = {
      recover: () => ({ hardState: { term: 0, votedFor: null, empty: true }, snapshot: null, entries: [], emptyReason: "no data" }),
      write: (_batch: PersistBatch, onDurable) => queueMicrotask(() => onDurable(new Error("EIO"))),
      close: () => {},
    };
    const { replica, clock, transport, failures } = member("m1", one, failing);
    return new Promise<void>((resolve) => {
      clock.advance(2000);
      queueMicrotask(() => {
        expect(failures.map((error) => error.message)).toEqual(["EIO"]);
        expect(replica.isStopped).toBe(true);
        expect(replica.failedWith?.message).toBe("EIO");
        expect(transport.closed).toBe(true);
        expect(clock.pendingTimers()).toBe(0);
        resolve();
      });
    });
  });

  it("snapshots the application at its applied index and restores it after a restart", () => {
    const disk = new Deferred();
    const storage = new MemoryLogStorage({ defer: disk.defer });
    const first = member("m1", one, storage);
    first.clock.advance(2000, () => disk.flush());
    first.replica.propose([{ proposalId: 1, data: new Uint8Array([5]) }]);
    first.clock.advance(0);
    disk.flush();
    first.clock.advance(0);
    expect(first.replica.takeSnapshot()).toBe(true);
    expect(first.replica.takeSnapshot()).toBe(false);
    first.clock.advance(0);
    disk.flush();
    first.replica.stop();
    const second = member("m1", one, storage);
    second.clock.advance(0);
    disk.flush();
    expect(second.application.restored).toHaveLength(1);
    expect(second.application.restored[0]?.index).toBe(first.application.applied.length);
  });

  it("a follower applying a long committed log answers its leader between slices, long before it is done", () => {
    const disk = new Deferred();
    const clock = new ManualClock();
    const transport = new RecordingTransport();
    const applied: number[] = [];
    const replica = new Replica({
      consensus: consensusOptions({ id: "m2", definedMembers: three, random: new Prng(1) }),
      storage: new MemoryLogStorage({ defer: disk.defer }),
      transport,
      clock,
      // 0.05 ms an entry: 10,000 entries are half a second of work, were it done at once.
      application: { apply: (entries) => { clock.spend(0.05 * entries.length); applied.push(...entries.map((entry) => entry.index)); }, restore: () => {} },
      notify: () => {},
    });
    const entries: Entry[] = Array.from({ length: 10_000 }, (_, at) => ({ index: at + 1, term: 1, kind: "command", data: new Uint8Array([at % 256]) }));
    const append = (prevIndex: number, batch: readonly Entry[]) => transport.handler?.({
      type: "append", from: "m1", to: "m2", term: 1, prevIndex, prevTerm: prevIndex === 0 ? 0 : 1, entries: batch, commitIndex: 10_000, sentAtMs: clock.nowMs(), commitWithoutFollower: false,
    });
    append(0, entries);
    clock.advance(0);
    disk.flush();
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.length).toBeLessThan(entries.length);
    // The leader's heartbeat, while the follower is still applying: answered at once.
    const answersBefore = transport.sent.filter((message) => message.type === "append-response").length;
    append(10_000, []);
    clock.advance(0);
    disk.flush();
    expect(transport.sent.filter((message) => message.type === "append-response").length).toBeGreaterThan(answersBefore);
    expect(applied.length).toBeLessThan(entries.length);
    expect(replica.applyStatus().lagEntries).toBe(entries.length - applied.length);
    clock.advance(1000, () => disk.flush());
    expect(applied).toEqual(entries.map((entry) => entry.index));
    expect(replica.applyStatus()).toMatchObject({ appliedIndex: 10_000, lagEntries: 0 });
    expect(replica.applyStatus().slicesYielded).toBeGreaterThan(50);
  });
});
