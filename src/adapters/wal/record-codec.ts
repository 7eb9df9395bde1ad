import { Packr } from "msgpackr";
import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { Configuration, Entry, EntryKind, HardState, MemberDefinition } from "../../protocols/consensus/types.js";
import { RecordType, readUint64, recordHeaderBytes, recordOverheadBytes, sealRecord, writeRecordHeader, writeUint64 } from "./record-format.js";

/**
 * Payloads of the four record types, and the encoder that turns one persist batch into one
 * Buffer. Layouts (little-endian):
 *
 *   entries         u32 count, then per entry: u64 index, u64 term, u8 kind, u32 data length,
 *                   data, and for kind "config" u32 config length + msgpack(config)
 *   hard state      u64 term, u8 flags (1 = empty, 2 = has vote), u16 vote length, vote (UTF-8)
 *   truncate-from   u64 index
 *   snapshot marker u64 index, u64 term, u8 flags (1 = a checkpoint copy at the head of a
 *                   segment, not the original); the data lives in its snapshot file
 */

const entryKindCode: Record<EntryKind, number> = { command: 1, noop: 2, config: 3 };
const entryKinds: readonly (EntryKind | undefined)[] = [undefined, "command", "noop", "config"];

/** Fixed bytes of one entry before its data: index, term, kind, data length. */
const entryFixedBytes = 8 + 8 + 1 + 4;
const entriesHeaderBytes = 4;
const hardStateFixedBytes = 8 + 1 + 2;
const hardStateEmptyFlag = 1;
const hardStateVoteFlag = 2;
const truncateBytes = 8;
const snapshotMarkerBytes = 17;
const markerCheckpointFlag = 1;

const configPackr = new Packr({ useRecords: false });

/** A payload that passed its CRC but does not decode: written by a bug or another version. */
export class PayloadError extends Error {
  override name = "PayloadError";
}

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
  /**
   * True for the copy written at the head of every new segment (so compaction can delete the
   * segment holding the original); false for the record written with the snapshot itself.
   */
  readonly checkpoint: boolean;
}

/** One record of a batch, before encoding. */
export type PendingRecord =
  | { readonly type: typeof RecordType.entries; readonly entries: readonly Entry[]; readonly from: number; readonly to: number }
  | { readonly type: typeof RecordType.hardState; readonly hardState: HardState }
  | { readonly type: typeof RecordType.truncateFrom; readonly index: number }
  | { readonly type: typeof RecordType.snapshotMarker; readonly marker: SnapshotMarker };

/**
 * Encodes records with consecutive sequence numbers from `firstSequence` into one Buffer.
 * Sizes are computed first so the batch is one allocation; config entries are the only ones
 * that allocate (their msgpack), and they are rare.
 */
export function encodeRecords(records: readonly PendingRecord[], firstSequence: number): Buffer {
  const configs = new Map<Entry, Uint8Array>();
  const payloadSizes: number[] = [];
  let total = 0;
  for (const record of records) {
    const payloadBytes = payloadBytesOf(record, configs);
    payloadSizes.push(payloadBytes);
    total += recordOverheadBytes + payloadBytes;
  }
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  let sequence = firstSequence;
  for (let i = 0; i < records.length; i += 1) {
    const record = records[i] as PendingRecord;
    const payloadBytes = payloadSizes[i] as number;
    writeRecordHeader(buffer, offset, record.type, payloadBytes, sequence);
    writePayload(buffer, offset + recordHeaderBytes, record, configs);
    offset = sealRecord(buffer, offset, payloadBytes);
    sequence += 1;
  }
  assert(offset === total, `encoded ${offset} of ${total} bytes`);
  return buffer;
}

/**
 * Splits `entries` into entries records of at most walRecordBytesMax each. A single entry over
 * the bound is a programmer error: proposals are bounded far below it.
 */
