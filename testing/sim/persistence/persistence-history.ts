/**
 * What the clients and the leaders' delivery engines did, in the scheduler's order: a
 * Jepsen-style history the checkers (persistence-checkers.ts) read as plain data.
 *
 * Publishes are operations (invoke, then ok / fail; one never answered stays open, an `info`);
 * deliveries, attachments and confirmed acks are events seen at the leader that caused them.
 * "Engine" names one delivery engine: one member incarnation's one term of leadership.
 */
export type HistoryEvent =
  /** A publisher made a new item (it retries it until an answer). */
  | { readonly kind: "publish-invoke"; readonly timeMs: number; readonly publisher: string; readonly sequence: number; readonly messageId: string; readonly key: string }
  /** The item is stored (or was, by an earlier attempt: a duplicate) under this store sequence. */
  | {
      readonly kind: "publish-ok"; readonly timeMs: number; readonly publisher: string; readonly sequence: number; readonly storeSequence: number; readonly index: number; readonly duplicate: boolean;
      /** What the confirm says the item reached (quorum-fsync, or a memory ack point). */
      readonly ackPoint: string;
    }
  /** A member crashed: what it held only in memory is gone (memory ack points may lose it). */
  | { readonly kind: "crash"; readonly timeMs: number; readonly member: string }
  | { readonly kind: "publish-fail"; readonly timeMs: number; readonly publisher: string; readonly sequence: number; readonly reason: string }
  /** Map client: a set or remove, retried until confirmed. */
  | { readonly kind: "map-invoke"; readonly timeMs: number; readonly operation: number; readonly key: string; readonly messageId: string | null }
  | { readonly kind: "map-ok"; readonly timeMs: number; readonly operation: number; readonly index: number }
  | { readonly kind: "engine-start"; readonly timeMs: number; readonly engine: string; readonly member: string; readonly term: number }
  | { readonly kind: "engine-stop"; readonly timeMs: number; readonly engine: string; readonly reason: string }
  | { readonly kind: "attach"; readonly timeMs: number; readonly engine: string; readonly subscriberId: string; readonly durable: string }
  /** Detached at the engine (unsubscribe, connection gone); `lost` subscribers end with engine-stop. */
  | { readonly kind: "detach"; readonly timeMs: number; readonly engine: string; readonly subscriberId: string }
  /** The engine handed a message to a subscriber (the leader sends it now). */
  | {
      readonly kind: "delivery";
      readonly timeMs: number;
      readonly engine: string;
      readonly durable: string;
      readonly subscriberId: string;
      readonly storeSequence: number;
      readonly deliveryCount: number;
      readonly messageId: string;
      /** Last-value: the key it is the value of. */
      readonly key?: string;
    }
  /** An ack (or dead-letter) command was committed and applied on the leader that proposed it. */
  | { readonly kind: "ack-ok"; readonly timeMs: number; readonly engine: string; readonly durable: string; readonly sequences: readonly number[]; readonly index: number; readonly deadLetter: boolean };

export type EventOf<K extends HistoryEvent["kind"]> = Extract<HistoryEvent, { kind: K }>;

export class PersistenceHistory {
  readonly events: HistoryEvent[] = [];
  /** When the last publish was confirmed (-1: none yet). */
  lastPublishOkMs = -1;

  add(event: HistoryEvent): void {
    this.events.push(event);
    if (event.kind === "publish-ok") this.lastPublishOkMs = event.timeMs;
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const event of this.events) counts[event.kind] = (counts[event.kind] ?? 0) + 1;
    return counts;
  }
}
