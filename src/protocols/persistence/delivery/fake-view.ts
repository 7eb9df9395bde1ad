/**
 * A small in-memory PersistenceView for the delivery engine's tests: stores, durables, pending
 * sequences and last-value entries, changed directly by the test (publish, ack, expire), with
 * the ordering promises of the real view and none of its replication.
 */
import { assert } from "../../../kernel/assert.js";
import type { DurableInfo, DurableSettings, PersistenceView, StoreConfig, StoreInfo, StoredMessage } from "../state-types.js";

interface FakeDurable {
  readonly info: Omit<DurableInfo, "backlog">;
  /** Standard/shared: pending sequences, ascending. */
  readonly pending: number[];
  /** Last-value/map: key → message. */
  readonly entries: Map<string, StoredMessage>;
}

interface FakeStore {
  readonly name: string;
  lastSequence: number;
  readonly messages: Map<number, StoredMessage>;
  readonly durables: Map<string, FakeDurable>;
}

export class FakeView implements PersistenceView {
  appliedIndex = 0;
  logTimeMs = 0;
  private readonly storesByName = new Map<string, FakeStore>();

  addDurable(store: string, name: string, settings: DurableSettings): this {
    const fakeStore = this.storeOrCreate(store);
    assert(!fakeStore.durables.has(name), `durable ${name} exists`);
    fakeStore.durables.set(name, { info: { store, name, dynamic: false, settings }, pending: [], entries: new Map() });
    return this;
  }

  removeDurable(store: string, name: string): void {
    this.fakeStore(store).durables.delete(name);
    this.collect(store);
  }

  /** Stores one message retained by the named standard/shared durables; returns its sequence. */
  publish(store: string, durables: readonly string[]): number {
    const message = this.nextMessage(store);
    for (const name of durables) {
      const durable = this.fakeDurable(store, name);
      assert(durable.info.settings.type === "standard" || durable.info.settings.type === "shared", `${name} is not acked`);
      durable.pending.push(message.storeSequence);
    }
    return message.storeSequence;
  }

  /** Sets a last-value or map key to a new message; returns its sequence. */
  setKey(store: string, durable: string, key: string): number {
    const message = this.nextMessage(store);
    this.fakeDurable(store, durable).entries.set(key, message);
    this.collect(store);
    return message.storeSequence;
  }

  /** The sequences that were pending and now are not (like the ack command's result). */
  ack(store: string, durable: string, sequences: readonly number[]): number {
    const pending = this.fakeDurable(store, durable).pending;
    let acked = 0;
    for (const sequence of sequences) {
      const index = pending.indexOf(sequence);
      if (index < 0) continue;
      pending.splice(index, 1);
      acked++;
    }
    this.collect(store);
    return acked;
  }

  /** The message leaves every durable of the store (age limit, discard-old). */
  expire(store: string, sequence: number): void {
    const fakeStore = this.fakeStore(store);
    for (const durable of fakeStore.durables.values()) {
      const index = durable.pending.indexOf(sequence);
      if (index >= 0) durable.pending.splice(index, 1);
      for (const [key, message] of durable.entries) if (message.storeSequence === sequence) durable.entries.delete(key);
    }
    fakeStore.messages.delete(sequence);
  }

  pendingSequences(store: string, durable: string): readonly number[] {
    return [...this.fakeDurable(store, durable).pending];
  }

  // --- PersistenceView ----------------------------------------------------------------------

  stores(): readonly StoreInfo[] {
    return [...this.storesByName.keys()].map((name) => this.store(name) as StoreInfo);
  }

  store(name: string): StoreInfo | undefined {
    const fakeStore = this.storesByName.get(name);
    if (fakeStore === undefined) return undefined;
    const config: StoreConfig = {
      name,
      limits: {},
      full: "discard-old",
      publisherMode: "confirm",
      ackPoint: "quorum-fsync",
      durables: [...fakeStore.durables.values()].map((durable) => ({ name: durable.info.name, ...durable.info.settings })),
      templates: [],
    };
    const bytes = [...fakeStore.messages.values()].reduce((sum, message) => sum + message.message.length, 0);
    return { name, messages: fakeStore.messages.size, bytes, lastSequence: fakeStore.lastSequence, config };
  }

