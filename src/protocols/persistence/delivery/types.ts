import type { Command, DurableType, StoredMessage } from "../state-types.js";

/** One message to send to one subscriber now. */
export interface Delivery {
  readonly subscriberId: string;
  readonly store: string;
  readonly durable: string;
  readonly storeSequence: number;
  /** 1 on the first delivery by this leader; +1 on each redelivery. Last-value: always 1. */
  readonly deliveryCount: number;
  /** Last-value: the key this message is the current value of. */
  readonly key?: string;
  readonly message: StoredMessage;
}

export interface AttachRequest {
  readonly subscriberId: string;
  readonly store: string;
  readonly durable: string;
  /** Standard/shared: unacked deliveries in flight at most. Last-value: outstanding credit. */
  readonly prefetch: number;
}

export type AttachRefusal = "unknown-durable" | "durable-busy" | "wrong-durable-type" | "too-many-subscribers" | "invalid-prefetch";

export type AttachResult =
  | { readonly ok: true }
  /** `detail` is a sentence for the client naming what is wrong and what to do instead. */
  | { readonly ok: false; readonly reason: AttachRefusal; readonly detail: string };

/**
 * What one poll hands back. Send the deliveries (in this order per subscriber) and propose the
 * commands; neither needs to happen before the next poll.
 */
export interface PollResult {
  readonly deliveries: readonly Delivery[];
  /** `dead-letter` commands, one per durable, stamped with the poll's nowMs. */
  readonly proposals: readonly Command[];
  /** A per-poll bound cut this poll short: poll again soon (next turn of the event loop). */
  readonly more: boolean;
}

export interface SubscriberStats {
  readonly subscriberId: string;
  readonly prefetch: number;
  /** Standard/shared: delivered, unacked. Last-value: deliveries not yet credited back. */
  readonly inFlight: number;
}

export interface DurableDeliveryStats {
  readonly store: string;
  readonly durable: string;
  readonly type: DurableType;
  readonly subscribers: readonly SubscriberStats[];
  /** Delivered and unacked, over all subscribers. */
  readonly inFlight: number;
  /** Returned (detach, ack wait) and not yet delivered again. */
  readonly awaitingRedelivery: number;
  /** Dead-letter proposed, not yet applied. */
  readonly deadLettering: number;
}

export interface DeliveryStats {
  readonly durables: readonly DurableDeliveryStats[];
  readonly subscribers: number;
  readonly records: number;
}
