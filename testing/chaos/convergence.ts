import type { ServiceStatus } from "../../src/services/server/server-status.js";
import type { FinalStore } from "./chaos-checker.js";
import type { ChaosCluster } from "./chaos-cluster.js";

export interface Convergence {
  readonly converged: boolean;
  /** Each service's view, as the last poll saw it (for the report). */
  readonly detail: string;
  /** The stores as every service agrees on them (the leader's, if not converged). */
  readonly stores: readonly FinalStore[];
}

/**
 * What must be equal on every service once the cluster converged: the same leader and term,
 * the same log history (last term and index) and commit index, and the same stores (messages,
 * bytes, last sequence) and durable backlogs.
 */
function fingerprint(status: ServiceStatus): string {
  const stores = status.stores.map((store) => `${store.name}:${store.messages}/${store.bytes}/${store.lastSequence}[${store.durables.map((durable) => `${durable.name}=${durable.backlog}`).join(",")}]`);
  return `term ${status.term} leader ${status.leader ?? "-"} history ${status.history.term}.${status.history.index} commit ${status.commitIndex} ${stores.join(" ")}`;
}

/**
 * Polls every service's admin status (GET /api/v1/status) until all report the same
 * fingerprint, with one leader and nobody empty, or `timeoutMs` passes. The leader appends a
 * log-time tick every second, so one poll may catch a follower a moment behind: keep polling.
 */
export async function waitForConvergence(cluster: ChaosCluster, timeoutMs: number): Promise<Convergence> {
  const deadline = Date.now() + timeoutMs;
  let last = new Map<string, ServiceStatus | null>();
  while (Date.now() < deadline) {
    last = await cluster.statuses();
    const statuses = [...last.values()];
    const leaders = statuses.filter((status) => status?.role === "leader");
    const prints = new Set(statuses.map((status) => (status === null || status.empty ? "unreachable or empty" : fingerprint(status))));
    if (leaders.length === 1 && prints.size === 1 && !prints.has("unreachable or empty")) {
      return { converged: true, detail: [...prints][0] ?? "", stores: storesOf(leaders[0] ?? null) };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const leader = [...last.values()].find((status) => status?.role === "leader") ?? null;
  const detail = [...last.entries()].map(([server, status]) => `${server}: ${status === null ? "unreachable" : `${status.role}${status.empty ? " (empty)" : ""} ${fingerprint(status)}`}`).join("\n");
  return { converged: false, detail, stores: storesOf(leader) };
}

function storesOf(status: ServiceStatus | null): FinalStore[] {
  return status?.stores.map((store) => ({ store: store.name, lastSequence: store.lastSequence })) ?? [];
}
