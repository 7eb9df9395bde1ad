import type { Entry, Snapshot } from "../../src/protocols/consensus/types.js";
import type { ReplicaApplication } from "../../src/runtime/replica.js";
import type { LogStorage } from "../../src/runtime/ports.js";

/**
 * What work costs in virtual time: the CPU a real server spends, measured on this project's
 * 2-core machine (the saved data of a wedged cluster, shared/repro/wedged-cluster: 7,993
 * entries, 129,000 messages, 20 MB of WAL; compiled servers). The simulator charges these to
 * the member doing the work (Scheduler.charge), so a world with a large backlog stalls a
 * member's event loop, and so its heartbeats, as long as a real process would be stalled.
 */
export const workCosts = {
  /** Applying one log entry, whatever it holds (decode, dispatch, bookkeeping). */
  applyEntryMs: 0.005,
  /** Applying one byte of entry data (1.1 s for 20 MB: message decoding, matchers, stores). */
  applyByteMs: 0.000_055,
  /** Recovering one byte of WAL at start (40 ms for 20 MB: read, CRC, replay). */
  recoverByteMs: 0.000_002,
  /** Building one byte of a snapshot (100-170 ms for 11 MB). */
  snapshotByteMs: 0.000_012,
  /** Restoring one byte of a snapshot (200-350 ms for 11 MB). */
  restoreByteMs: 0.000_025,
  /** Handing one message to a subscriber. */
  deliveryMs: 0.003,
} as const;

export function applyCostMs(entries: readonly Entry[]): number {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) bytes += (entries[i] as Entry).data.length;
  return entries.length * workCosts.applyEntryMs + bytes * workCosts.applyByteMs;
}

/**
 * The replica's application, charging its work to the member's clock before doing it. The
 * state machine underneath is the production one; only time is simulated.
 */
export function chargedApplication<T extends ReplicaApplication>(application: T, charge: (workMs: number) => void): ReplicaApplication {
  const charged: ReplicaApplication = {
    apply: (entries) => {
      charge(applyCostMs(entries));
      application.apply(entries);
    },
    restore: (snapshot: Snapshot) => {
      charge(snapshot.data.length * workCosts.restoreByteMs);
      application.restore(snapshot);
    },
  };
  const snapshotOf = application.snapshot;
  if (snapshotOf !== undefined) {
    charged.snapshot = () => {
      const bytes = snapshotOf.call(application);
      charge(bytes.length * workCosts.snapshotByteMs);
      return bytes;
    };
  }
  const beginRestore = application.beginRestore;
  if (beginRestore !== undefined) {
    charged.beginRestore = (snapshot) => {
      const sliced = beginRestore.call(application, snapshot);
      return { step: (more) => chargedStep(sliced, more, workCosts.restoreByteMs, charge) };
    };
  }
  const captureSnapshot = application.captureSnapshot;
  if (captureSnapshot !== undefined) {
    charged.captureSnapshot = () => {
      const sliced = captureSnapshot.call(application);
      return { step: (more) => chargedStep(sliced, more, workCosts.snapshotByteMs, charge) };
    };
  }
  return charged;
}

/**
 * One step of sliced work, charging each unit as it is done: `more()` is asked after every
 * unit, so the clock it reads has moved by that unit's cost (and the slice ends in time).
 */
function chargedStep<T>(sliced: { step(more: () => boolean): T; readonly progressBytes?: number }, more: () => boolean, byteMs: number, charge: (workMs: number) => void): T {
  let counted = sliced.progressBytes ?? 0;
  const settle = (): void => {
    const progress = sliced.progressBytes ?? 0;
    charge(Math.max(0, progress - counted) * byteMs);
    counted = progress;
  };
  const result = sliced.step(() => {
    settle();
    return more();
  });
  settle();
  return result;
}

/** A log whose recovery charges the bytes it read back. */
export function chargedStorage(storage: LogStorage, charge: (workMs: number) => void): LogStorage {
  return {
    recover: () => {
      const recovered = storage.recover();
      let bytes = recovered.snapshot?.data.length ?? 0;
      for (const entry of recovered.entries) bytes += entry.data.length + 32;
      charge(bytes * workCosts.recoverByteMs);
      return recovered;
    },
    write: (batch, onDurable) => storage.write(batch, onDurable),
    close: () => storage.close(),
  };
}
