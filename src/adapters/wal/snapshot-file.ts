import type { Snapshot } from "../../protocols/consensus/types.js";
import { checksum } from "../../wire/checksum.js";
import { PayloadError, decodeConfiguration, encodeConfiguration } from "./record-codec.js";
import { readUint64, writeUint64 } from "./record-format.js";

/**
 * A snapshot file, written whole with writeAtomic (little-endian):
 *
 *   0  u32 magic "HSNP"   4 u8 version, 3 zero bytes   8 u64 index   16 u64 term
 *   24 u32 config length  28 u64 data length   36 msgpack(config)   data   u32 CRC of all before
 */
const snapshotMagic = 0x504e5348;
const snapshotVersion = 1;
const snapshotHeaderBytes = 36;
const snapshotTrailerBytes = 4;

export function encodeSnapshotFile(snapshot: Snapshot): Buffer {
  const config = encodeConfiguration(snapshot.config);
  const total = snapshotHeaderBytes + config.length + snapshot.data.length + snapshotTrailerBytes;
  const buffer = Buffer.alloc(total);
  buffer.writeUInt32LE(snapshotMagic, 0);
  buffer.writeUInt8(snapshotVersion, 4);
  writeUint64(buffer, 8, snapshot.index);
  writeUint64(buffer, 16, snapshot.term);
  buffer.writeUInt32LE(config.length, 24);
  writeUint64(buffer, 28, snapshot.data.length);
  buffer.set(config, snapshotHeaderBytes);
  buffer.set(snapshot.data, snapshotHeaderBytes + config.length);
  const crcOffset = total - snapshotTrailerBytes;
  buffer.writeUInt32LE(checksum(buffer.subarray(0, crcOffset)), crcOffset);
  return buffer;
}

/** Decodes a snapshot file; any damage is a PayloadError naming what failed. */
export function decodeSnapshotFile(bytes: Uint8Array): Snapshot {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < snapshotHeaderBytes + snapshotTrailerBytes) throw new PayloadError(`snapshot file too short (${buffer.length} bytes)`);
  const crcOffset = buffer.length - snapshotTrailerBytes;
  if (buffer.readUInt32LE(crcOffset) !== checksum(buffer.subarray(0, crcOffset))) throw new PayloadError("snapshot file CRC mismatch");
  if (buffer.readUInt32LE(0) !== snapshotMagic || buffer.readUInt8(4) !== snapshotVersion) throw new PayloadError("snapshot file magic or version");
  const index = readUint64(buffer, 8);
  const term = readUint64(buffer, 16);
  const configBytes = buffer.readUInt32LE(24);
  const dataBytes = readUint64(buffer, 28);
  if (index < 0 || term < 0 || snapshotHeaderBytes + configBytes + dataBytes !== crcOffset) throw new PayloadError("snapshot file lengths do not add up");
  const configEnd = snapshotHeaderBytes + configBytes;
  const config = decodeConfiguration(buffer.subarray(snapshotHeaderBytes, configEnd), `snapshot ${index}`);
  const data = new Uint8Array(buffer.subarray(configEnd, configEnd + dataBytes));
  return { index, term, config, data };
}
