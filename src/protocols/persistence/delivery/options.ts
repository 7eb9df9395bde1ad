import { limits } from "../../../kernel/limits.js";
import { assert } from "../../../kernel/assert.js";

/** Every bound of the delivery engine. Defaults come from kernel/limits.ts; tests shrink them. */
export interface DeliveryOptions {
  /** Ack wait of a standard or shared durable whose settings name none. */
  readonly ackWaitMs: number;
  /** A subscriber's prefetch is 1 to this. */
  readonly prefetchMax: number;
  /** Deliveries one poll hands out. */
  readonly deliveriesPerPollMax: number;
  /** Expired ack waits one poll handles. */
  readonly expirationsPerPollMax: number;
  /** Subscribers attached to one shared durable. */
  readonly subscribersPerDurableMax: number;
  /** Subscribers attached to the engine. */
  readonly subscribersMax: number;
  /** Delivery records (one per message in flight, awaiting redelivery or dead-lettering). */
  readonly recordsMax: number;
}

export function deliveryOptions(overrides: Partial<DeliveryOptions> = {}): DeliveryOptions {
  const options: DeliveryOptions = {
    ackWaitMs: limits.deliveryAckWaitMs,
    prefetchMax: limits.deliveryPrefetchMax,
    deliveriesPerPollMax: limits.deliveriesPerPollMax,
    expirationsPerPollMax: limits.deliveryExpirationsPerPollMax,
    subscribersPerDurableMax: limits.deliverySubscribersPerDurableMax,
    subscribersMax: limits.deliverySubscribersMax,
    recordsMax: limits.deliveryRecordsMax,
    ...overrides,
  };
  for (const [name, value] of Object.entries(options)) {
    assert(Number.isSafeInteger(value) && value >= 1, `delivery option ${name} must be a positive integer, got ${String(value)}`);
  }
  return options;
}
