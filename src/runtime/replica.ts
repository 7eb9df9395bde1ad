import { assert } from "../kernel/assert.js";
import type { Notification, PersistBatch, Ready } from "../protocols/consensus/effects.js";
import type { Input, MembershipChange, Proposal } from "../protocols/consensus/inputs.js";
import type { Message } from "../protocols/consensus/messages.js";
import { ConsensusNode } from "../protocols/consensus/node.js";
import type { ConsensusOptions } from "../protocols/consensus/options.js";
import type { LogPosition, MemberId, MemberStatus } from "../protocols/consensus/types.js";
import { limits } from "../kernel/limits.js";
import { ApplicationDriver, type SnapshotPolicy } from "./application-driver.js";
import type { Clock, LogStorage, TimerHandle, Transport } from "./ports.js";
import type { ReplicaApplication } from "./replica-application.js";

export type { ReplicaApplication } from "./replica-application.js";

export interface ReplicaOptions {
  readonly consensus: ConsensusOptions;
  readonly storage: LogStorage;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly application: ReplicaApplication;
  /** Notifications for local clients, in order, each after the state it reports is durable. */
  readonly notify: (notification: Notification) => void;
  /** The replica stopped itself (fail-stop): the disk failed. Not called for `stop()`. */
  readonly onFailure?: (error: Error) => void;
  /** Snapshots the replica takes by itself (none when absent: the owner calls takeSnapshot). */
  readonly snapshotPolicy?: SnapshotPolicy;
  /** Application work yields the event loop after this long (default limits.applySliceMs). */
  readonly sliceMs?: number;
}

/** The snapshot policy of services: limits.ts's. */
export const defaultSnapshotPolicy: SnapshotPolicy = {
  entriesInterval: limits.snapshotEntriesInterval,
  logBytesMin: limits.snapshotLogBytesMin,
};

/**
 * The part of one Ready that must wait for durability: everything but `messages` and
 * `persist`. Kept in batch order in `pending`; `durable` turns true in the write's callback.
 */
interface PendingBatch {
  durable: boolean;
  /** Sequence number of its apply work (applySnapshot or apply, application-driver.ts), 0 when it has none. */
  readonly applyWork: number;
  /** What to report back as `persisted`, or null when the batch held no entries or snapshot. */
  readonly through: LogPosition | null;
  readonly ready: Ready;
}

const tickInput: Input = Object.freeze({ type: "tick" });

/**
 * Drives one ConsensusNode: turns timer ticks, transport messages and local requests into
 * inputs, and carries out each Ready in the order effects.ts specifies:
 *
 *   messages              -> sent at once
 *   persist               -> storage.write (many may be in flight: group commit is the storage's)
 *   in the write's onDurable, in batch order:
 *     messagesAfterPersist -> sent
 *     persisted            -> stepped back into the node (if the batch had entries or a snapshot)
 *     applySnapshot, apply -> the application driver (then the application, in slices)
 *     notify               -> local clients, through the driver after the applies before them
 *   applyEarly, notifyEarly -> the driver, after the apply work of earlier batches
 *
 * A Ready without `persist` still queues its after-persist part behind earlier pending writes,
 * so the effects of consecutive Readies never overtake one another.
 *
 * The consensus never waits for the application: `persisted` and the messages that follow it go
 * out as soon as the write is durable, however far behind the application's slices are.
 *
 * The same class runs in the simulator and in the member process; nothing here knows which.
 */
export class Replica {
  readonly id: MemberId;
  private readonly node: ConsensusNode;
  private readonly options: ReplicaOptions;
  private readonly pending: PendingBatch[] = [];
  /** Index of the first entry of `pending` still waiting (a queue without shift()). */
  private pendingHead = 0;
  private tickTimer: TimerHandle | null = null;
  private draining = false;
  private drainScheduled = false;
  private stopped = false;
  private failure: Error | null = null;
  /** Reused for every received message while no other message step is running. */
  private readonly messageInput: { type: "message"; message: Message } = { type: "message", message: null as unknown as Message };
  private messageInputBusy = false;

  /** The application's side of every Ready, in slices. */
  private readonly driver: ApplicationDriver;

