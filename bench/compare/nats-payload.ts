/** Payload size, the same as Holdfast's encoded bench message (bench/persistence.ts). */
export const natsMessageBytes = 128;

/** 128 bytes whose first 8 carry the id (the rest is padding), so a read-back can be checked. */
export function natsPayload(id: number): Uint8Array {
  const bytes = new Uint8Array(natsMessageBytes).fill(1);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(id));
  return bytes;
}

export function natsPayloadId(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0));
}
