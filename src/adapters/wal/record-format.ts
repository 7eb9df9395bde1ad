import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import { checksum } from "../../wire/checksum.js";

/**
 * Framing of one WAL record (little-endian):
 *
 *   0  u16 magic "HW" (0x5748)      2  u8 format version     3  u8 record type
 *   4  u32 payload length           8  u64 sequence number (1, 2, 3, ... across segments)
 *   16 u32 header CRC (bytes 0..16)
 *   20 payload                      20 + length: u32 payload CRC
 *
 * The header has its own CRC so a damaged length is never trusted to skip or to allocate.
 */
export const recordMagic = 0x5748;
export const recordVersion = 1;
export const recordHeaderBytes = 20;
export const recordTrailerBytes = 4;
export const recordOverheadBytes = recordHeaderBytes + recordTrailerBytes;

export const RecordType = {
  entries: 1,
  hardState: 2,
  truncateFrom: 3,
  snapshotMarker: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const recordTypes = new Set<number>(Object.values(RecordType));

/** 2^32, for splitting a u64 into two u32 halves (numbers stay exact below 2^53). */
const uint32Range = 0x1_0000_0000;

export function writeUint64(buffer: Buffer, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `u64 out of range: ${value}`);
  buffer.writeUInt32LE(value % uint32Range, offset);
  buffer.writeUInt32LE(Math.floor(value / uint32Range), offset + 4);
}

/** A u64 as a number, or -1 when it does not fit a safe integer (callers treat it as damage). */
export function readUint64(buffer: Buffer, offset: number): number {
  const high = buffer.readUInt32LE(offset + 4);
  if (high >= 0x20_0000) return -1;
  return high * uint32Range + buffer.readUInt32LE(offset);
}

/** Writes a record header at `offset`; the payload follows, then `sealRecord` adds its CRC. */
export function writeRecordHeader(buffer: Buffer, offset: number, type: RecordType, payloadBytes: number, sequence: number): void {
  assert(recordOverheadBytes + payloadBytes <= limits.walRecordBytesMax, `record of ${payloadBytes} payload bytes is over walRecordBytesMax`);
  buffer.writeUInt16LE(recordMagic, offset);
  buffer.writeUInt8(recordVersion, offset + 2);
  buffer.writeUInt8(type, offset + 3);
  buffer.writeUInt32LE(payloadBytes, offset + 4);
  writeUint64(buffer, offset + 8, sequence);
  buffer.writeUInt32LE(checksum(buffer.subarray(offset, offset + 16)), offset + 16);
}

/** Writes the payload CRC after a payload that starts right after the header at `offset`. */
export function sealRecord(buffer: Buffer, offset: number, payloadBytes: number): number {
  const payloadStart = offset + recordHeaderBytes;
  const payloadEnd = payloadStart + payloadBytes;
  buffer.writeUInt32LE(checksum(buffer.subarray(payloadStart, payloadEnd)), payloadEnd);
  return payloadEnd + recordTrailerBytes;
}

export type RecordRead =
  | { readonly kind: "record"; readonly type: RecordType; readonly sequence: number; readonly payload: Buffer; readonly end: number }
  /** The bytes stop inside this record, or its header was never written: a crash's tail. */
  | { readonly kind: "incomplete"; readonly reason: string }
  /** Complete bytes that fail their checks: damage, never a crash alone. */
  | { readonly kind: "corrupt"; readonly reason: string };

/** Reads the record at `offset` of a segment's bytes. */
export function readRecord(bytes: Buffer, offset: number): RecordRead {
  const available = bytes.length - offset;
  if (available < recordHeaderBytes) return { kind: "incomplete", reason: `file ends inside a record header (${available} of ${recordHeaderBytes} bytes)` };
  if (isAllZero(bytes, offset, offset + recordHeaderBytes)) return { kind: "incomplete", reason: "all-zero record header (never written)" };
  const expectedHeaderCrc = checksum(bytes.subarray(offset, offset + 16));
  if (bytes.readUInt32LE(offset + 16) !== expectedHeaderCrc) return { kind: "corrupt", reason: "record header CRC mismatch" };
  const magic = bytes.readUInt16LE(offset);
  const version = bytes.readUInt8(offset + 2);
  const type = bytes.readUInt8(offset + 3);
  if (magic !== recordMagic || version !== recordVersion) return { kind: "corrupt", reason: `unknown record magic ${magic} or version ${version}` };
  if (!recordTypes.has(type)) return { kind: "corrupt", reason: `unknown record type ${type}` };
  const payloadBytes = bytes.readUInt32LE(offset + 4);
  if (recordOverheadBytes + payloadBytes > limits.walRecordBytesMax) return { kind: "corrupt", reason: `record length ${payloadBytes} over walRecordBytesMax` };
  const sequence = readUint64(bytes, offset + 8);
  if (sequence < 1) return { kind: "corrupt", reason: "record sequence number out of range" };
  const payloadStart = offset + recordHeaderBytes;
  const end = payloadStart + payloadBytes + recordTrailerBytes;
  if (end > bytes.length) return { kind: "incomplete", reason: `file ends inside a record payload (${bytes.length - payloadStart} of ${payloadBytes + recordTrailerBytes} bytes)` };
  const payload = bytes.subarray(payloadStart, payloadStart + payloadBytes);
  if (bytes.readUInt32LE(payloadStart + payloadBytes) !== checksum(payload)) return { kind: "corrupt", reason: `payload CRC mismatch (record ${sequence})` };
  return { kind: "record", type: type as RecordType, sequence, payload, end };
}

function isAllZero(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) if (bytes[i] !== 0) return false;
  return true;
}
