import { assert } from "../../../src/kernel/assert.js";
import { decodeMessage, encodeMessage } from "../../../src/protocols/persistence/message-codec.js";
import { message } from "../../../src/protocols/persistence/message.js";
import type { AckPoint, ClusterStoresConfig } from "../../../src/protocols/persistence/state-types.js";

/** Ack waits of the acked durables: short, so redeliveries happen within a run. */
export const ackWaitMsByDurable: Readonly<Record<string, number>> = { std: 400, shared: 300 };

/** Shared: a message unacked this often is dead-lettered (dropped: no dead-letter store). */
export const sharedDeliveryLimit = 4;

/**
 * The one store every simulated member starts from: a standard durable, a shared one, a
 * last-value one and a map, all keyed by the `key` field, none with a matcher (every message
 * goes to each).
 */
export const simulatedStores: ClusterStoresConfig = {
  stores: [
    {
      name: "orders",
      limits: {},
      full: "reject-new",
      publisherMode: "confirm",
      ackPoint: "quorum-fsync",
      durables: [
        { name: "std", type: "standard", ackWaitMs: ackWaitMsByDurable.std },
        { name: "shared", type: "shared", ackWaitMs: ackWaitMsByDurable.shared, deliveryLimit: sharedDeliveryLimit },
        { name: "lv", type: "last-value", keyField: "key" },
        { name: "map", type: "map", keyField: "key" },
      ],
      templates: [],
    },
  ],
};

/** A published message: its id ("p1.17", publisher and sequence), a key (k0..) and `padBytes` of filler. */
export function publishedMessage(messageId: string, key: string, padBytes = 0): Uint8Array {
  return encodeMessage(message(padBytes > 0 ? { id: messageId, key, body: "x".repeat(padBytes) } : { id: messageId, key }));
}

/** A map-set message: only its id (the key is the command's). */
export function mapMessage(messageId: string): Uint8Array {
  return encodeMessage(message({ id: messageId }));
}

/** The `id` field of a message the simulation made. */
export function messageIdOf(bytes: Uint8Array): string {
  const decoded = decodeMessage(bytes);
  assert(decoded.ok, "a simulated message does not decode");
  const id = decoded.message.get("id");
  assert(id !== undefined && id.type === "string", "a simulated message has no string id");
  return id.value;
}

/** The simulated store with another ack point (memory ack points make the leader apply early). */
export function simulatedStoresWith(ackPoint: AckPoint): ClusterStoresConfig {
  return { stores: simulatedStores.stores.map((store) => ({ ...store, ackPoint })) };
}
