/**
 * A format-2 snapshot (state-snapshot-encoder.ts) back into stores, one frame per unit of work,
 * so a large state is restored in slices. Everything is built into fresh stores; the caller
 * swaps them in only once the last frame is read, so the state being replaced stays whole
 * until then. Format-1 snapshots (one msgpack array) are read at once (state-snapshot.ts).
 *
 * The bytes come from our own encoder through consensus or the WAL, whose checksums cover
 * them: a malformed snapshot is a programmer or storage error and asserts.
 */
import { Unpackr } from "msgpackr";
import { assert } from "../../kernel/assert.js";
import type { DurableState, KeyedDurable, StoredEntry } from "./durable-state.js";
import type { WireTest } from "./matcher-wire.js";
import { addDynamic, restoreStores, windowRecord, type RestoredState } from "./state-snapshot.js";
import { snapshotFormatSliced, snapshotMagic } from "./state-snapshot-encoder.js";
import type { StateLimits } from "./state-limits.js";
import type { ClusterStoresConfig } from "./state-types.js";
import { newStores, type StoreState } from "./store-state.js";

const unpackr = new Unpackr({ useRecords: false });

export function isSlicedSnapshot(bytes: Uint8Array): boolean {
  return bytes.length >= snapshotMagic.length && snapshotMagic.every((byte, at) => bytes[at] === byte);
}

/** The store being read: its messages, then its durables, then its publishers. */
interface OpenStore {
  readonly store: StoreState;
  readonly lastSequence: number;
  /** Its restored messages in chunks, to check once every durable took its references. */
  readonly chunks: StoredEntry[][];
  /** The keyed durable being read, to index once its last entries came. */
  keyed: KeyedDurable | null;
  durable: DurableState | null;
}

/**
 * Reads a snapshot frame by frame: `step(more)` reads while `more()` holds and returns true once
 * the whole snapshot is read; `result` then holds the restored state.
 */
export class SnapshotDecoder {
  private offset = snapshotMagic.length;
  private readonly stores: Map<string, StoreState>;
  private header: { appliedIndex: number; logTimeMs: number; storeCount: number } | null = null;
  private open: OpenStore | null = null;
  private storesRead = 0;
  /** Restored messages still to check (each held by some durable), a chunk per unit of work. */
  private readonly unchecked: { readonly store: string; readonly entries: StoredEntry[] }[] = [];
  private ended = false;
  private done: RestoredState | null = null;

  constructor(private readonly bytes: Uint8Array, config: ClusterStoresConfig, limits: StateLimits) {
    this.stores = newStores(config, limits);
    if (!isSlicedSnapshot(bytes)) this.done = restoreStores(bytes, config, limits);
  }

  /** Bytes read so far (the simulator charges work by it). */
  get progressBytes(): number {
    return this.done === null ? this.offset : this.bytes.length;
  }

  get result(): RestoredState {
    assert(this.done !== null, "the snapshot is not read yet");
    return this.done;
  }

  step(more: () => boolean): boolean {
    while (this.done === null) {
      const chunk = this.unchecked.pop();
      if (chunk !== undefined) this.check(chunk.store, chunk.entries);
      else if (this.ended) this.finish();
      else this.readFrame();
      if (this.done === null && !more()) return false;
    }
    return true;
  }

  private check(store: string, entries: readonly StoredEntry[]): void {
    for (const entry of entries) assert(entry.refs > 0, `snapshot store ${store}: message ${entry.storeSequence} is held by no durable`);
  }

  private readFrame(): void {
    const bytes = this.bytes;
    assert(this.offset + 4 <= bytes.length, "snapshot ends inside a frame header");
    const length = new DataView(bytes.buffer, bytes.byteOffset + this.offset, 4).getUint32(0);
    const start = this.offset + 4;
    assert(start + length <= bytes.length, "snapshot ends inside a frame");
    this.offset = start + length;
    const frame: unknown = unpackr.unpack(bytes.subarray(start, start + length));
    assert(Array.isArray(frame), "a snapshot frame is an array");
    if (this.header === null) {
      const [format, appliedIndex, logTimeMs, storeCount] = frame as [number, number, number, number];
      assert(format === snapshotFormatSliced, `snapshot format ${String(format)}, expected ${snapshotFormatSliced}`);
      this.header = { appliedIndex, logTimeMs, storeCount };
      return;
    }
    this.dispatch(frame as unknown[]);
  }

