/**
 * One store: its retained messages (each held once, reference-counted by the durables that
 * retain it), its durables, its publishers' dedup windows, and the rules that decide what a
 * new message does to them (interest, limits, age). Called only by persistence-state.ts, in
 * log order; everything here is deterministic.
 */
import { assert } from "../../kernel/assert.js";
import { PublisherWindows } from "./dedup-window.js";
import { AckedDurable, KeyedDurable, keyOf, type DurableOrigin, type DurableState, type StoredEntry } from "./durable-state.js";
import { compileMatcher, resolvePath, type Matcher } from "./matcher.js";
import { decodeMessage } from "./message-codec.js";
import { limits as kernelLimits } from "../../kernel/limits.js";
import type { Message } from "./message.js";
import { MessageSlab } from "./message-slab.js";
import { SequenceSet } from "./sequence-set.js";
import type { StateLimits } from "./state-limits.js";
import type { ClusterStoresConfig, DurableSettings, DurableTemplateConfig, PublishOutcome, Rejection, StoreConfig, StoreInfo } from "./state-types.js";

const { messageSlabBytes, messageOwnBufferBytesMin } = kernelLimits;

export type StoreOutcome = Extract<PublishOutcome, { status: "stored" | "rejected" }>;

export class StoreState {
  readonly durables = new Map<string, DurableState>();
  readonly templates = new Map<string, DurableTemplateConfig>();
  readonly windows: PublisherWindows;
  /** Retained messages by store sequence. */
  readonly messages = new Map<number, StoredEntry>();
  /** The same sequences in order: the head is the oldest (age, discard-old). */
  private retained = new SequenceSet();
  bytes = 0;
  lastSequence = 0;
  dynamicDurables = 0;
  /**
   * Whether any durable reads message fields (a non-empty matcher or a key). When none does, a
   * published message is not decoded at all: the server validated it before proposing, and
   * its size is its length. This is the hot path (a standard durable that takes everything).
   */
  private needsFields = false;
  private durableList: DurableState[] = [];
  /** Scratch lists reused by every store call so the hot path allocates nothing for them. */
  private readonly ackedScratch: AckedDurable[] = [];
  private readonly keyedScratch: KeyedDurable[] = [];
  private readonly keyScratch: string[] = [];
  /** Where retained messages are kept or copied (see message-slab.ts). */
  private readonly slab = new MessageSlab(messageSlabBytes, messageOwnBufferBytesMin);
  /** Set by countFreed for makeRoom. */
  private freedMessages = 0;
  private freedBytes = 0;

  /** A copy of a message for a restored entry, packed like new ones. */
  copyMessage(bytes: Uint8Array): Uint8Array {
    return this.slab.copy(bytes);
  }

  constructor(
    readonly config: StoreConfig,
    private readonly limits: StateLimits,
  ) {
    this.windows = new PublisherWindows(limits);
    for (const template of config.templates) this.templates.set(template.name, template);
    for (const durable of config.durables) {
      const compiled = compileMatcher(durable.matcher ?? {});
      assert(compiled.ok, `store ${config.name} durable ${durable.name}: invalid matcher in the configuration`);
      this.addDurable(durable.name, durable, compiled.matcher, { dynamic: false });
    }
  }

  get name(): string {
    return this.config.name;
  }

  get messageBytesMax(): number {
    return this.config.limits.messageBytesMax ?? this.limits.messageBytesMax;
  }

  get dynamicDurablesMax(): number {
    return this.config.limits.dynamicDurablesMax ?? this.limits.dynamicDurablesPerStoreMax;
  }

  addDurable(name: string, settings: DurableSettings, matcher: Matcher, origin: DurableOrigin): DurableState {
    assert(!this.durables.has(name), `store ${this.name}: durable ${name} exists`);
    const interest = matcher.tests.length === 0 ? undefined : matcher;
    const durable = settings.type === "standard" || settings.type === "shared" ? new AckedDurable(name, settings, interest, origin) : new KeyedDurable(name, settings, interest, origin);
    this.durables.set(name, durable);
    this.durableList.push(durable);
    if (origin.dynamic) this.dynamicDurables += 1;
    this.needsFields ||= interest !== undefined || (durable.kind === "keyed" && durable.keyPath !== undefined);
    return durable;
  }

  /** Removes messages stored at or before logTimeMs - ageMs, oldest first. */
  expire(logTimeMs: number): void {
    const ageMs = this.config.limits.ageMs;
    if (ageMs === undefined) return;
    for (;;) {
      const oldest = this.oldest();
      if (oldest === undefined || oldest.atMs + ageMs > logTimeMs) return;
      this.evict(oldest);
    }
  }