  durables(store: string): readonly DurableInfo[] {
    const fakeStore = this.storesByName.get(store);
    if (fakeStore === undefined) return [];
    return [...fakeStore.durables.keys()].map((name) => this.durable(store, name) as DurableInfo);
  }

  durable(store: string, name: string): DurableInfo | undefined {
    const durable = this.storesByName.get(store)?.durables.get(name);
    if (durable === undefined) return undefined;
    const acked = durable.info.settings.type === "standard" || durable.info.settings.type === "shared";
    return { ...durable.info, backlog: acked ? durable.pending.length : durable.entries.size };
  }

  pendingAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly number[] {
    const pending = this.storesByName.get(store)?.durables.get(durable)?.pending ?? [];
    const start = firstAbove(pending, afterSequence);
    return pending.slice(start, start + countMax);
  }

  isPending(store: string, durable: string, sequence: number): boolean {
    const pending = this.storesByName.get(store)?.durables.get(durable)?.pending ?? [];
    const index = firstAbove(pending, sequence - 1);
    return pending[index] === sequence;
  }

  message(store: string, sequence: number): StoredMessage | undefined {
    return this.storesByName.get(store)?.messages.get(sequence);
  }

  entriesAfter(store: string, durable: string, afterKey: string, countMax: number): readonly (readonly [string, StoredMessage])[] {
    const entries = this.storesByName.get(store)?.durables.get(durable)?.entries ?? new Map<string, StoredMessage>();
    return [...entries]
      .filter(([key]) => key > afterKey)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, countMax);
  }

  updatesAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly (readonly [string, StoredMessage])[] {
    const entries = this.storesByName.get(store)?.durables.get(durable)?.entries ?? new Map<string, StoredMessage>();
    return [...entries]
      .filter(([, message]) => message.storeSequence > afterSequence)
      .sort(([, a], [, b]) => a.storeSequence - b.storeSequence)
      .slice(0, countMax);
  }

  entry(store: string, durable: string, key: string): StoredMessage | undefined {
    return this.storesByName.get(store)?.durables.get(durable)?.entries.get(key);
  }

  // --- helpers ------------------------------------------------------------------------------

  private nextMessage(store: string): StoredMessage {
    const fakeStore = this.fakeStore(store);
    const storeSequence = ++fakeStore.lastSequence;
    this.appliedIndex++;
    const message: StoredMessage = { storeSequence, atMs: this.logTimeMs, message: Uint8Array.of(storeSequence & 0xff) };
    fakeStore.messages.set(storeSequence, message);
    return message;
  }

  /** Drops messages no durable retains any more. */
  private collect(store: string): void {
    const fakeStore = this.fakeStore(store);
    const retained = new Set<number>();
    for (const durable of fakeStore.durables.values()) {
      for (const sequence of durable.pending) retained.add(sequence);
      for (const message of durable.entries.values()) retained.add(message.storeSequence);
    }
    for (const sequence of fakeStore.messages.keys()) if (!retained.has(sequence)) fakeStore.messages.delete(sequence);
  }

  private storeOrCreate(name: string): FakeStore {
    let fakeStore = this.storesByName.get(name);
    if (fakeStore === undefined) {
      fakeStore = { name, lastSequence: 0, messages: new Map(), durables: new Map() };
      this.storesByName.set(name, fakeStore);
    }
    return fakeStore;
  }

  private fakeStore(name: string): FakeStore {
    const fakeStore = this.storesByName.get(name);
    assert(fakeStore !== undefined, `no store ${name}`);
    return fakeStore;
  }

  private fakeDurable(store: string, name: string): FakeDurable {
    const durable = this.fakeStore(store).durables.get(name);
    assert(durable !== undefined, `no durable ${name} in ${store}`);
    return durable;
  }
}

/** Index of the first element > value in an ascending array. */
function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as number) > value) high = middle;
    else low = middle + 1;
  }
  return low;
}
