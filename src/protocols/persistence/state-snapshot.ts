/**
 * Format 1 of the persistence snapshot, read only: snapshots are written in format 2
 * (state-snapshot-encoder.ts), whose frames can be packed and read in slices; this one is one
 * msgpack array, read at once, kept so that data written before still restores.
 *
 * A snapshot is msgpack of positional arrays
 * (no maps, no records), built in a fixed order (stores and durables in configuration then
 * creation order, messages by store sequence, keys in key order, publishers in recency
 * order), so the same state always gives the same bytes and every service can check that.
 *
 * Layout (format 1):
 *   [format, appliedIndex, logTimeMs, stores]
 *   store     = [name, lastSequence, messages, durables, publishers]
 *   messages  = flat [storeSequence, atMs, bytes, …]
 *   durable   = [name, origin, held]; origin = null (static) | [template, wire matcher | null]
 *   held      = acked: [sequence, …] | keyed: flat [key, storeSequence, …] in key order
 *   publisher = [publisherId, lastActiveMs, highest, flat [sequence, storeSequence | [reason, detail], …]]
 *
 * The configuration is not in it: a snapshot is restored into the same configuration.
 */
import { Packr } from "msgpackr";
import { assert } from "../../kernel/assert.js";
import type { RememberedOutcome, WindowRecord } from "./dedup-window.js";
import type { DurableOrigin, StoredEntry } from "./durable-state.js";
import { compileMatcher } from "./matcher.js";
import { wireToSpec, type WireTest } from "./matcher-wire.js";
import type { StateLimits } from "./state-limits.js";
import type { ClusterStoresConfig, RejectReason } from "./state-types.js";
import { newStores, type StoreState } from "./store-state.js";

const snapshotFormat = 1;
const packr = new Packr({ useRecords: false });

export interface RestoredState {
  readonly appliedIndex: number;
  readonly logTimeMs: number;
  readonly stores: Map<string, StoreState>;
}

/**
 * Throws when the bytes are not a snapshot of this configuration: they come from our own
 * `snapshot()` through consensus, so a mismatch is a programmer or storage error.
 */
export function restoreStores(bytes: Uint8Array, config: ClusterStoresConfig, limits: StateLimits): RestoredState {
  const decoded: unknown = packr.unpack(bytes);
  assert(Array.isArray(decoded) && decoded[0] === snapshotFormat && decoded.length === 4, "not a persistence snapshot of format 1");
  const [, appliedIndex, logTimeMs, storeRecords] = decoded as [number, number, number, unknown[]];
  const stores = newStores(config, limits);
  // A store configured since starts empty; one no longer configured cannot be restored (restoreStore).
  assert(storeRecords.length <= stores.size, `snapshot has ${storeRecords.length} stores, the configuration ${stores.size}`);
  for (const record of storeRecords) restoreStore(stores, record as unknown[]);
  return { appliedIndex, logTimeMs, stores };
}

function restoreStore(stores: Map<string, StoreState>, record: unknown[]): void {
  const [name, lastSequence, messages, durables, publishers] = record as [string, number, unknown[], unknown[][], unknown[][]];
  const store = stores.get(name);
  assert(store !== undefined, `snapshot store ${name} is not configured`);
  const entries: StoredEntry[] = [];
  const bySequence = new Map<number, StoredEntry>();
  for (let index = 0; index < messages.length; index += 3) {
    // Copied: a view into the snapshot buffer would keep the whole snapshot in memory.
    const entry: StoredEntry = { storeSequence: messages[index] as number, atMs: messages[index + 1] as number, message: store.copyMessage(messages[index + 2] as Uint8Array), refs: 0 };
    entries.push(entry);
    bySequence.set(entry.storeSequence, entry);
  }
  store.restoreMessages(lastSequence, entries);
  const take = (sequence: number): StoredEntry => {
    const entry = bySequence.get(sequence);
    assert(entry !== undefined, `snapshot store ${name}: a durable holds sequence ${sequence}, which is not retained`);
    entry.refs += 1;
    return entry;
  };
  for (const [durableName, origin, held] of durables as [string, [string, WireTest[] | null] | null, unknown[]][]) {
    const durable = store.durables.get(durableName) ?? addDynamic(store, durableName, origin);
    if (durable.kind === "acked") {
      const sequences = held as number[];
      for (const sequence of sequences) take(sequence);
      durable.restorePending(sequences);
    } else {
      const keyed: [string, StoredEntry][] = [];
      for (let index = 0; index < held.length; index += 2) keyed.push([held[index] as string, take(held[index + 1] as number)]);
      durable.restoreEntries(keyed);
      durable.finishRestore();
    }
  }
  for (const entry of entries) assert(entry.refs > 0, `snapshot store ${name}: message ${entry.storeSequence} is held by no durable`);
  store.windows.restore(publishers.map(windowRecord));
}

export function addDynamic(store: StoreState, name: string, origin: [string, WireTest[] | null] | null) {
  assert(origin !== null, `snapshot store ${store.name}: static durable ${name} is not configured`);
  const [templateName, wire] = origin;
  const template = store.templates.get(templateName);
  assert(template !== undefined, `snapshot store ${store.name}: durable ${name} from unknown template ${templateName}`);
  const spec = wire === null ? { ok: true as const, spec: {} } : wireToSpec(wire);
  assert(spec.ok, `snapshot store ${store.name}: durable ${name} has a malformed matcher`);
  const compiled = compileMatcher(spec.spec);
  assert(compiled.ok, `snapshot store ${store.name}: durable ${name} has an invalid matcher`);
  const { name: _templateName, ...settings } = template;
  const dynamic: DurableOrigin = { dynamic: true, template: templateName, matcher: wire ?? undefined };
  return store.addDurable(name, settings, compiled.matcher, dynamic);
}

export function windowRecord(record: unknown[]): WindowRecord {
  const [publisherId, lastActiveMs, highest, flat] = record as [string, number, number, unknown[]];
  const outcomes: [number, RememberedOutcome][] = [];
  for (let index = 0; index < flat.length; index += 2) {
    const value = flat[index + 1];
    const outcome: RememberedOutcome = typeof value === "number" ? { storeSequence: value } : { reason: (value as [RejectReason, string])[0], detail: (value as [RejectReason, string])[1] };
    outcomes.push([flat[index] as number, outcome]);
  }
  return { publisherId, lastActiveMs, highest, outcomes };
}
