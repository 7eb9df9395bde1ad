import { assert } from "../../kernel/assert.js";
import type { Entry, Snapshot } from "../../protocols/consensus/types.js";
import { decodeCommand } from "../../protocols/persistence/command-codec.js";
import type { Command, CommandResult, PersistenceState } from "../../protocols/persistence/state-types.js";
import type { ReplicaApplication, SlicedRestore, SnapshotEncoding } from "../../runtime/replica-application.js";

/** Applied commands, for whoever drives deliveries (the leader's engine) and tests. */
export interface AppliedListener {
  applied(index: number, command: Command, result: CommandResult): void;
  /** The whole state was replaced (a snapshot from the leader or from disk). */
  restored(): void;
  /** A batch of entries (commands or not) was applied: the applied index moved. */
  batchApplied?(): void;
}

/**
 * The persistence state machine as the consensus replica's application: decodes each
 * committed command and applies it. Results are kept by log index only while someone waits
 * for them (the leader's proposals): `committed` notifications, which the replica sends after
 * applying the entry, take them out.
 */
export class PersistenceApplication implements ReplicaApplication {
  private readonly results = new Map<number, CommandResult>();
  /** Record results only while leading: followers have nobody waiting. */
  recordResults = false;
  listener: AppliedListener | null = null;
  /** Commands that failed to decode (a corrupt or foreign entry): skipped identically everywhere. */
  undecodable = 0;

  constructor(readonly state: PersistenceState) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.kind !== "command") {
        this.state.skip(entry.index);
        continue;
      }
      const decoded = decodeCommand(entry.data);
      if (!decoded.ok) {
        this.undecodable += 1;
        this.state.skip(entry.index);
        if (this.recordResults) this.results.set(entry.index, { type: "rejected", reason: "invalid-message", detail: `undecodable command: ${decoded.error}` });
        continue;
      }
      const result = this.state.apply(entry.index, decoded.command);
      if (this.recordResults) this.results.set(entry.index, result);
      this.listener?.applied(entry.index, decoded.command, result);
    }
    this.listener?.batchApplied?.();
  }

  /** The result of the entry at `index`, once: the proposer relays it to its client. */
  takeResult(index: number): CommandResult | undefined {
    const result = this.results.get(index);
    // Notifications come in log order, so anything older belongs to nobody (entries of an
    // earlier term this leader committed): drop it so the map stays small.
    for (const older of this.results.keys()) {
      if (older > index) break;
      this.results.delete(older);
    }
    return result;
  }

  /** The result at `index`, once, leaving the others (an early, memory ack point answer). */
  takeResultAt(index: number): CommandResult | undefined {
    const result = this.results.get(index);
    this.results.delete(index);
    return result;
  }

  /** Leadership ended: nobody will collect these. */
  dropResults(): void {
    this.results.clear();
  }

  restore(snapshot: Snapshot): void {
    this.state.restore(snapshot.data);
    assert(this.state.appliedIndex === snapshot.index, `snapshot at ${snapshot.index} restored state at ${this.state.appliedIndex}`);
    this.results.clear();
    this.listener?.restored();
  }

  snapshot(): Uint8Array {
    return this.state.snapshot();
  }

  beginRestore(snapshot: Snapshot): SlicedRestore {
    const restoring = this.state.beginRestore(snapshot.data);
    return {
      get progressBytes() {
        return restoring.progressBytes;
      },
      step: (more) => {
        if (restoring.step(more) === null) return false;
        assert(this.state.appliedIndex === snapshot.index, `snapshot at ${snapshot.index} restored state at ${this.state.appliedIndex}`);
        this.results.clear();
        this.listener?.restored();
        return true;
      },
    };
  }

  captureSnapshot(): SnapshotEncoding {
    return this.state.captureSnapshot();
  }
}
