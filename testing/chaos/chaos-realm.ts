import type { RealmClusterOptions } from "../process/realm-cluster.js";
import type { DurableDescription } from "./chaos-checker.js";
import type { WorkloadPlan } from "./workload.js";

/**
 * The stores, durables and endpoints of the chaos realm (one cluster `c1`, three services):
 *
 * - store `orders`: two publishers; `billing` (standard, one subscriber) and `pickers`
 *   (shared, two subscribers);
 * - store `audit`: one publisher; `auditor` (standard).
 *
 * No limits and no delivery limit, so nothing leaves a durable unacked: every confirmed message
 * must reach every durable. Ack waits are short so that skipped acks come back during the run.
 */
export const chaosAckWaitMs = 2000;

export const chaosDurables: readonly DurableDescription[] = [
  { store: "orders", durable: "billing", type: "standard" },
  { store: "orders", durable: "pickers", type: "shared" },
  { store: "audit", durable: "auditor", type: "standard" },
];

export const chaosEndpoints: Readonly<Record<string, string>> = { orders: "orders-in", audit: "audit-in" };

export const chaosRealmParts: Pick<RealmClusterOptions, "stores" | "durables" | "endpoints"> = {
  stores: [
    { name: "orders", cluster: "c1", limits: {}, full: "reject-new", publisherMode: "confirm", ackPoint: "quorum-fsync", durableTemplates: [] },
    { name: "audit", cluster: "c1", limits: {}, full: "reject-new", publisherMode: "confirm", ackPoint: "quorum-fsync", durableTemplates: [] },
  ],
  durables: chaosDurables.map((durable) => ({ name: durable.durable, store: durable.store, type: durable.type, ackWaitMs: chaosAckWaitMs, matcher: { fields: [] } })),
  endpoints: Object.entries(chaosEndpoints).map(([store, name]) => ({ name, store })),
};

/** `orders-1` and `orders-2` publish to `orders`, `audit-1` to `audit`; two subscribers on the shared durable, one on each other. */
export const chaosWorkloadPlan: WorkloadPlan = {
  publishers: [
    { name: "orders-1", store: "orders" },
    { name: "orders-2", store: "orders" },
    { name: "audit-1", store: "audit" },
  ],
  subscribers: chaosDurables.map((durable) => ({ durable, count: durable.type === "shared" ? 2 : 1 })),
  endpoints: chaosEndpoints,
  messageFields: {},
};
