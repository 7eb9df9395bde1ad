import { assert } from "../../kernel/assert.js";
import type { Rejection } from "./state-types.js";

/**
 * What a store remembers of its publishers: the outcome of each one's recent sequences, so a
 * retry (the same publisher id and sequence, e.g. after a leader change) answers what the
 * first attempt answered instead of storing twice.
 *
 * A publisher's window spans the `windowMax` sequences up to the highest one seen. Sequences
 * may arrive out of order inside it; one older than it cannot be told apart from a retry, so
 * it is refused (`duplicate-outside-window`). Outcomes live in a ring of store sequences
 * indexed by publisher sequence, grown by doubling up to `windowMax`, so a publisher that sends
 * little costs little and the hot path allocates nothing. Rejections (rare) sit in a parallel
 * ring made on the first one.
 */
export type RememberedOutcome = { readonly storeSequence: number } | Rejection;

/** A window as plain data (snapshots): [sequence, outcome] ascending by sequence. */
export interface WindowRecord {
  readonly publisherId: string;
  readonly lastActiveMs: number;
  readonly highest: number;
  readonly outcomes: readonly (readonly [number, RememberedOutcome])[];
}

const unseen = 0;
const rejected = -1;
const ringLengthMin = 8;

export class PublisherWindow {
  /** Log time of this publisher's last publish command. */
  lastActiveMs = 0;
  private highest = 0;
  /** Lowest sequence ever remembered (0: none); a lower bound of what the ring still holds. */
  private lowest = 0;
  /** Store sequence per publisher sequence; `unseen` or `rejected`. */
  private ring: Float64Array;
  private rejections: (Rejection | undefined)[] | undefined;

  constructor(private readonly windowMax: number) {
    assert(windowMax > 0 && (windowMax & (windowMax - 1)) === 0, `dedup window ${windowMax} must be a power of two`);
    this.ring = new Float64Array(Math.min(ringLengthMin, windowMax));
  }

  /** Whether the sequence is older than the window (cannot be told from a retry). */
  isBeforeWindow(sequence: number): boolean {
    return sequence <= this.highest - this.windowMax;
  }

  /** The outcome remembered for this sequence, if it is inside the window and was seen. */
  outcome(sequence: number): RememberedOutcome | undefined {
    if (sequence > this.highest || this.highest - sequence >= this.ring.length) return undefined;
    const slot = sequence & (this.ring.length - 1);
    const value = this.ring[slot] as number;
    if (value === unseen) return undefined;
    if (value === rejected) return this.rejections?.[slot];
    return { storeSequence: value };
  }

  rememberStored(sequence: number, storeSequence: number): void {
    // The slot first: slotFor may replace this.ring (grow), and `this.ring[...] =` reads it before.
    const slot = this.slotFor(sequence);
    this.ring[slot] = storeSequence;
  }

  rememberRejected(sequence: number, rejection: Rejection): void {
    const slot = this.slotFor(sequence);
    this.ring[slot] = rejected;
    this.rejections ??= new Array<Rejection | undefined>(this.ring.length);
    this.rejections[slot] = rejection;
  }

  remember(sequence: number, outcome: RememberedOutcome): void {
    if ("storeSequence" in outcome) this.rememberStored(sequence, outcome.storeSequence);
    else this.rememberRejected(sequence, outcome);
  }

  /** The ring slot of a sequence about to be remembered, moving or growing the window. */
  private slotFor(sequence: number): number {
    assert(Number.isSafeInteger(sequence) && sequence > 0 && !this.isBeforeWindow(sequence), `sequence ${sequence} is outside the window`);
    if (sequence > this.highest) this.advance(sequence);
    else if (this.highest - sequence >= this.ring.length) this.grow(this.highest - sequence + 1);
    this.lowest = this.lowest === 0 ? sequence : Math.min(this.lowest, sequence);
    return sequence & (this.ring.length - 1);
  }

  record(publisherId: string): WindowRecord {
    const outcomes: [number, RememberedOutcome][] = [];
    for (let sequence = Math.max(1, this.highest - this.ring.length + 1); sequence <= this.highest; sequence += 1) {
      const outcome = this.outcome(sequence);
      if (outcome !== undefined) outcomes.push([sequence, outcome]);
    }
    return { publisherId, lastActiveMs: this.lastActiveMs, highest: this.highest, outcomes };
  }

