import { assert } from "../../../kernel/assert.js";
import type { PersistenceView } from "../state-types.js";
import type { Delivery } from "./types.js";

/**
 * One subscriber of a last-value durable: first the current entries (key order, paged as
 * credit allows), then live updates (store-sequence order). No acks: each delivery spends one
 * credit and `credit()` gives them back, up to the prefetch.
 *
 * `snapshotThroughSequence` is the store's last sequence at attach. The snapshot sends only
 * entries stored at or before it; an entry updated later is skipped there and sent once in the
 * live phase, which starts after that sequence. So no key is sent twice for one value, keys
 * updated during a long snapshot are not missed, and only a key's newest value is ever sent
 * (the view answers current values only; an older one is never read).
 */
export class LastValueSubscriber {
  private phase: "snapshot" | "live" = "snapshot";
  /** Snapshot: the last key passed. */
  private afterKey = "";
  /** Live: the highest store sequence sent. */
  private afterSequence: number;
  private credits: number;

  constructor(
    private readonly view: PersistenceView,
    readonly id: string,
    readonly store: string,
    readonly durable: string,
    readonly prefetch: number,
    private readonly snapshotThroughSequence: number,
  ) {
    this.afterSequence = snapshotThroughSequence;
    this.credits = prefetch;
  }

  /** Deliveries not yet credited back. */
  get outstanding(): number {
    return this.prefetch - this.credits;
  }

  credit(count: number): void {
    assert(Number.isSafeInteger(count) && count >= 0, `credit must be a non-negative integer, got ${count}`);
    // A client crediting more than it was sent gains nothing beyond its prefetch.
    this.credits = Math.min(this.prefetch, this.credits + count);
  }

  deliver(quota: number, out: Delivery[]): number {
    let sent = 0;
    while (sent < quota && this.credits > 0) {
      const countMax = Math.min(quota - sent, this.credits);
      const delivered = this.phase === "snapshot" ? this.deliverSnapshot(countMax, out) : this.deliverLive(countMax, out);
      if (delivered === null) break;
      sent += delivered;
    }
    return sent;
  }

  /** Null once there is nothing more to read now. */
  private deliverSnapshot(countMax: number, out: Delivery[]): number | null {
    const page = this.view.entriesAfter(this.store, this.durable, this.afterKey, countMax);
    if (page.length === 0) {
      this.phase = "live";
      return 0;
    }
    let sent = 0;
    for (const [key, message] of page) {
      assert(key > this.afterKey, `entriesAfter returned key ${key} after ${this.afterKey}`);
      this.afterKey = key;
      if (message.storeSequence > this.snapshotThroughSequence) continue;
      this.send(key, message, out);
      sent++;
    }
    return sent;
  }

  private deliverLive(countMax: number, out: Delivery[]): number | null {
    const page = this.view.updatesAfter(this.store, this.durable, this.afterSequence, countMax);
    if (page.length === 0) return null;
    for (const [key, message] of page) {
      assert(message.storeSequence > this.afterSequence, `updatesAfter returned ${message.storeSequence} after ${this.afterSequence}`);
      this.afterSequence = message.storeSequence;
      this.send(key, message, out);
    }
    return page.length;
  }

  private send(key: string, message: Delivery["message"], out: Delivery[]): void {
    this.credits--;
    out.push({
      subscriberId: this.id,
      store: this.store,
      durable: this.durable,
      storeSequence: message.storeSequence,
      deliveryCount: 1,
      key,
      message,
    });
  }
}
