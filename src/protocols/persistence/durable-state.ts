/**
 * One durable's share of a store. Acked durables (standard, shared) hold the set of store
 * sequences not yet acked; keyed durables (last-value, map) hold the current message per key.
 * Messages themselves live once in the store and are reference-counted by the durables that
 * hold them (see store-state.ts).
 */
import { assert } from "../../kernel/assert.js";
import type { Matcher } from "./matcher.js";
import type { WireTest } from "./matcher-wire.js";
import type { Value } from "./message.js";
import { SequenceSet } from "./sequence-set.js";
import type { DurableSettings, StoredMessage } from "./state-types.js";

/** A message held by the store: the view's StoredMessage plus how many durables hold it. */
export interface StoredEntry extends StoredMessage {
  refs: number;
}

/** Static durables come from the configuration; dynamic ones remember how they were made. */
export type DurableOrigin =
  | { readonly dynamic: false }
  | { readonly dynamic: true; readonly template: string; readonly matcher: readonly WireTest[] | undefined };

abstract class DurableBase {
  constructor(
    readonly name: string,
    readonly settings: DurableSettings,
    /** Undefined when empty: interested in every message without reading its fields. */
    readonly matcher: Matcher | undefined,
    readonly origin: DurableOrigin,
  ) {}
}

export class AckedDurable extends DurableBase {
  readonly kind = "acked";
  readonly pending = new SequenceSet();

  get backlog(): number {
    return this.pending.size;
  }

  /** Snapshots: the pending sequences, ascending, in one call or in chunks (the set checks the order). */
  restorePending(sequences: readonly number[]): void {
    for (const sequence of sequences) this.pending.add(sequence);
  }
}

export class KeyedDurable extends DurableBase {
  readonly kind = "keyed";
  /** The key field as a path into nested messages; undefined: only map-set writes (map). */
  readonly keyPath: readonly string[] | undefined;
  readonly entries = new Map<string, StoredEntry>();
  /** Keys ascending (UTF-16 code unit order), for entriesAfter by binary search. */
  private readonly sortedKeys: string[] = [];
  /** Current entries by store sequence, for updatesAfter. */
  private readonly sequences = new SequenceSet();
  private readonly keyBySequence = new Map<number, string>();

  constructor(name: string, settings: DurableSettings, matcher: Matcher | undefined, origin: DurableOrigin) {
    super(name, settings, matcher, origin);
    this.keyPath = settings.keyField === undefined ? undefined : settings.keyField.split(".");
  }

  get backlog(): number {
    return this.entries.size;
  }

  /**
   * Snapshots: entries in key order, in one call or in chunks, into a durable nothing was
   * applied to; then `finishRestore` once.
   */
  restoreEntries(entries: readonly (readonly [string, StoredEntry])[]): void {
    assert(this.sequences.size === 0, `durable ${this.name}: restore into a used durable`);
    for (const [key, entry] of entries) {
      assert(this.sortedKeys.length === 0 || (this.sortedKeys[this.sortedKeys.length - 1] as string) < key, `durable ${this.name}: keys out of order`);
      this.sortedKeys.push(key);
      this.entries.set(key, entry);
      this.keyBySequence.set(entry.storeSequence, key);
    }
  }

  /** The entries are all restored: index them by store sequence (one sort of the keys held). */
  finishRestore(): void {
    assert(this.sequences.size === 0, `durable ${this.name}: restore finished twice`);
    for (const sequence of [...this.keyBySequence.keys()].sort((a, b) => a - b)) this.sequences.add(sequence);
  }

  /** Sets the key to a newer message; returns the one it replaced (the caller releases it). */
  set(key: string, entry: StoredEntry): StoredEntry | undefined {
    const old = this.entries.get(key);
    if (old === undefined) this.sortedKeys.splice(this.firstKeyIndexAbove(key, true), 0, key);
    else this.forgetSequence(old.storeSequence);
    this.entries.set(key, entry);
    this.sequences.add(entry.storeSequence);
    this.keyBySequence.set(entry.storeSequence, key);
    return old;
  }

  remove(key: string): StoredEntry | undefined {
    const old = this.entries.get(key);
    if (old === undefined) return undefined;
    this.entries.delete(key);
    this.sortedKeys.splice(this.firstKeyIndexAbove(key, true), 1);
    this.forgetSequence(old.storeSequence);
    return old;
  }

  /** Removes whichever key holds this store sequence (age or discard-old); whether one did. */
  removeSequence(sequence: number): boolean {
    const key = this.keyBySequence.get(sequence);
    return key !== undefined && this.remove(key) !== undefined;
  }

  /** [key, message] for keys > afterKey in key order. */
  entriesAfter(afterKey: string, countMax: number): [string, StoredEntry][] {
    const result: [string, StoredEntry][] = [];
    for (let index = this.firstKeyIndexAbove(afterKey, false); index < this.sortedKeys.length && result.length < countMax; index += 1) {
      const key = this.sortedKeys[index] as string;
      result.push([key, this.entries.get(key) as StoredEntry]);
    }
    return result;
  }

  /** [key, message] whose store sequence > afterSequence, ascending by store sequence. */
  updatesAfter(afterSequence: number, countMax: number): [string, StoredEntry][] {
    return this.sequences.after(afterSequence, countMax).map((sequence) => {
      const key = this.keyBySequence.get(sequence) as string;
      return [key, this.entries.get(key) as StoredEntry];
    });
  }

  /** [key, store sequence] in key order (snapshots). */
  keysInOrder(): readonly string[] {
    return this.sortedKeys;
  }

  private forgetSequence(sequence: number): void {
    assert(this.sequences.delete(sequence), `keyed durable ${this.name} lost sequence ${sequence}`);
    this.keyBySequence.delete(sequence);
  }

  /** With `inclusive`, the index of the first key >= key (where it is or would go); else > key. */
  private firstKeyIndexAbove(key: string, inclusive: boolean): number {
    let low = 0;
    let high = this.sortedKeys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const probe = this.sortedKeys[middle] as string;
      if (inclusive ? probe >= key : probe > key) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

export type DurableState = AckedDurable | KeyedDurable;

/**
 * The key a field value gives a last-value or map entry: strings as they are; int and
 * timestamp in decimal; bool `true`/`false`; float as JavaScript prints it (shortest form that
 * reads back, `-0` for negative zero); bytes in lowercase hex. Nested messages and arrays are
 * not keys: a message whose key field holds one is not retained by that durable.
 */
export function keyOf(value: Value): string | undefined {
  switch (value.type) {
    case "string":
      return value.value;
    case "int":
    case "timestamp":
      return value.value.toString();
    case "bool":
      return value.value ? "true" : "false";
    case "float":
      return Object.is(value.value, -0) ? "-0" : String(value.value);
    case "bytes":
      return hex(value.value);
    case "message":
    case "array":
      return undefined;
  }
}

function hex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += (byte < 16 ? "0" : "") + byte.toString(16);
  return text;
}
