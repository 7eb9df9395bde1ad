import { assert } from "../../src/kernel/assert.js";
import type { Entry, Snapshot } from "../../src/protocols/consensus/types.js";
import type { ReplicaApplication } from "../../src/runtime/replica.js";

/** What the application hands the checkers after each applied entry. */
export interface AppliedObserver {
  applied(member: string, entry: Entry, payload: string, hashAfter: number): void;
  restored(member: string, snapshot: Snapshot, hash: number, count: number): void;
}

const decoder = new TextDecoder();

/**
 * The replicated state machine of the simulation: a running hash of every applied payload and
 * a count of commands. Small enough to snapshot in 8 bytes, yet any difference in what or in
 * which order members applied shows up in the hash.
 */
export class SimApplication implements ReplicaApplication {
  hash = 0x811c9dc5;
  count = 0;
  appliedIndex = 0;

  constructor(private readonly member: string, private readonly observer: AppliedObserver) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.appliedIndex + 1, `${this.member} applies ${entry.index} after ${this.appliedIndex}`);
      this.appliedIndex = entry.index;
      this.hash = mix(this.hash, entry.data);
      if (entry.kind === "command") this.count++;
      const payload = entry.kind === "command" ? decoder.decode(entry.data) : entry.kind;
      this.observer.applied(this.member, entry, payload, this.hash);
    }
  }

  restore(snapshot: Snapshot): void {
    const state = decodeState(snapshot.data);
    this.hash = state.hash;
    this.count = state.count;
    this.appliedIndex = snapshot.index;
    this.observer.restored(this.member, snapshot, state.hash, state.count);
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.hash);
    view.setUint32(4, this.count);
    return bytes;
  }
}

export function decodeState(data: Uint8Array): { hash: number; count: number } {
  assert(data.length === 8, `snapshot data of ${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { hash: view.getUint32(0), count: view.getUint32(4) };
}

/** FNV-1a over the payload plus a separator, chained from the previous hash. */
function mix(hash: number, data: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0xff;
  return Math.imul(h, 0x01000193) >>> 0;
}
