import { Packr } from "msgpackr";
import { assert } from "../../kernel/assert.js";
import type { Entry, Snapshot } from "../../protocols/consensus/types.js";
import type { ReplicaApplication } from "../../runtime/replica.js";
import { checksum } from "../../wire/checksum.js";

const packr = new Packr({ useRecords: false });

/**
 * The application a bare consensus member replicates until the persistence service exists:
 * a log of opaque commands with a running digest (CRC-32 chained over every command: cheap,
 * and enough to tell diverged members apart), so members can be compared, and (bounded)
 * the commands themselves, so tests can check nothing acknowledged was lost.
 */
export class CommandLog implements ReplicaApplication {
  appliedIndex = 0;
  commandCount = 0;
  private digest = 0;
  private readonly recorded: { index: number; payload: Uint8Array }[] = [];

  /**
   * @param recordCommandsMax how many applied commands to keep for inspection (0 in
   * production: they also travel in every snapshot, which one frame bounds).
   */
  constructor(private readonly recordCommandsMax = 0) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.appliedIndex + 1, `command log applies ${entry.index} after ${this.appliedIndex}`);
      this.appliedIndex = entry.index;
      if (entry.kind !== "command") continue;
      this.commandCount += 1;
      this.digest = checksum(entry.data, this.digest);
      if (this.recorded.length < this.recordCommandsMax) this.recorded.push({ index: entry.index, payload: entry.data });
    }
  }

  restore(snapshot: Snapshot): void {
    const state = packr.unpack(snapshot.data) as { count: number; digest: number; indexes: number[]; payloads: Uint8Array[] };
    this.appliedIndex = snapshot.index;
    this.commandCount = state.count;
    this.digest = state.digest;
    this.recorded.length = 0;
    state.indexes.forEach((index, at) => this.recorded.push({ index, payload: state.payloads[at] ?? new Uint8Array(0) }));
  }

  snapshot(): Uint8Array {
    return packr.pack({
      count: this.commandCount,
      digest: this.digest,
      indexes: this.recorded.map((command) => command.index),
      payloads: this.recorded.map((command) => command.payload),
    });
  }

  digestHex(): string {
    return this.digest.toString(16).padStart(8, "0");
  }

  /** Recorded commands with index >= fromIndex, at most countMax. */
  commandsFrom(fromIndex: number, countMax: number): { index: number; payload: Uint8Array }[] {
    let low = 0;
    let high = this.recorded.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.recorded[middle]?.index ?? 0) < fromIndex) low = middle + 1;
      else high = middle;
    }
    return this.recorded.slice(low, low + countMax);
  }
}
