import { parse, stringify } from "yaml";
import type { Matcher } from "../../src/realm/schema.js";
import type { RealmClusterOptions } from "../process/realm-cluster.js";
import type { DurableDescription } from "./chaos-checker.js";
import type { Probe } from "./serve-again.js";
import type { WorkloadPlan } from "./workload.js";

/**
 * The realm of the backlog history, shaped like the demo realm (src/realm/testdata/demo-realm.yaml)
 * that wedged (shared/repro/wedged-cluster):
 *
 * - store `orders` (confirm mode, quorum-fsync): one fast publisher, `orders-1`; durable
 *   `billing` (standard, the demo's matcher, which every message matches) consumed slowly, so
 *   its backlog grows;
 * - store `prices` at a memory ack point (quorum-memory) that nobody publishes to: one such
 *   store makes the cluster's leaders apply entries before they commit (applyBeforeCommit in
 *   persistence-service.ts), which is what let a new leader's whole log run in one stretch.
 *
 * Revision 2 adds an endpoint, revision 3 a small store (deployed through the primary's admin
 * API; a store takes effect where a server restarts).
 */
export const backlogDurables: readonly DurableDescription[] = [{ store: "orders", durable: "billing", type: "standard" }];

/** Long enough that a paced subscriber's acks are recorded before its deliveries come back. */
const billingAckWaitMs = 10_000;

const endpoints: Readonly<Record<string, string>> = { orders: "orders-in", prices: "prices-in" };

/** The demo realm's `billing` matcher: each message a store keeps is matched against it as it is applied. */
const billingMatcher: Matcher = {
  subject: "ORDERS.*.new",
  fields: [
    { field: "priority", equals: "high" },
    { field: "customer", present: true },
  ],
};

export const backlogRealmParts: Pick<RealmClusterOptions, "stores" | "durables" | "endpoints"> = {
  stores: [
    { name: "orders", cluster: "c1", limits: {}, full: "reject-new", publisherMode: "confirm", ackPoint: "quorum-fsync", durableTemplates: [] },
    { name: "prices", cluster: "c1", limits: {}, full: "discard-old", publisherMode: "no-confirm", ackPoint: "quorum-memory", durableTemplates: [] },
  ],
  durables: backlogDurables.map((durable) => ({
    name: durable.durable,
    store: durable.store,
    type: durable.type,
    ackWaitMs: billingAckWaitMs,
    matcher: billingMatcher,
  })),
  endpoints: Object.entries(endpoints).map(([store, name]) => ({ name, store })),
};

const messageFields = { subject: "ORDERS.EU.new", priority: "high", customer: "acme" };

export const backlogWorkloadPlan: WorkloadPlan = {
  publishers: [{ name: "orders-1", store: "orders" }],
  subscribers: backlogDurables.map((durable) => ({ durable, count: 1 })),
  endpoints,
  messageFields,
};

/** After the restart, a publish like the workload's on a connection of its own (serve-again.ts). */
export const backlogProbe: Probe = { store: "orders", endpoint: "orders-in", fields: messageFields };

/** The revisions the history deploys after revision 1 (the realm file). */
export type DeployedRevision = 2 | 3;

interface DefinitionText {
  stores: unknown[];
  endpoints: { name: string; store: string }[];
  applications: { name: string; endpoints: string[] }[];
}

/**
 * Revision `revision`'s definition, made from revision 1's text: 2 adds endpoint `orders-audit`
 * (to store `orders`), 3 also adds store `notices` (100 messages, discarding old ones) and its
 * endpoint. Both endpoints join every application.
 */
export function backlogRevisionText(firstText: string, revision: DeployedRevision): string {
  const definition = parse(firstText) as DefinitionText;
  const added: { name: string; store: string }[] = [{ name: "orders-audit", store: "orders" }];
  if (revision === 3) {
    definition.stores.push({ name: "notices", cluster: "c1", limits: { messages: 100 }, full: "discard-old" });
    added.push({ name: "notices-in", store: "notices" });
  }
  definition.endpoints.push(...added);
  for (const application of definition.applications) application.endpoints.push(...added.map((endpoint) => endpoint.name));
  return stringify(definition);
}