  /**
   * A published (or dead-lettered) message: retained by every acked durable whose matcher
   * matches and every keyed durable whose key field gives a key. Retained by none, it is not
   * kept, but it still takes a store sequence.
   */
  storeMessage(bytes: Uint8Array, atMs: number): StoreOutcome {
    if (bytes.length > this.messageBytesMax) return this.tooLarge(bytes.length);
    let fields: Message | undefined;
    if (this.needsFields) {
      const decoded = decodeMessage(bytes);
      if (!decoded.ok) return { status: "rejected", reason: "invalid-message", detail: `the message does not decode: ${decoded.error.detail} (${decoded.error.kind} at byte ${decoded.error.offset})` };
      fields = decoded.message;
    }
    const acked = this.ackedScratch;
    const keyed = this.keyedScratch;
    const keys = this.keyScratch;
    acked.length = 0;
    keyed.length = 0;
    keys.length = 0;
    for (const durable of this.durableList) {
      if (durable.matcher !== undefined && !durable.matcher.matches(fields as Message)) continue;
      if (durable.kind === "acked") acked.push(durable);
      else if (durable.keyPath !== undefined) {
        const value = resolvePath(fields as Message, durable.keyPath);
        const key = value === undefined ? undefined : keyOf(value);
        if (key !== undefined && this.isKey(key)) {
          keyed.push(durable);
          keys.push(key);
        }
      }
    }
    const retainedBy = acked.length + keyed.length;
    if (retainedBy === 0) {
      this.lastSequence += 1;
      return { status: "stored", storeSequence: this.lastSequence, retainedBy: 0 };
    }
    const full = this.makeRoom(bytes.length, keyed, keys);
    if (full !== undefined) return { status: "rejected", ...full };
    const entry = this.newEntry(bytes, atMs, retainedBy);
    for (const durable of acked) durable.pending.add(entry.storeSequence);
    for (let index = 0; index < keyed.length; index += 1) {
      const old = (keyed[index] as KeyedDurable).set(keys[index] as string, entry);
      if (old !== undefined) this.unref(old);
    }
    return { status: "stored", storeSequence: entry.storeSequence, retainedBy };
  }

  /** map-set: the message under this key of one map durable, replacing the key's old one. */
  setKey(durable: KeyedDurable, key: string, bytes: Uint8Array, atMs: number): StoreOutcome {
    if (bytes.length > this.messageBytesMax) return this.tooLarge(bytes.length);
    this.keyedScratch.length = 0;
    this.keyScratch.length = 0;
    this.keyedScratch.push(durable);
    this.keyScratch.push(key);
    const full = this.makeRoom(bytes.length, this.keyedScratch, this.keyScratch);
    if (full !== undefined) return { status: "rejected", ...full };
    const entry = this.newEntry(bytes, atMs, 1);
    const old = durable.set(key, entry);
    if (old !== undefined) this.unref(old);
    return { status: "stored", storeSequence: entry.storeSequence, retainedBy: 1 };
  }

  removeKey(durable: KeyedDurable, key: string): boolean {
    const old = durable.remove(key);
    if (old !== undefined) this.unref(old);
    return old !== undefined;
  }

  /** How many of these sequences were pending (and now are not). */
  ack(durable: AckedDurable, sequences: readonly number[]): number {
    let acked = 0;
    for (const sequence of sequences) {
      if (!durable.pending.delete(sequence)) continue;
      acked += 1;
      const entry = this.messages.get(sequence);
      assert(entry !== undefined, `store ${this.name}: pending sequence ${sequence} has no message`);
      this.unref(entry);
    }
    return acked;
  }

  /** 1..mapKeyLengthMax characters. */
  isKey(key: string): boolean {
    return key.length >= 1 && key.length <= this.limits.mapKeyLengthMax;
  }

  info(): StoreInfo {
    return { name: this.name, messages: this.messages.size, bytes: this.bytes, lastSequence: this.lastSequence, config: this.config };
  }

  /**
   * Restores retained messages (snapshots), in one call or in ascending chunks, into a store
   * nothing was applied to; durables then take their references.
   */
  restoreMessages(lastSequence: number, entries: readonly StoredEntry[]): void {
    assert(this.lastSequence === 0 || this.lastSequence === lastSequence, `store ${this.name}: restore into a used store`);
    this.lastSequence = lastSequence;
    for (const entry of entries) {
      this.messages.set(entry.storeSequence, entry);
      this.retained.add(entry.storeSequence);
      this.bytes += entry.message.length;
    }
  }

  private newEntry(bytes: Uint8Array, atMs: number, refs: number): StoredEntry {
    this.lastSequence += 1;
    // A view into the log entry's buffer when that is small, else a copy (message-slab.ts):
    // a large buffer would otherwise stay in memory as long as any one of its messages does.
    const entry: StoredEntry = { storeSequence: this.lastSequence, atMs, message: this.slab.keep(bytes), refs };
    this.messages.set(entry.storeSequence, entry);
    this.retained.add(entry.storeSequence);
    this.bytes += bytes.length;
    return entry;
  }