  /** Why storage recovery marked this member empty, or null. */
  readonly emptyReason: string | null;

  constructor(options: ReplicaOptions) {
    this.options = options;
    this.id = options.consensus.id;
    const recovered = options.storage.recover();
    this.emptyReason = recovered.emptyReason;
    this.driver = new ApplicationDriver({
      id: this.id,
      application: options.application,
      clock: options.clock,
      definedMembers: options.consensus.definedMembers,
      applyBeforeCommit: options.consensus.applyBeforeCommit,
      sliceMs: options.sliceMs ?? limits.applySliceMs,
      snapshotCommitWaitMs: limits.snapshotCommitWaitMs,
      snapshotPolicy: options.snapshotPolicy ?? null,
      notify: options.notify,
      commitIndex: () => this.node.commitIndex,
      snapshotTaken: (snapshot) => this.step({ type: "snapshot-taken", snapshot }),
    });
    // A recovered snapshot reaches the (blank) application through the first Ready's
    // applySnapshot, like one installed from the leader.
    this.node = new ConsensusNode(options.consensus, recovered, options.clock.nowMs());
    options.transport.onMessage((message) => this.receive(message));
    this.scheduleTick();
    this.drain();
  }

  // --- public requests ----------------------------------------------------------------------

  propose(proposals: readonly Proposal[]): void {
    this.step({ type: "propose", proposals });
  }

  read(readId: number): void {
    this.step({ type: "read", readId });
  }

  transferLeadership(to: MemberId | null): void {
    this.step({ type: "transfer-leadership", to });
  }

  changeMembership(change: MembershipChange): void {
    this.step({ type: "change-membership", change });
  }

  /** Operator only: unsafe by design (see inputs.ts); the report arrives as a notification. */
  forceQuorum(reachable: readonly MemberId[]): void {
    this.step({ type: "force-quorum", reachable });
  }

  /**
   * Snapshot the application once the work queued before it is applied, and let the node
   * compact the log through it. The state is captured between two applies and encoded in
   * slices; an early-applying leader first waits (bounded) for the commit index to reach what
   * it applied. Returns false when there is nothing new to snapshot, one is under way, or the
   * application has no snapshot hook.
   */
  takeSnapshot(): boolean {
    if (this.stopped) return false;
    return this.driver.takeSnapshot();
  }

  status(): MemberStatus {
    return this.node.status();
  }

  /** Where the log stands (cheap: for per-poll checks). */
  get commitIndex(): number {
    return this.node.commitIndex;
  }

  get quorumReceivedIndex(): number {
    return this.node.quorumReceivedIndex;
  }

  /** How far the application stands behind what was committed here (applied in slices). */
  applyStatus(): { readonly appliedIndex: number; readonly lagEntries: number; readonly slicesYielded: number } {
    return { appliedIndex: this.driver.appliedIndex, lagEntries: this.driver.lagEntries, slicesYielded: this.driver.slicesYielded };
  }

