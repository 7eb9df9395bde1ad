import type { DurableDescription } from "./chaos-checker.js";
import type { ChaosCluster } from "./chaos-cluster.js";
import type { ChaosHistory } from "./chaos-history.js";
import type { Workload } from "./workload.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Drained: every confirmed publish delivered to every durable of its store, no ack pending at
 * the clients, and the leader reports every durable with no backlog and nothing unacked. (An
 * ack whose answer was lost, `info`, may have been recorded: only the leader knows.)
 */
export async function waitDrained(
  cluster: ChaosCluster,
  history: ChaosHistory,
  durables: readonly DurableDescription[],
  workload: Workload,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutMs;
  let detail = "";
  // Read the history once, incrementally: a full scan each round would hold the event loop.
  const delivered = new Set<string>();
  /** Confirmed (durable, message) pairs not delivered yet. */
  let undelivered: string[] = [];
  let readUpTo = 0;
  while (Date.now() < deadline) {
    for (; readUpTo < history.operations.length; readUpTo++) {
      const operation = history.operations[readUpTo];
      if (operation?.f === "deliver") delivered.add(`${operation.durable}/${operation.messageId}`);
      if (operation?.f !== "publish" || operation.type !== "ok") continue;
      for (const durable of durables) if (durable.store === operation.store) undelivered.push(`${durable.durable}/${operation.messageId}`);
    }
    undelivered = undelivered.filter((key) => !delivered.has(key));
    const leader = [...(await cluster.statuses()).values()].find((status) => status?.role === "leader");
    const reported = leader?.stores.flatMap((store) => store.durables) ?? [];
    const busy = reported.filter((durable) => durable.backlog > 0 || (durable.unacked ?? 0) > 0).map((durable) => `${durable.name}: backlog ${durable.backlog}, unacked ${durable.unacked ?? "?"}`);
    detail = `${undelivered.length} confirmed (durable, message) pairs undelivered, ${workload.pendingAcks} acks pending, ${leader ? `leader ${leader.service}: ${busy.join("; ") || "every durable empty"}` : "no leader"}`;
    if (undelivered.length === 0 && workload.pendingAcks === 0 && leader && busy.length === 0) return { ok: true, detail };
    await sleep(500);
  }
  return { ok: false, detail: `after ${timeoutMs} ms: ${detail}` };
}
