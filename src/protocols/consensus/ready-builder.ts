import type { Notification, PersistBatch, Ready } from "./effects.js";
import type { Message } from "./messages.js";
import type { Entry, HardState, Snapshot } from "./types.js";

/**
 * Collects the effects of several steps into one Ready, merging persistence so the batch
 * still means "snapshot, then truncate, then append, then hard state" (effects.ts).
 */
export class ReadyBuilder {
  private messages: Message[] = [];
  private messagesAfterPersist: Message[] = [];
  private snapshot: Snapshot | null = null;
  private truncateFrom: number | null = null;
  private entries: Entry[] = [];
  private hardState: HardState | null = null;
  private compactThrough: number | null = null;
  private applySnapshot: Snapshot | null = null;
  private applyEntries: Entry[] = [];
  private notifications: Notification[] = [];
  private applyEarlyEntries: Entry[] = [];
  private earlyNotifications: Notification[] = [];

  send(message: Message): void {
    this.messages.push(message);
  }

  sendAfterPersist(message: Message): void {
    this.messagesAfterPersist.push(message);
  }

  persistEntry(entry: Entry): void {
    this.entries.push(entry);
  }

  persistTruncate(from: number): void {
    // Pending appends at or past `from` never need to reach the disk.
    let keep = this.entries.length;
    while (keep > 0 && (this.entries[keep - 1]?.index ?? 0) >= from) keep -= 1;
    this.entries.length = keep;
    this.truncateFrom = this.truncateFrom === null ? from : Math.min(this.truncateFrom, from);
    this.dropAcknowledgmentsFrom(from);
  }

  /**
   * An acknowledgment waiting in this Ready promises entries this batch will no longer write:
   * withdraw it. Losing a message is always safe (the leader asks again); an acknowledgment of
   * an entry that is not on disk is not.
   */
  private dropAcknowledgmentsFrom(from: number): void {
    this.messagesAfterPersist = this.messagesAfterPersist.filter(
      (message) => !(message.type === "append-response" && message.success && message.matchIndex >= from),
    );
  }

  /**
   * `install`: a leader's snapshot replaces the whole log. Otherwise a local snapshot lets the
   * entries it covers be deleted.
   */
  persistSnapshot(snapshot: Snapshot, install: boolean): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((entry) => entry.index > snapshot.index);
    if (install) {
      this.entries = [];
      this.truncateFrom = snapshot.index + 1;
      this.compactThrough = null;
      this.dropAcknowledgmentsFrom(snapshot.index + 1);
    } else {
      if (this.truncateFrom !== null && this.truncateFrom <= snapshot.index) this.truncateFrom = null;
      this.compactThrough = snapshot.index;
    }
  }

  persistHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  restore(snapshot: Snapshot): void {
    this.applySnapshot = snapshot;
    this.applyEntries = [];
    // Early applies gathered before it are undone by it (a rollback, early-apply.ts): drop them.
    this.applyEarlyEntries = [];
  }

  apply(entries: Entry[]): void {
    for (const entry of entries) this.applyEntries.push(entry);
  }

  notify(notification: Notification): void {
    this.notifications.push(notification);
  }

  applyEarly(entry: Entry): void {
    this.applyEarlyEntries.push(entry);
  }

  notifyEarly(notification: Notification): void {
    this.earlyNotifications.push(notification);
  }

  hasAny(): boolean {
    return (
      this.messages.length > 0 ||
      this.messagesAfterPersist.length > 0 ||
      this.hasPersist() ||
      this.applySnapshot !== null ||
      this.applyEntries.length > 0 ||
      this.notifications.length > 0 ||
      this.applyEarlyEntries.length > 0 ||
      this.earlyNotifications.length > 0
    );
  }

  take(): Ready {
    const persist: PersistBatch | null = this.hasPersist()
      ? {
          snapshot: this.snapshot,
          truncateFrom: this.truncateFrom,
          entries: this.entries,
          hardState: this.hardState,
          compactThrough: this.compactThrough,
        }
      : null;
    const ready: Ready = {
      messages: this.messages,
      persist,
      messagesAfterPersist: this.messagesAfterPersist,
      applySnapshot: this.applySnapshot,
      apply: this.applyEntries,
      notify: this.notifications,
      applyEarly: this.applyEarlyEntries,
      notifyEarly: this.earlyNotifications,
    };
    this.messages = [];
    this.messagesAfterPersist = [];
    this.snapshot = null;
    this.truncateFrom = null;
    this.entries = [];
    this.hardState = null;
    this.compactThrough = null;
    this.applySnapshot = null;
    this.applyEntries = [];
    this.notifications = [];
    this.applyEarlyEntries = [];
    this.earlyNotifications = [];
    return ready;
  }

  private hasPersist(): boolean {
    return (
      this.snapshot !== null ||
      this.truncateFrom !== null ||
      this.entries.length > 0 ||
      this.hardState !== null ||
      this.compactThrough !== null
    );
  }
}