  /** One durable let go of the message; the last one releases it. */
  private unref(entry: StoredEntry): void {
    entry.refs -= 1;
    assert(entry.refs >= 0, `store ${this.name}: message ${entry.storeSequence} released twice`);
    if (entry.refs > 0) return;
    this.messages.delete(entry.storeSequence);
    this.retained.delete(entry.storeSequence);
    this.bytes -= entry.message.length;
  }

  /** Age or discard-old: every durable lets go of the message. */
  private evict(entry: StoredEntry): void {
    for (const durable of this.durableList) {
      if (entry.refs === 0) break;
      const held = durable.kind === "acked" ? durable.pending.delete(entry.storeSequence) : durable.removeSequence(entry.storeSequence);
      if (held) this.unref(entry);
    }
    assert(entry.refs === 0, `store ${this.name}: message ${entry.storeSequence} held by no durable but counted ${entry.refs}`);
  }

  private oldest(): StoredEntry | undefined {
    const sequence = this.retained.first();
    return sequence === undefined ? undefined : this.messages.get(sequence);
  }

  /**
   * Sets freedMessages and freedBytes: what storing would free because keyed durables replace
   * the old message of the same key and no other durable holds it (a last-value store at its
   * limit still takes updates of existing keys).
   */
  private countFreed(keyed: readonly KeyedDurable[], keys: readonly string[]): void {
    this.freedMessages = 0;
    this.freedBytes = 0;
    for (let index = 0; index < keyed.length; index += 1) {
      const old = (keyed[index] as KeyedDurable).entries.get(keys[index] as string);
      if (old === undefined) continue;
      let replacing = 0;
      let firstIndex = -1;
      for (let other = 0; other < keyed.length; other += 1) {
        if ((keyed[other] as KeyedDurable).entries.get(keys[other] as string) !== old) continue;
        replacing += 1;
        if (firstIndex < 0) firstIndex = other;
      }
      // Count each old message once, at the first durable that replaces it.
      if (firstIndex === index && replacing === old.refs) {
        this.freedMessages += 1;
        this.freedBytes += old.message.length;
      }
    }
  }

  private fits(messageBytes: number): boolean {
    const { bytes: bytesMax, messages: messagesMax } = this.config.limits;
    return (
      (bytesMax === undefined || this.bytes - this.freedBytes + messageBytes <= bytesMax) &&
      (messagesMax === undefined || this.messages.size - this.freedMessages + 1 <= messagesMax)
    );
  }

  /** Undefined when the message fits (after discarding the oldest, under discard-old). */
  private makeRoom(messageBytes: number, keyed: readonly KeyedDurable[], keys: readonly string[]): Rejection | undefined {
    const { bytes: bytesMax, messages: messagesMax } = this.config.limits;
    if (bytesMax === undefined && messagesMax === undefined) return undefined;
    this.countFreed(keyed, keys);
    if (this.fits(messageBytes)) return undefined;
    const never = (bytesMax !== undefined && messageBytes > bytesMax) || messagesMax === 0;
    if (this.config.full === "reject-new" || never) return this.fullRejection(messageBytes, never);
    do {
      const oldest = this.oldest();
      assert(oldest !== undefined, `store ${this.name}: nothing left to discard`);
      this.evict(oldest);
      // The evicted message may be one a key was about to replace: count again.
      this.countFreed(keyed, keys);
    } while (!this.fits(messageBytes));
    return undefined;
  }

  private fullRejection(messageBytes: number, never: boolean): Rejection {
    const { bytes: bytesMax, messages: messagesMax } = this.config.limits;
    const usage = [
      messagesMax === undefined ? `${this.messages.size} messages` : `${this.messages.size} of ${messagesMax} messages`,
      bytesMax === undefined ? `${this.bytes} bytes` : `${this.bytes} of ${bytesMax} bytes`,
    ].join(", ");
    const advice = never
      ? "the message can never fit: raise the store's limits"
      : "ack or remove messages, raise the store's limits, or set full: discard-old";
    return { reason: "store-full", detail: `store ${JSON.stringify(this.name)} is full (${usage}; the message needs ${messageBytes} bytes); ${advice}` };
  }

  private tooLarge(messageBytes: number): StoreOutcome {
    return {
      status: "rejected",
      reason: "too-large",
      detail: `the message has ${messageBytes} bytes; store ${JSON.stringify(this.name)} takes at most ${this.messageBytesMax} bytes per message`,
    };
  }
}

/** Every configured store, empty, in configuration order. */
export function newStores(config: ClusterStoresConfig, limits: StateLimits): Map<string, StoreState> {
  const stores = new Map<string, StoreState>();
  for (const storeConfig of config.stores) {
    assert(!stores.has(storeConfig.name), `store ${storeConfig.name} configured twice`);
    stores.set(storeConfig.name, new StoreState(storeConfig, limits));
  }
  return stores;
}