export function entriesRecords(entries: readonly Entry[], recordBytesMax = limits.walRecordBytesMax): PendingRecord[] {
  const records: PendingRecord[] = [];
  let from = 0;
  let bytes = recordOverheadBytes + entriesHeaderBytes;
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i] as Entry;
    // Config entries are bounded by membersMax; 64 KiB covers their msgpack with room to spare.
    const entryBytes = entryFixedBytes + entry.data.length + (entry.kind === "config" ? 4 + configBytesBound : 0);
    if (i > from && bytes + entryBytes > recordBytesMax) {
      records.push({ type: RecordType.entries, entries, from, to: i });
      from = i;
      bytes = recordOverheadBytes + entriesHeaderBytes;
    }
    bytes += entryBytes;
    assert(bytes <= recordBytesMax, `entry ${entry.index} of ${entry.data.length} bytes does not fit one WAL record`);
  }
  if (from < entries.length) records.push({ type: RecordType.entries, entries, from, to: entries.length });
  return records;
}

/** Upper bound of one msgpack configuration, used only to split entries into records. */
const configBytesBound = 64 * 1024;

function payloadBytesOf(record: PendingRecord, configs: Map<Entry, Uint8Array>): number {
  switch (record.type) {
    case RecordType.entries: {
      let bytes = entriesHeaderBytes;
      for (let i = record.from; i < record.to; i += 1) {
        const entry = record.entries[i] as Entry;
        bytes += entryFixedBytes + entry.data.length;
        if (entry.kind === "config") bytes += 4 + configOf(entry, configs).length;
      }
      return bytes;
    }
    case RecordType.hardState:
      return hardStateFixedBytes + Buffer.byteLength(record.hardState.votedFor ?? "", "utf8");
    case RecordType.truncateFrom:
      return truncateBytes;
    case RecordType.snapshotMarker:
      return snapshotMarkerBytes;
  }
}

function configOf(entry: Entry, configs: Map<Entry, Uint8Array>): Uint8Array {
  let encoded = configs.get(entry);
  if (encoded === undefined) {
    assert(entry.config !== undefined, `config entry ${entry.index} has no config`);
    encoded = configPackr.pack(entry.config);
    assert(encoded.length <= configBytesBound, `config of entry ${entry.index} is ${encoded.length} bytes`);
    configs.set(entry, encoded);
  }
  return encoded;
}

function writePayload(buffer: Buffer, start: number, record: PendingRecord, configs: Map<Entry, Uint8Array>): void {
  switch (record.type) {
    case RecordType.entries: {
      buffer.writeUInt32LE(record.to - record.from, start);
      let offset = start + entriesHeaderBytes;
      for (let i = record.from; i < record.to; i += 1) {
        const entry = record.entries[i] as Entry;
        writeUint64(buffer, offset, entry.index);
        writeUint64(buffer, offset + 8, entry.term);
        buffer[offset + 16] = entryKindCode[entry.kind];
        buffer.writeUInt32LE(entry.data.length, offset + 17);
        offset += entryFixedBytes;
        buffer.set(entry.data, offset);
        offset += entry.data.length;
        if (entry.kind === "config") {
          const config = configOf(entry, configs);
          buffer.writeUInt32LE(config.length, offset);
          buffer.set(config, offset + 4);
          offset += 4 + config.length;
        }
      }
      return;
    }
    case RecordType.hardState: {
      const { term, votedFor, empty } = record.hardState;
      writeUint64(buffer, start, term);
      buffer[start + 8] = (empty ? hardStateEmptyFlag : 0) | (votedFor !== null ? hardStateVoteFlag : 0);
      const voteBytes = buffer.write(votedFor ?? "", start + hardStateFixedBytes, "utf8");
      buffer.writeUInt16LE(voteBytes, start + 9);
      return;
    }
    case RecordType.truncateFrom:
      writeUint64(buffer, start, record.index);
      return;
    case RecordType.snapshotMarker:
      writeUint64(buffer, start, record.marker.index);
      writeUint64(buffer, start + 8, record.marker.term);
      buffer[start + 16] = record.marker.checkpoint ? markerCheckpointFlag : 0;
      return;
  }
}

// --- decoding ------------------------------------------------------------------------------

