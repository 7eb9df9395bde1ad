/**
 * msgpack that msgpackr cannot or will not write (nesting that overflows its packer, a map of
 * more than 65,535 keys, NaN where a client library would never put one), for tests of what a
 * server refuses. `packWithRaw` packs a value normally, then splices hand-made bytes in place
 * of placeholder strings.
 */
import { Packr } from "msgpackr";

const packr = new Packr({ useRecords: false });

/** A placeholder that `packWithRaw` replaces with `bytes`. */
export function raw(name: string): string {
  return `\u0000raw:${name}\u0000`;
}

export function packWithRaw(value: unknown, replacements: Readonly<Record<string, Uint8Array>>): Uint8Array {
  let bytes = Buffer.from(packr.pack(value));
  for (const [name, replacement] of Object.entries(replacements)) {
    const placeholder = Buffer.from(packr.pack(raw(name)));
    const at = bytes.indexOf(placeholder);
    if (at < 0) throw new Error(`packWithRaw: no placeholder ${name} in the value`);
    bytes = Buffer.concat([bytes.subarray(0, at), replacement, bytes.subarray(at + placeholder.length)]);
  }
  return new Uint8Array(bytes);
}

/** `depth` arrays of one element each, around the positive fixint 1. */
export function nestedArrays(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1).fill(0x91);
  bytes[depth] = 0x01;
  return bytes;
}

/** A map32 of `entries` keys `k0`, `k1`, … each mapped to 0. */
export function wideMap(entries: number): Uint8Array {
  const parts: number[] = [0xdf, (entries >>> 24) & 0xff, (entries >>> 16) & 0xff, (entries >>> 8) & 0xff, entries & 0xff];
  for (let entry = 0; entry < entries; entry += 1) {
    const key = Buffer.from(`k${entry}`);
    parts.push(0xa0 | key.length, ...key, 0x00);
  }
  return new Uint8Array(parts);
}

export function float64(value: number): Uint8Array {
  const bytes = new Uint8Array(9);
  bytes[0] = 0xcb;
  new DataView(bytes.buffer).setFloat64(1, value);
  return bytes;
}

export function uint64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(9);
  bytes[0] = 0xcf;
  new DataView(bytes.buffer).setBigUint64(1, value);
  return bytes;
}

/** msgpackr's big-integer extension (type 0x42) with `length` bytes of magnitude. */
export function bigintExtension(length: number): Uint8Array {
  return new Uint8Array([0xc7, length, 0x42, ...new Uint8Array(length).fill(0x7f)]);
}