  static fromRecord(windowMax: number, record: WindowRecord): PublisherWindow {
    const window = new PublisherWindow(windowMax);
    window.lastActiveMs = record.lastActiveMs;
    window.highest = record.highest;
    const first = record.outcomes[0];
    if (first !== undefined) window.grow(record.highest - first[0] + 1);
    for (const [sequence, outcome] of record.outcomes) window.remember(sequence, outcome);
    return window;
  }

  /** Move the top of the window to `sequence`, forgetting what falls out of the ring. */
  private advance(sequence: number): void {
    if (this.lowest > 0) {
      const floor = Math.max(this.lowest, this.highest - this.ring.length + 1);
      if (sequence - floor + 1 > this.ring.length) this.grow(sequence - floor + 1);
    }
    const mask = this.ring.length - 1;
    // Slots between the old top and the new one held sequences that are now out of the ring.
    for (let cleared = Math.max(this.highest + 1, sequence - this.ring.length + 1); cleared <= sequence; cleared += 1) {
      this.ring[cleared & mask] = unseen;
      if (this.rejections !== undefined) this.rejections[cleared & mask] = undefined;
    }
    this.highest = sequence;
  }

  /** Double the ring until it spans `span` sequences (at most windowMax). */
  private grow(span: number): void {
    let length = this.ring.length;
    while (length < span && length < this.windowMax) length *= 2;
    if (length === this.ring.length) return;
    const old = this.ring;
    const oldRejections = this.rejections;
    this.ring = new Float64Array(length);
    this.rejections = oldRejections === undefined ? undefined : new Array<Rejection | undefined>(length);
    for (let sequence = Math.max(1, this.highest - old.length + 1); sequence <= this.highest; sequence += 1) {
      this.ring[sequence & (length - 1)] = old[sequence & (old.length - 1)] as number;
      if (this.rejections !== undefined) this.rejections[sequence & (length - 1)] = oldRejections?.[sequence & (old.length - 1)];
    }
  }
}

export interface DedupLimits {
  readonly dedupWindowSequencesMax: number;
  readonly dedupPublishersMax: number;
  readonly dedupPublisherIdleMs: number;
}

/**
 * The windows of one store's publishers. The Map's insertion order is kept as recency order
 * (a publisher is moved to the end on each publish), so forgetting idle publishers and the
 * least recently active one past `dedupPublishersMax` both work from the front, in the same
 * order on every service.
 */
export class PublisherWindows {
  private readonly windows = new Map<string, PublisherWindow>();

  constructor(private readonly limits: DedupLimits) {}

  get size(): number {
    return this.windows.size;
  }

  /** The publisher's window, made most recent (created if new). */
  touch(publisherId: string, atMs: number): PublisherWindow {
    let window = this.windows.get(publisherId);
    if (window === undefined) window = new PublisherWindow(this.limits.dedupWindowSequencesMax);
    else this.windows.delete(publisherId);
    this.windows.set(publisherId, window);
    window.lastActiveMs = atMs;
    while (this.windows.size > this.limits.dedupPublishersMax) this.forgetOldest();
    return window;
  }

  /** Forget publishers silent for dedupPublisherIdleMs: their retries would be stored again. */
  expire(logTimeMs: number): void {
    for (const window of this.windows.values()) {
      if (window.lastActiveMs + this.limits.dedupPublisherIdleMs > logTimeMs) break;
      this.forgetOldest();
    }
  }

  records(): WindowRecord[] {
    return [...this.windows].map(([publisherId, window]) => window.record(publisherId));
  }

  restore(records: readonly WindowRecord[]): void {
    this.windows.clear();
    this.restoreMore(records);
  }

  /** Snapshots in chunks: more publishers after those restored so far, in recency order. */
  restoreMore(records: readonly WindowRecord[]): void {
    for (const record of records) this.windows.set(record.publisherId, PublisherWindow.fromRecord(this.limits.dedupWindowSequencesMax, record));
  }

  private forgetOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
