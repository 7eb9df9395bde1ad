import { assert } from "../../kernel/assert.js";

/**
 * A set of positive sequences added in ascending order (store sequences), with delete, and
 * iteration "after x" by binary search. Deleting leaves a tombstone (the value negated) so the
 * array stays sorted by absolute value; tombstones at the head are skipped at once and the
 * array is compacted when they outnumber the live values, so memory stays proportional to
 * what is live and every operation is O(log n) amortized.
 *
 * Why not a Map or a tree: acks and age remove mostly from the head and publishes add at the
 * tail, so a flat array of numbers is the cheapest shape for the hot path.
 */
export class SequenceSet {
  /** Ascending by absolute value; a negative entry is a deleted sequence. */
  private values: number[] = [];
  /** Entries before this index are all deleted. */
  private start = 0;
  private tombstones = 0;
  private live = 0;

  static from(sequences: readonly number[]): SequenceSet {
    const set = new SequenceSet();
    for (const sequence of sequences) set.add(sequence);
    return set;
  }

  get size(): number {
    return this.live;
  }

  /** The highest sequence ever added and not compacted away, or 0. */
  private get last(): number {
    const value = this.values[this.values.length - 1];
    return value === undefined ? 0 : Math.abs(value);
  }

  add(sequence: number): void {
    assert(sequence > this.last && Number.isSafeInteger(sequence), `sequence ${sequence} added after ${this.last}`);
    this.values.push(sequence);
    this.live += 1;
  }

  has(sequence: number): boolean {
    const index = this.indexOf(sequence);
    return index >= 0 && (this.values[index] as number) > 0;
  }

  /** Whether it was present. */
  delete(sequence: number): boolean {
    const index = this.indexOf(sequence);
    if (index < 0 || (this.values[index] as number) < 0) return false;
    this.values[index] = -sequence;
    this.live -= 1;
    this.tombstones += 1;
    while (this.start < this.values.length && (this.values[this.start] as number) < 0) this.start += 1;
    if (this.tombstones > this.live && this.tombstones >= 32) this.compact();
    return true;
  }

  /** The lowest sequence, or undefined when empty. */
  first(): number | undefined {
    return this.live === 0 ? undefined : this.values[this.start];
  }

  /** Sequences > afterSequence, ascending, at most countMax. */
  after(afterSequence: number, countMax: number): number[] {
    const result: number[] = [];
    const values = this.values;
    for (let index = this.firstIndexAbove(afterSequence); index < values.length && result.length < countMax; index += 1) {
      const value = values[index] as number;
      if (value > 0) result.push(value);
    }
    return result;
  }

  /** Every sequence, ascending. */
  toArray(): number[] {
    return this.after(0, Number.POSITIVE_INFINITY);
  }

  /** Index of the entry whose absolute value is `sequence`, or -1. */
  private indexOf(sequence: number): number {
    const index = this.firstIndexAbove(sequence - 1);
    const value = this.values[index];
    return value !== undefined && Math.abs(value) === sequence ? index : -1;
  }

  /** The first index (from `start`) whose absolute value is > sequence. */
  private firstIndexAbove(sequence: number): number {
    const values = this.values;
    let low = this.start;
    let high = values.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (Math.abs(values[middle] as number) > sequence) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  private compact(): void {
    const kept: number[] = [];
    for (let index = this.start; index < this.values.length; index += 1) {
      const value = this.values[index] as number;
      if (value > 0) kept.push(value);
    }
    // Keep the highest sequence as a tombstone so `add` still refuses going backwards.
    const last = this.last;
    if (last > 0 && kept[kept.length - 1] !== last) kept.push(-last);
    this.values = kept;
    this.start = 0;
    this.tombstones = kept.length - this.live;
    while (this.start < kept.length && (kept[this.start] as number) < 0) this.start += 1;
  }
}
