import { assert } from "../kernel/assert.js";
import type { Notification, Ready } from "../protocols/consensus/effects.js";
import type { Configuration, Entry, MemberId, Snapshot } from "../protocols/consensus/types.js";
import type { Clock } from "./ports.js";
import type { ReplicaApplication, SlicedRestore } from "./replica-application.js";
import { SlicedWork, type JobProgress, type SlicedJob } from "./sliced-work.js";

/** When the replica snapshots by itself: whichever comes first. */
export interface SnapshotPolicy {
  /** After this many applied entries since the last snapshot. */
  readonly entriesInterval: number;
  /**
   * After this many bytes of applied entries since the last snapshot, or the last snapshot's
   * size if larger: replaying the log after a restart then costs at most about what rebuilding
   * the state costs, and snapshots never take more than half the work of applying.
   */
  readonly logBytesMin: number;
}

export interface ApplicationDriverOptions {
  readonly id: MemberId;
  readonly application: ReplicaApplication;
  readonly clock: Clock;
  readonly definedMembers: Configuration["voters"];
  readonly applyBeforeCommit: boolean;
  readonly sliceMs: number;
  /** How long a snapshot waits for the commit index to reach what an early-applying leader applied. */
  readonly snapshotCommitWaitMs: number;
  readonly snapshotPolicy: SnapshotPolicy | null;
  readonly notify: (notification: Notification) => void;
  /** The consensus node's commit index now. */
  readonly commitIndex: () => number;
  /** A snapshot of applied, committed state is complete: the node may compact through it. */
  readonly snapshotTaken: (snapshot: Snapshot) => void;
}

/** Entries handed to `apply` in one call: a slice checks the time between calls. */
const applyChunkBytes = 16 * 1024;
const applyChunkEntries = 64;

/**
 * Carries out the application's part of each Ready (effects.ts rules 3-5) through one
 * first-in first-out queue of sliced work (sliced-work.ts): applying entries, restoring
 * snapshots, notifying clients, a leader's early applies, and its own snapshots. Order is the
 * contract's: a batch's apply, then its notifications; early work after the apply work of
 * every earlier batch. Only the timing changed: a long log is applied a few milliseconds at a
 * time, with the consensus (heartbeats, votes, appends, persisted) running in between, so a
 * member that restarts on a long log leads or follows at once and catches up in the background.
 */
export class ApplicationDriver {
  private readonly work: SlicedWork;
  // What the application holds: the last applied position and the configuration in force at
  // that index, to build snapshots.
  private appliedIndexValue = 0;
  private appliedTerm = 0;
  private appliedConfig: Configuration;
  /** The highest index handed to the queue (applied or not yet). */
  private handedIndex = 0;
  private snapshotIndex = 0;
  private bytesSinceSnapshot = 0;
  private lastSnapshotBytes = 0;
  private snapshotPending = false;
  /** Restores so far: a snapshot captured before a later restore is not reported. */
  private restores = 0;
  // Early work (effects.ts rule 5): it waits only for the apply work of earlier batches.
  private applyWorkIssued = 0;
  private applyWorkQueued = 0;
  private readonly earlyWaiting: { readonly afterApplyWork: number; readonly ready: Ready }[] = [];
  /** The application's state before any entry, for a rollback to "nothing committed yet". */
  private readonly initialState: Uint8Array | null;

