import { connect } from "../../src/index.js";
import type { ChaosCluster } from "./chaos-cluster.js";
import type { ChaosHistory } from "./chaos-history.js";
import { LeaderTenure } from "./leader-tenure.js";

export interface ServeAgainBounds {
  /** From the restart of every server: one leader kept and a new publish confirmed within this. */
  readonly serveAgainMs: number;
  /** How long the leader must keep its term. */
  readonly leaderKeptMs: number;
}

export interface ServeAgain {
  readonly ok: boolean;
  readonly detail: string;
}

/** Where the probe publishes, and the fields its message carries (those of the workload's messages, so every durable keeps it). */
export interface Probe {
  readonly store: string;
  readonly endpoint: string;
  readonly fields: Readonly<Record<string, string>>;
}

const pollIntervalMs = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether the cluster serves again after every server was restarted at `restartedMs`: within
 * `serveAgainMs` one leader keeps its term for `leaderKeptMs` (every service's admin status,
 * polled) and a publish on a connection of its own (process `probe`, recorded in the history,
 * so it must be read back like the others) is confirmed.
 */
export async function waitServing(cluster: ChaosCluster, history: ChaosHistory, probe: Probe, restartedMs: number, bounds: ServeAgainBounds): Promise<ServeAgain> {
  const deadline = restartedMs + bounds.serveAgainMs;
  const tenure = new LeaderTenure();
  let confirmedAfterMs: number | null = null;
  let probeDetail = "pending";
  const probing = publishProbe(cluster, history, probe, deadline - Date.now()).then((outcome) => {
    probeDetail = outcome;
    if (outcome === "confirmed") confirmedAfterMs = Date.now() - restartedMs;
  });
  let keptAfterMs: number | null = null;
  while (Date.now() < deadline && (keptAfterMs === null || confirmedAfterMs === null)) {
    const now = Date.now();
    tenure.observe(now, [...(await cluster.statuses()).values()]);
    if (keptAfterMs === null && tenure.kept(Date.now(), bounds.leaderKeptMs) !== null) keptAfterMs = Date.now() - restartedMs;
    await sleep(pollIntervalMs);
  }
  await probing;
  const kept = tenure.kept(Date.now(), bounds.leaderKeptMs);
  const leader =
    keptAfterMs === null || kept === null
      ? `no leader kept its term for ${bounds.leaderKeptMs} ms`
      : `${kept.service} kept term ${kept.term} for ${bounds.leaderKeptMs} ms ${keptAfterMs} ms after the restart`;
  const publish = confirmedAfterMs === null ? `the probe publish: ${probeDetail}` : `the probe publish confirmed ${confirmedAfterMs} ms after the restart`;
  const ok = keptAfterMs !== null && confirmedAfterMs !== null && Math.max(keptAfterMs, confirmedAfterMs) <= bounds.serveAgainMs;
  return { ok, detail: `${ok ? "serving" : `not serving within ${bounds.serveAgainMs} ms`}: ${leader}; ${publish}; ${tenure.describe()}` };
}

/** One confirm-mode publish on a connection of its own, recorded in the history; says how it ended. */
async function publishProbe(cluster: ChaosCluster, history: ChaosHistory, probe: Probe, timeoutMs: number): Promise<string> {
  const messageId = "probe:1";
  history.add({ f: "publish", type: "invoke", process: "probe", store: probe.store, messageId, number: 1 });
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    connection = await connect({ ...cluster.client, clientName: "probe", requestTimeoutMs: Math.max(1, timeoutMs) });
    const publisher = connection.publisher(probe.endpoint, { mode: "confirm", window: 1 });
    const confirm = await publisher.publish({ subject: `${probe.store.toUpperCase()}.new`, ...probe.fields, publisher: "probe", number: 1n });
    const { storeSequence, duplicate } = confirm;
    history.add({ f: "publish", type: "ok", process: "probe", store: probe.store, messageId, number: 1, storeSequence, duplicate });
    return "confirmed";
  } catch (error) {
    // Not confirmed in time: it may still be stored (info), as for any publish with an unknown outcome.
    const detail = error instanceof Error ? error.message : String(error);
    history.add({ f: "publish", type: "info", process: "probe", store: probe.store, messageId, number: 1, detail });
    return `not confirmed (${detail})`;
  } finally {
    connection?.close();
  }
}
