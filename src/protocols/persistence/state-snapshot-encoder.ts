/**
 * The whole persistence state as bytes, built in slices (format 2). A snapshot is taken in two
 * steps: `captureStores` copies references to what the state holds at that instant (retained
 * messages are immutable, so only the lists are copied: a few milliseconds for a hundred
 * thousand messages), and the encoder then packs the captured lists chunk by chunk while the
 * state goes on changing. The same state always gives the same bytes, as every service checks.
 *
 * Layout: the magic "HFS2", then frames of [u32 big-endian length][msgpack payload]:
 *   [2, appliedIndex, logTimeMs, storeCount]
 *   per store, in configuration order:
 *     ["store", name, lastSequence]
 *     ["messages", flat [storeSequence, atMs, bytes, …]]            (at most chunkItems each)
 *     per durable, in creation order:
 *       ["durable", name, origin, kind]; origin = null (static) | [template, wire matcher | null]
 *       ["held", flat …]  acked: [sequence, …]; keyed: [key, storeSequence, …] in key order
 *     ["publishers", [[publisherId, lastActiveMs, highest, flat [sequence, storeSequence | [reason, detail], …]], …]]
 *   ["end"]
 * Chunks hold at most `snapshotChunkItems` values each, so no frame takes long to pack or to
 * unpack. The configuration is not in it: a snapshot is restored into the same configuration.
 */
import { Packr } from "msgpackr";
import type { WindowRecord } from "./dedup-window.js";
import type { StoredEntry } from "./durable-state.js";
import type { StoreState } from "./store-state.js";

export const snapshotFormatSliced = 2;
/** The first bytes of a format-2 snapshot (format 1 is one msgpack array: it starts 0x94). */
export const snapshotMagic = Uint8Array.from([0x48, 0x46, 0x53, 0x32]);
/** Values in one chunk: messages, held sequences or keys, or publisher outcomes. */
export const snapshotChunkItems = 1024;

const packr = new Packr({ useRecords: false });

type CapturedDurable = {
  readonly name: string;
  readonly origin: readonly [string, unknown] | null;
  readonly kind: "acked" | "keyed";
  /** Flat: acked sequences, or key and store sequence pairs. */
  readonly held: readonly (number | string)[];
  readonly itemsPerValue: number;
};

interface CapturedStore {
  readonly name: string;
  readonly lastSequence: number;
  readonly messages: readonly StoredEntry[];
  readonly durables: readonly CapturedDurable[];
  readonly publishers: readonly WindowRecord[];
}

/** The state as it is now, by reference: nothing captured changes afterwards. */
export function captureStores(appliedIndex: number, logTimeMs: number, stores: readonly StoreState[]): SnapshotEncoder {
  return new SnapshotEncoder(appliedIndex, logTimeMs, stores.map(captureStore));
}

function captureStore(store: StoreState): CapturedStore {
  const durables: CapturedDurable[] = [];
  for (const durable of store.durables.values()) {
    const origin = durable.origin.dynamic ? ([durable.origin.template, durable.origin.matcher ?? null] as const) : null;
    if (durable.kind === "acked") {
      durables.push({ name: durable.name, origin, kind: "acked", held: durable.pending.toArray(), itemsPerValue: 1 });
      continue;
    }
    const held: (string | number)[] = [];
    for (const key of durable.keysInOrder()) held.push(key, (durable.entries.get(key) as StoredEntry).storeSequence);
    durables.push({ name: durable.name, origin, kind: "keyed", held, itemsPerValue: 2 });
  }
  return { name: store.name, lastSequence: store.lastSequence, messages: [...store.messages.values()], durables, publishers: store.windows.records() };
}

/** One piece of the stream still to pack. */
type Part = { readonly kind: "frame"; readonly value: unknown } | { readonly kind: "messages"; readonly entries: readonly StoredEntry[] } | { readonly kind: "held"; readonly durable: CapturedDurable };

/**
 * Packs a captured state frame by frame: `step(more)` packs while `more()` holds and returns
 * the whole snapshot once the last frame is packed, else null (call again).
 */
export class SnapshotEncoder {
  private readonly frames: Uint8Array[] = [snapshotMagic];
  private readonly parts: Part[] = [];
  private partIndex = 0;
  /** Within the current part: where its next chunk starts. */
  private offset = 0;
  private bytes = snapshotMagic.length;

  constructor(appliedIndex: number, logTimeMs: number, stores: readonly CapturedStore[]) {
    this.parts.push({ kind: "frame", value: [snapshotFormatSliced, appliedIndex, logTimeMs, stores.length] });
    for (const store of stores) {
      this.parts.push({ kind: "frame", value: ["store", store.name, store.lastSequence] });
      this.parts.push({ kind: "messages", entries: store.messages });
      for (const durable of store.durables) {
        this.parts.push({ kind: "frame", value: ["durable", durable.name, durable.origin, durable.kind] });
        this.parts.push({ kind: "held", durable });
      }
      for (let at = 0; at < store.publishers.length; ) {
        const chunk: unknown[] = [];
        let values = 0;
        for (; at < store.publishers.length && (chunk.length === 0 || values < snapshotChunkItems); at++) {
          const record = store.publishers[at] as WindowRecord;
          chunk.push(publisherValue(record));
          values += record.outcomes.length + 1;
        }
        this.parts.push({ kind: "frame", value: ["publishers", chunk] });
      }
    }
    this.parts.push({ kind: "frame", value: ["end"] });
  }

  /** Bytes packed so far (the simulator charges work by it). */
  get progressBytes(): number {
    return this.bytes;
  }

  step(more: () => boolean): Uint8Array | null {
    while (this.partIndex < this.parts.length) {
      this.packNext();
      if (this.partIndex < this.parts.length && !more()) return null;
    }
    return concat(this.frames, this.bytes);
  }

  /** The whole snapshot at once (`snapshot()`: small states, and the checks between services). */
  finish(): Uint8Array {
    return this.step(() => true) as Uint8Array;
  }

  private packNext(): void {
    const part = this.parts[this.partIndex] as Part;
    if (part.kind === "frame") {
      this.frame(part.value);
      this.nextPart();
      return;
    }
    if (part.kind === "messages") {
      const end = Math.min(part.entries.length, this.offset + snapshotChunkItems);
      const flat: unknown[] = [];
      for (let at = this.offset; at < end; at++) {
        const entry = part.entries[at] as StoredEntry;
        flat.push(entry.storeSequence, entry.atMs, entry.message);
      }
      if (flat.length > 0) this.frame(["messages", flat]);
      this.offset = end;
      if (end >= part.entries.length) this.nextPart();
      return;
    }
    const held = part.durable.held;
    const step = snapshotChunkItems * part.durable.itemsPerValue;
    const end = Math.min(held.length, this.offset + step);
    if (end > this.offset) this.frame(["held", held.slice(this.offset, end)]);
    this.offset = end;
    if (end >= held.length) this.nextPart();
  }

  private nextPart(): void {
    this.partIndex += 1;
    this.offset = 0;
  }

  private frame(value: unknown): void {
    const payload = packr.pack(value);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, payload.length);
    this.frames.push(header, payload);
    this.bytes += 4 + payload.length;
  }
}

function publisherValue(record: WindowRecord): unknown[] {
  const outcomes: unknown[] = [];
  for (const [sequence, outcome] of record.outcomes) outcomes.push(sequence, "storeSequence" in outcome ? outcome.storeSequence : [outcome.reason, outcome.detail]);
  return [record.publisherId, record.lastActiveMs, record.highest, outcomes];
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