  constructor(private readonly options: ApplicationDriverOptions) {
    this.work = new SlicedWork(options.clock, options.sliceMs);
    this.appliedConfig = { voters: options.definedMembers, learners: [] };
    this.initialState = options.applyBeforeCommit ? (options.application.snapshot?.call(options.application) ?? null) : null;
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** Entries committed (or applied early) here and not yet applied: how far the application lags. */
  get lagEntries(): number {
    return Math.max(0, this.handedIndex - this.appliedIndexValue);
  }

  get slicesYielded(): number {
    return this.work.slicesYielded;
  }

  stop(): void {
    this.work.stop();
  }

  /** Issue a number for a batch's apply work (rule 5: later early work waits for it). */
  issueApplyWork(ready: Ready): number {
    return ready.applySnapshot !== null || ready.apply.length > 0 ? ++this.applyWorkIssued : 0;
  }

  /** Nothing applied is still to come: early work may run before this batch's durable part. */
  get earlyMayRunNow(): boolean {
    return this.earlyWaiting.length === 0 && this.applyWorkQueued >= this.applyWorkIssued;
  }

  /** A batch's early work (rule 5), now if nothing it waits for is outstanding, else in turn. */
  early(ready: Ready): void {
    if (this.earlyMayRunNow) this.queueEarly(ready);
    else this.earlyWaiting.push({ afterApplyWork: this.applyWorkIssued, ready });
  }

  /** A batch is durable: its snapshot, entries and notifications, in that order (rules 3, 4). */
  durable(ready: Ready, applyWork: number): void {
    if (ready.applySnapshot !== null) this.queueRestore(ready.applySnapshot);
    if (ready.apply.length > 0) this.queueApply(ready.apply);
    if (ready.notify.length > 0) this.queueNotify(ready.notify);
    if (applyWork === 0) return;
    this.applyWorkQueued = applyWork;
    while (this.earlyWaiting.length > 0) {
      const next = this.earlyWaiting[0] as { readonly afterApplyWork: number; readonly ready: Ready };
      if (next.afterApplyWork > this.applyWorkQueued) return;
      this.earlyWaiting.shift();
      this.queueEarly(next.ready);
    }
  }

  /** Queue a snapshot of the application at its last applied entry; false when there is nothing new. */
  takeSnapshot(): boolean {
    if (this.snapshotPending || this.options.application.snapshot === undefined) return false;
    if (this.handedIndex <= this.snapshotIndex) return false;
    this.snapshotPending = true;
    this.work.push(this.captureJob(this.options.clock.nowMs()));
    return true;
  }

  // --- jobs ----------------------------------------------------------------------------------

  private queueEarly(ready: Ready): void {
    if (ready.applyEarly.length > 0) this.queueApply(ready.applyEarly);
    if (ready.notifyEarly.length > 0) this.queueNotify(ready.notifyEarly);
  }

  private queueNotify(notifications: readonly Notification[]): void {
    const notify = this.options.notify;
    this.work.push({
      supersedable: false,
      run: () => {
        for (let i = 0; i < notifications.length; i++) notify(notifications[i] as Notification);
        return "done";
      },
    });
  }

  private queueApply(entries: readonly Entry[]): void {
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    this.handedIndex = Math.max(this.handedIndex, last.index);
    let next = 0;
    this.work.push({
      supersedable: true,
      run: (more) => {
        while (next < entries.length) {
          const end = chunkEnd(entries, next);
          this.applyNow(next === 0 && end === entries.length ? entries : entries.slice(next, end));
          next = end;
          if (next < entries.length && !more()) return "more";
        }
        return "done";
      },
    });
  }

  private applyNow(entries: readonly Entry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      assert(entry.index === this.appliedIndexValue + 1,
        `${this.options.id} applies ${entry.index} after ${this.appliedIndexValue}: entries must be contiguous`);
      this.appliedIndexValue = entry.index;
      this.appliedTerm = entry.term;
      this.bytesSinceSnapshot += entry.data.length;
      if (entry.kind === "config") {
        assert(entry.config !== undefined, "a config entry without its configuration");
        this.appliedConfig = entry.config;
      }
    }
    this.options.application.apply(entries);
    this.maybeSnapshotByPolicy();
  }

  private maybeSnapshotByPolicy(): boolean {
    const policy = this.options.snapshotPolicy;
    if (policy === null || this.snapshotPending) return false;
    const byEntries = this.appliedIndexValue - this.snapshotIndex >= policy.entriesInterval;
    const byBytes = this.bytesSinceSnapshot >= Math.max(policy.logBytesMin, this.lastSnapshotBytes);
    return (byEntries || byBytes) && this.takeSnapshot();
  }