export function decodeEntries(payload: Buffer): Entry[] {
  need(payload, 0, entriesHeaderBytes, "entries count");
  const count = payload.readUInt32LE(0);
  const entries: Entry[] = [];
  let offset = entriesHeaderBytes;
  for (let i = 0; i < count; i += 1) {
    need(payload, offset, entryFixedBytes, `entry ${i} header`);
    const index = readUint64(payload, offset);
    const term = readUint64(payload, offset + 8);
    const kind = entryKinds[payload[offset + 16] ?? 0];
    const dataBytes = payload.readUInt32LE(offset + 17);
    if (index < 1 || term < 0 || kind === undefined) throw new PayloadError(`entry ${i}: bad index, term or kind`);
    offset += entryFixedBytes;
    need(payload, offset, dataBytes, `entry ${index} data`);
    // A plain view, no copy: the segment's bytes were read fresh for recovery and are not reused.
    const data = new Uint8Array(payload.buffer, payload.byteOffset + offset, dataBytes);
    offset += dataBytes;
    if (kind === "config") {
      need(payload, offset, 4, `entry ${index} config length`);
      const configBytes = payload.readUInt32LE(offset);
      need(payload, offset + 4, configBytes, `entry ${index} config`);
      const config = decodeConfiguration(payload.subarray(offset + 4, offset + 4 + configBytes), index);
      offset += 4 + configBytes;
      entries.push({ index, term, kind, data, config });
    } else {
      entries.push({ index, term, kind, data });
    }
  }
  if (offset !== payload.length) throw new PayloadError(`entries payload has ${payload.length - offset} trailing bytes`);
  return entries;
}

export function decodeHardState(payload: Buffer): HardState {
  need(payload, 0, hardStateFixedBytes, "hard state");
  const term = readUint64(payload, 0);
  const flags = payload[8] ?? 0;
  const voteBytes = payload.readUInt16LE(9);
  if (term < 0 || hardStateFixedBytes + voteBytes !== payload.length) throw new PayloadError("hard state: bad term or length");
  const votedFor = (flags & hardStateVoteFlag) !== 0 ? payload.toString("utf8", hardStateFixedBytes, hardStateFixedBytes + voteBytes) : null;
  return { term, votedFor, empty: (flags & hardStateEmptyFlag) !== 0 };
}

export function decodeTruncateFrom(payload: Buffer): number {
  if (payload.length !== truncateBytes) throw new PayloadError("truncate-from: bad length");
  const index = readUint64(payload, 0);
  if (index < 1) throw new PayloadError("truncate-from: bad index");
  return index;
}

export function decodeSnapshotMarker(payload: Buffer): SnapshotMarker {
  if (payload.length !== snapshotMarkerBytes) throw new PayloadError("snapshot marker: bad length");
  const index = readUint64(payload, 0);
  const term = readUint64(payload, 8);
  const flags = payload[16] ?? 0;
  if (index < 0 || term < 0 || (flags & ~markerCheckpointFlag) !== 0) throw new PayloadError("snapshot marker: bad index, term or flags");
  return { index, term, checkpoint: flags === markerCheckpointFlag };
}

export function encodeConfiguration(config: Configuration): Uint8Array {
  return configPackr.pack(config);
}

export function decodeConfiguration(bytes: Uint8Array, where: number | string): Configuration {
  let value: unknown;
  try {
    value = configPackr.unpack(bytes);
  } catch (error) {
    throw new PayloadError(`configuration of ${where}: ${(error as Error).message}`);
  }
  const object = value as { voters?: unknown; learners?: unknown } | null;
  if (typeof object !== "object" || object === null) throw new PayloadError(`configuration of ${where} is not an object`);
  return { voters: members(object.voters, where), learners: members(object.learners, where) };
}

function members(value: unknown, where: number | string): MemberDefinition[] {
  if (!Array.isArray(value)) throw new PayloadError(`configuration of ${where}: members are not a list`);
  return value.map((member: unknown) => {
    const { id, weight } = (member ?? {}) as { id?: unknown; weight?: unknown };
    if (typeof id !== "string" || typeof weight !== "number") throw new PayloadError(`configuration of ${where}: bad member`);
    return { id, weight };
  });
}

function need(payload: Buffer, offset: number, bytes: number, what: string): void {
  if (offset + bytes > payload.length) throw new PayloadError(`${what} runs past the payload`);
}
