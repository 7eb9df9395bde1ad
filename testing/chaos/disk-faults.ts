import { openSync, closeSync, readSync, writeSync, readdirSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import type { Prng } from "../../src/kernel/prng.js";

/**
 * Damage to one stopped member's write-ahead log (format: src/adapters/wal/README.md). Both
 * act on `wal-<sequence>.log` segment files only; the member is not running meanwhile.
 *
 * - truncated tail: the last segment loses its last 1..4096 bytes, as a crash with a lost
 *   page would leave it; recovery cuts the torn record and the member catches up.
 * - flipped bit: one bit of one segment; recovery must call it corruption (never skip it),
 *   set the files aside and come back empty, and the member must not vote until caught up.
 */

/** The most bytes a truncated tail loses. */
const truncatedBytesMax = 4096;

function segments(walDirectory: string): { name: string; bytes: number }[] {
  return readdirSync(walDirectory)
    .filter((name) => /^wal-[0-9a-f]{16}\.log$/.test(name))
    .sort()
    .map((name) => ({ name, bytes: statSync(join(walDirectory, name)).size }));
}

/** Cut 1..`bytesMax` bytes off the last segment; returns what was done. */
export function truncateLogTail(walDirectory: string, random: Prng, bytesMax = truncatedBytesMax): string {
  const last = segments(walDirectory).at(-1);
  if (!last || last.bytes === 0) return `no segment with bytes in ${walDirectory}: nothing truncated`;
  const cut = random.int(1, Math.min(last.bytes, bytesMax));
  truncateSync(join(walDirectory, last.name), last.bytes - cut);
  return `${last.name}: ${last.bytes} -> ${last.bytes - cut} bytes`;
}

/** Flip one bit of one byte of one segment (chosen by `random`); returns what was done. */
export function flipLogBit(walDirectory: string, random: Prng): string {
  const candidates = segments(walDirectory).filter((segment) => segment.bytes > 0);
  if (candidates.length === 0) return `no segment with bytes in ${walDirectory}: nothing flipped`;
  const segment = random.pick(candidates);
  const offset = random.int(0, segment.bytes - 1);
  const bit = random.int(0, 7);
  const path = join(walDirectory, segment.name);
  const descriptor = openSync(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(descriptor, byte, 0, 1, offset);
    const before = byte[0] ?? 0;
    byte[0] = before ^ (1 << bit);
    writeSync(descriptor, byte, 0, 1, offset);
    return `${segment.name} (${segment.bytes} bytes): offset ${offset} bit ${bit} (0x${before.toString(16)} -> 0x${(byte[0] ?? 0).toString(16)})`;
  } finally {
    closeSync(descriptor);
  }
}