  /**
   * The state is about to be replaced: applying entries queued before is pointless (a rollback
   * of early applies, a snapshot from the leader), so they are dropped; notifications stay.
   */
  private queueRestore(snapshot: Snapshot): void {
    this.work.supersede();
    this.handedIndex = snapshot.index;
    this.restores += 1;
    const application = this.options.application;
    const restoring = snapshot.index === 0 ? this.initialSnapshot(snapshot) : snapshot;
    let sliced: SlicedRestore | null = null;
    this.work.push({
      supersedable: false,
      run: (more) => {
        if (application.beginRestore === undefined) {
          application.restore(restoring);
        } else {
          sliced ??= application.beginRestore(restoring);
          if (!sliced.step(more)) return "more";
        }
        this.noteRestored(snapshot);
        return "done";
      },
    });
  }

  /** A snapshot at index 0 means the initial state (a rollback of early applies, effects.ts). */
  private initialSnapshot(snapshot: Snapshot): Snapshot {
    assert(this.initialState !== null, `${this.options.id}: rolling back early applies needs the application's snapshot hook`);
    return { ...snapshot, data: this.initialState };
  }

  private noteRestored(snapshot: Snapshot): void {
    // Only a rollback of early applies (applyBeforeCommit) goes back.
    assert(snapshot.index >= this.appliedIndexValue || this.options.applyBeforeCommit,
      `${this.options.id} restores snapshot ${snapshot.index} behind applied ${this.appliedIndexValue}`);
    this.appliedIndexValue = snapshot.index;
    this.appliedTerm = snapshot.term;
    this.appliedConfig = snapshot.config;
    this.snapshotIndex = snapshot.index;
    this.bytesSinceSnapshot = 0;
    if (snapshot.index > 0) this.lastSnapshotBytes = snapshot.data.length;
  }

  /**
   * Capture the state between two queued jobs, then encode it in the background. A leader
   * applying before commit may hold entries that never commit: it waits (bounded) for the
   * commit index to catch up, holding back later early applies meanwhile, as a snapshot must
   * never cover uncommitted state.
   */
  private captureJob(queuedAtMs: number): SlicedJob {
    return {
      supersedable: false,
      run: (): JobProgress => {
        if (this.appliedIndexValue > this.options.commitIndex()) {
          if (this.options.clock.nowMs() - queuedAtMs < this.options.snapshotCommitWaitMs) return { waitMs: 1 };
          this.snapshotPending = false;
          return "done";
        }
        if (this.appliedIndexValue <= this.snapshotIndex) {
          this.snapshotPending = false;
          return "done";
        }
        this.encodeInBackground();
        return "done";
      },
    };
  }

  private encodeInBackground(): void {
    const application = this.options.application;
    const position = { index: this.appliedIndexValue, term: this.appliedTerm, config: this.appliedConfig };
    const restores = this.restores;
    this.snapshotIndex = position.index;
    this.bytesSinceSnapshot = 0;
    const encoding = application.captureSnapshot?.call(application) ?? wholeSnapshot(application);
    this.work.pushBackground({
      run: (more) => {
        const data = encoding.step(more);
        if (data === null) return "more";
        this.snapshotPending = false;
        this.lastSnapshotBytes = data.length;
        if (this.restores === restores) this.options.snapshotTaken({ ...position, data });
        return "done";
      },
    });
  }
}

/** An application without a sliced encoder: its `snapshot()`, taken now, at the capture. */
function wholeSnapshot(application: ReplicaApplication): { step(): Uint8Array } {
  const snapshotOf = application.snapshot;
  assert(snapshotOf !== undefined, "snapshots need the application's snapshot hook");
  const data = snapshotOf.call(application);
  return { step: () => data };
}

/** Where the chunk of entries starting at `from` ends (exclusive): a few KiB, at least one entry. */
function chunkEnd(entries: readonly Entry[], from: number): number {
  let bytes = 0;
  let end = from;
  while (end < entries.length && end - from < applyChunkEntries) {
    bytes += (entries[end] as Entry).data.length;
    end++;
    if (bytes >= applyChunkBytes) break;
  }
  return end;
}