  private dispatch(frame: unknown[]): void {
    switch (frame[0]) {
      case "store":
        return this.openStore(frame[1] as string, frame[2] as number);
      case "messages":
        return this.messages(frame[1] as unknown[]);
      case "durable":
        return this.openDurable(frame[1] as string, frame[2] as [string, WireTest[] | null] | null);
      case "held":
        return this.held(frame[1] as (number | string)[]);
      case "publishers":
        return this.publishers(frame[1] as unknown[][]);
      case "end":
        return this.end();
      default:
        assert(false, `unknown snapshot frame ${String(frame[0])}`);
    }
  }

  private openStore(name: string, lastSequence: number): void {
    this.closeStore();
    const store = this.stores.get(name);
    // A store added to the configuration since starts empty; one removed cannot be restored.
    assert(store !== undefined, `snapshot store ${name} is not configured`);
    // Its last sequence now: a store whose messages were all acked has no messages frame.
    store.restoreMessages(lastSequence, []);
    this.open = { store, lastSequence, chunks: [], keyed: null, durable: null };
    this.storesRead += 1;
  }

  private current(): OpenStore {
    assert(this.open !== null, "a snapshot frame outside any store");
    return this.open;
  }

  private messages(flat: unknown[]): void {
    const open = this.current();
    assert(open.durable === null && open.keyed === null, `snapshot store ${open.store.name}: messages after its durables`);
    const entries: StoredEntry[] = [];
    for (let index = 0; index < flat.length; index += 3) {
      // Copied: a view into the snapshot buffer would keep the whole snapshot in memory.
      entries.push({ storeSequence: flat[index] as number, atMs: flat[index + 1] as number, message: open.store.copyMessage(flat[index + 2] as Uint8Array), refs: 0 });
    }
    open.store.restoreMessages(open.lastSequence, entries);
    open.chunks.push(entries);
  }

  private openDurable(name: string, origin: [string, WireTest[] | null] | null): void {
    const open = this.current();
    this.closeDurable(open);
    open.durable = open.store.durables.get(name) ?? addDynamic(open.store, name, origin);
    if (open.durable.kind === "keyed") open.keyed = open.durable;
  }

  private held(values: (number | string)[]): void {
    const open = this.current();
    const durable = open.durable;
    assert(durable !== null, "held values outside a durable");
    const take = (sequence: number): StoredEntry => {
      const entry = open.store.messages.get(sequence);
      assert(entry !== undefined, `snapshot store ${open.store.name}: a durable holds sequence ${sequence}, which is not retained`);
      entry.refs += 1;
      return entry;
    };
    if (durable.kind === "acked") {
      const sequences = values as number[];
      for (const sequence of sequences) take(sequence);
      durable.restorePending(sequences);
      return;
    }
    const keyed: [string, StoredEntry][] = [];
    for (let index = 0; index < values.length; index += 2) keyed.push([values[index] as string, take(values[index + 1] as number)]);
    durable.restoreEntries(keyed);
  }

  private closeDurable(open: OpenStore): void {
    open.keyed?.finishRestore();
    open.keyed = null;
    open.durable = null;
  }

  private publishers(records: unknown[][]): void {
    const open = this.current();
    this.closeDurable(open);
    open.store.windows.restoreMore(records.map(windowRecord));
  }

  private closeStore(): void {
    const open = this.open;
    if (open === null) return;
    this.closeDurable(open);
    for (const entries of open.chunks) this.unchecked.push({ store: open.store.name, entries });
    this.open = null;
  }

  private end(): void {
    this.closeStore();
    this.ended = true;
  }

  /** Every frame read and every message checked. */
  private finish(): void {
    const header = this.header as { appliedIndex: number; logTimeMs: number; storeCount: number };
    assert(this.storesRead === header.storeCount, `snapshot lists ${header.storeCount} stores, holds ${this.storesRead}`);
    assert(this.offset === this.bytes.length, "bytes after the end of a snapshot");
    this.done = { appliedIndex: header.appliedIndex, logTimeMs: header.logTimeMs, stores: this.stores };
  }
}
