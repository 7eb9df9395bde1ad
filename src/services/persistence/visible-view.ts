import type { AckPoint, DurableInfo, PersistenceView, StoreInfo, StoredMessage } from "../../protocols/persistence/state-types.js";

/** Where the leader's log stands: what committed, what a quorum holds in memory. */
export interface LogProgress {
  readonly commitIndex: number;
  readonly quorumReceivedIndex: number;
}

interface Mark {
  readonly index: number;
  readonly lastSequence: number;
}

/**
 * What the delivery engine may see on a leader that applies before commit (memory ack
 * points): a message is delivered only once it reached its store's ack point, so a subscriber
 * never sees a message that a leader change could take back unless its store chose so.
 *  - quorum-fsync: committed;  quorum-memory: held by a quorum in memory;  leader-memory: applied.
 * Standard and shared durables see pending sequences up to that point; last-value and map
 * durables hide a key whose newest value is past it until it is (its older value is gone from
 * the state: the subscriber gets the key as an update a moment later).
 *
 * Without early apply everything applied is committed and this view hides nothing.
 */
export class VisibleView implements PersistenceView {
  /** Per store: (log index, store's last sequence after it) for entries not yet visible. */
  private readonly marks = new Map<string, Mark[]>();
  private readonly visible = new Map<string, number>();
  private readonly recorded = new Map<string, number>();

  constructor(
    private readonly view: PersistenceView,
    private readonly progress: () => LogProgress,
    private readonly enabled: boolean,
  ) {}

  /** After applying the entry at `index`: remember where each store's sequences stood. */
  noteApplied(index: number): void {
    if (!this.enabled) return;
    // Committed already (every member but an early-applying leader): nothing to hide.
    const committed = index <= this.progress().commitIndex;
    for (const store of this.view.stores()) {
      const last = store.lastSequence;
      const before = this.recorded.get(store.name) ?? 0;
      if (last <= before) continue;
      this.recorded.set(store.name, last);
      const marks = this.marks.get(store.name);
      if (committed && (marks === undefined || marks.length === 0)) {
        this.visible.set(store.name, last);
        continue;
      }
      if (marks === undefined || marks.length === 0) this.visible.set(store.name, before);
      if (marks) marks.push({ index, lastSequence: last });
      else this.marks.set(store.name, [{ index, lastSequence: last }]);
    }
  }

  /** The state was replaced (snapshot, rollback): everything in it is committed. */
  reset(): void {
    this.marks.clear();
    this.visible.clear();
    this.recorded.clear();
    for (const store of this.view.stores()) {
      this.recorded.set(store.name, store.lastSequence);
      this.visible.set(store.name, store.lastSequence);
    }
  }

  /** The highest sequence of `store` the engine may see now. */
  visibleSequence(store: string): number {
    const info = this.view.store(store);
    if (info === undefined) return 0;
    const marks = this.marks.get(store);
    if (!this.enabled || marks === undefined || marks.length === 0) return info.lastSequence;
    const through = indexAtAckPoint(info.config.ackPoint, this.progress(), this.view.appliedIndex);
    let visible = this.visible.get(store) ?? 0;
    let drop = 0;
    while (drop < marks.length && (marks[drop] as Mark).index <= through) {
      visible = (marks[drop] as Mark).lastSequence;
      drop++;
    }
    if (drop > 0) marks.splice(0, drop);
    this.visible.set(store, visible);
    return visible;
  }

  // --- PersistenceView -------------------------------------------------------------------------

  get appliedIndex(): number {
    return this.view.appliedIndex;
  }

  get logTimeMs(): number {
    return this.view.logTimeMs;
  }

  stores(): readonly StoreInfo[] {
    return this.view.stores();
  }

  store(name: string): StoreInfo | undefined {
    const info = this.view.store(name);
    if (info === undefined || !this.enabled) return info;
    const visible = this.visibleSequence(name);
    return visible >= info.lastSequence ? info : { ...info, lastSequence: visible };
  }

  durables(store: string): readonly DurableInfo[] {
    return this.view.durables(store);
  }

  durable(store: string, name: string): DurableInfo | undefined {
    return this.view.durable(store, name);
  }

  pendingAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly number[] {
    const sequences = this.view.pendingAfter(store, durable, afterSequence, countMax);
    if (!this.enabled || sequences.length === 0) return sequences;
    const visible = this.visibleSequence(store);
    if ((sequences[sequences.length - 1] as number) <= visible) return sequences;
    return sequences.filter((sequence) => sequence <= visible);
  }

  isPending(store: string, durable: string, sequence: number): boolean {
    return this.view.isPending(store, durable, sequence);
  }

  message(store: string, sequence: number): StoredMessage | undefined {
    return this.view.message(store, sequence);
  }

  entriesAfter(store: string, durable: string, afterKey: string, countMax: number): readonly (readonly [string, StoredMessage])[] {
    return this.hideInvisible(store, this.view.entriesAfter(store, durable, afterKey, countMax));
  }

  updatesAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly (readonly [string, StoredMessage])[] {
    return this.hideInvisible(store, this.view.updatesAfter(store, durable, afterSequence, countMax));
  }

  entry(store: string, durable: string, key: string): StoredMessage | undefined {
    const message = this.view.entry(store, durable, key);
    if (message === undefined || !this.enabled) return message;
    return message.storeSequence <= this.visibleSequence(store) ? message : undefined;
  }

  private hideInvisible(store: string, entries: readonly (readonly [string, StoredMessage])[]): readonly (readonly [string, StoredMessage])[] {
    if (!this.enabled || entries.length === 0) return entries;
    const visible = this.visibleSequence(store);
    return entries.every(([, message]) => message.storeSequence <= visible) ? entries : entries.filter(([, message]) => message.storeSequence <= visible);
  }
}

function indexAtAckPoint(ackPoint: AckPoint, progress: LogProgress, appliedIndex: number): number {
  switch (ackPoint) {
    case "quorum-fsync":
      return progress.commitIndex;
    case "quorum-memory":
      return Math.max(progress.commitIndex, progress.quorumReceivedIndex);
    case "leader-memory":
      return appliedIndex;
  }
}