  /** Leading with a valid lease now (synchronous; see lease.ts `leaseHeld`). */
  holdsLease(): boolean {
    return !this.stopped && this.node.leaseHeld(this.options.clock.nowMs());
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** The disk error that stopped this replica, if any. */
  get failedWith(): Error | null {
    return this.failure;
  }

  /**
   * Stop driving the node: no more ticks, messages or effects. Writes already issued may still
   * become durable, but nothing that waits on them happens any more.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.tickTimer?.cancel();
    this.tickTimer = null;
    this.driver.stop();
    this.options.transport.close();
    this.options.storage.close();
  }

  // --- inputs ---------------------------------------------------------------------------------

  private scheduleTick(): void {
    this.tickTimer = this.options.clock.setTimer(this.options.consensus.heartbeatIntervalMs, () => {
      if (this.stopped) return;
      this.step(tickInput);
      if (!this.stopped) this.scheduleTick();
    });
  }

  private receive(message: Message): void {
    if (this.stopped) return;
    assert(message.to === this.id, `message for ${message.to} delivered to ${this.id}`);
    if (this.messageInputBusy) {
      this.step({ type: "message", message });
      return;
    }
    this.messageInputBusy = true;
    this.messageInput.message = message;
    try {
      this.step(this.messageInput);
    } finally {
      this.messageInput.message = null as unknown as Message;
      this.messageInputBusy = false;
    }
  }

  /**
   * Feed one input; its effects are carried out once the current turn's inputs are all in
   * (clock.defer), so a socket read of many appends becomes one Ready: one WAL write, one
   * round of messages, one notification pass. Batching on every hop without adding a timer.
   */
  private step(input: Input): void {
    if (this.stopped) return;
    this.node.step(this.options.clock.nowMs(), input);
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.options.clock.defer(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  // --- effects --------------------------------------------------------------------------------

  /** Take and carry out every Ready. Re-entrant calls (from a notification) leave it to us. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.stopped && this.node.hasReady()) this.execute(this.node.takeReady());
    } finally {
      this.draining = false;
    }
  }

  private execute(ready: Ready): void {
    const transport = this.options.transport;
    for (let i = 0; i < ready.messages.length; i++) transport.send(ready.messages[i] as Message);

    const applyWork = this.driver.issueApplyWork(ready);
    let early = ready.applyEarly.length > 0 || ready.notifyEarly.length > 0;
    if (early && applyWork === 0 && this.driver.earlyMayRunNow) {
      // Nothing to apply before it: answer memory ack points before this batch's commits, so
      // a quorum-received and a commit that arrive in one turn answer at the point asked for.
      this.driver.early(ready);
      early = false;
    }
    const persist = ready.persist;
    const waiting = this.pending.length - this.pendingHead;
    if (persist === null) {
      if (hasAfterPersistWork(ready)) {
        if (waiting === 0) {
          this.afterDurable(ready, null, applyWork);
        } else {
          // Keep batch order: run behind the last pending write.
          this.pending.push({ durable: true, applyWork, through: null, ready });
        }
      }
    } else {
      const batch: PendingBatch = { durable: false, applyWork, through: persistedThrough(persist), ready };
      this.pending.push(batch);
      this.options.storage.write(persist, (error) => this.onDurable(batch, error));
    }
    if (early) this.driver.early(ready);
  }

  private onDurable(batch: PendingBatch, error: Error | undefined): void {
    if (this.stopped) return;
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    assert(!batch.durable, "a write completed twice");
    batch.durable = true;
    this.flushDurable();
  }

  /** Carry out, in batch order, every pending batch whose write (and every earlier one) is done. */
  private flushDurable(): void {
    while (!this.stopped && this.pendingHead < this.pending.length) {
      const head = this.pending[this.pendingHead] as PendingBatch;
      if (!head.durable) break;
      this.pendingHead++;
      this.afterDurable(head.ready, head.through, head.applyWork);
    }
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    } else if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private afterDurable(ready: Ready, through: LogPosition | null, applyWork: number): void {
    const transport = this.options.transport;
    const after = ready.messagesAfterPersist;
    for (let i = 0; i < after.length; i++) transport.send(after[i] as Message);
    const hardState = ready.persist?.hardState ?? null;
    if (through !== null || hardState !== null) {
      this.node.step(this.options.clock.nowMs(), { type: "persisted", through, hardState });
    }
    this.driver.durable(ready, applyWork);
    // The persisted step (or a client reacting to a notification) may have produced more work;
    // one group commit completes many batches at once, so gather their effects into one Ready.
    this.scheduleDrain();
  }

  private fail(error: Error): void {
    this.failure = error;
    this.stop();
    this.options.onFailure?.(error);
  }
}

/** Work that must wait for earlier writes (early work, rule 5 of effects.ts, does not). */
function hasAfterPersistWork(ready: Ready): boolean {
  return ready.messagesAfterPersist.length > 0 || ready.applySnapshot !== null || ready.apply.length > 0 ||
    ready.notify.length > 0;
}

/** The last log position a persist batch makes durable, or null when it holds none. */
function persistedThrough(batch: PersistBatch): LogPosition | null {
  const last = batch.entries[batch.entries.length - 1];
  if (last !== undefined) return { index: last.index, term: last.term };
  if (batch.snapshot !== null) return { index: batch.snapshot.index, term: batch.snapshot.term };
  return null;
}
