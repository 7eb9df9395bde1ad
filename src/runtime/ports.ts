import type { PersistBatch } from "../protocols/consensus/effects.js";
import type { RecoveredState } from "../protocols/consensus/inputs.js";
import type { Message } from "../protocols/consensus/messages.js";

/**
 * Narrow ports between the drivers and the outside world. Each has a Node implementation
 * (adapters/node) and an in-memory or simulated one (adapters/memory, testing/sim).
 */

/** Durable storage of one member's log and hard state. */
export interface LogStorage {
  /**
   * Read back what survived (called once, at start). A member whose data is missing or failed
   * its checksums comes back with `hardState.empty = true` and `emptyReason` set.
   */
  recover(): RecoveredState & { readonly emptyReason: string | null };
  /**
   * Make `batch` durable, then call `onDurable` (with an error if the disk failed: the
   * member must stop). Group commit: batches written while a sync runs share the next sync.
   * Callbacks run in the order of the writes.
   */
  write(batch: PersistBatch, onDurable: (error?: Error) => void): void;
  close(): void;
}

/** Message transport between members of one group. Delivery is best-effort, unordered. */
export interface Transport {
  send(message: Message): void;
  onMessage(handler: (message: Message) => void): void;
  close(): void;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  nowMs(): number;
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  /**
   * Run `callback` after the work already queued at this instant (Node: setImmediate, after
   * pending I/O callbacks). Drivers use it to gather every input of one turn into one batch.
   */
  defer(callback: () => void): void;
}
