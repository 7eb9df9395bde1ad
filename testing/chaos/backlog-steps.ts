import type { DeployAnswer } from "../process/realm-cluster.js";
import { backlogRevisionText } from "./backlog-realm.js";
import type { BacklogStep } from "./backlog-schedule.js";
import type { ChaosCluster } from "./chaos-cluster.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Between two tries of a refused deploy. */
const deployRetryMs = 500;
/** The server deploys go to (the demo realm's primary). */
const primary = "s1";

export interface StepOutcome {
  /** What was done, for the log. */
  readonly line: string;
  /** A deploy that never succeeded within its bound. */
  readonly failure?: string;
}

/**
 * Carries out one step of the backlog schedule and undoes it (restart, SIGCONT); the leader is
 * read from the cluster at that moment. A deploy goes to the primary and is tried again while
 * it is refused (its backup not linked again yet after a restart, say), up to `deployMs`.
 */
export async function runBacklogStep(step: BacklogStep, cluster: ChaosCluster, bounds: { leaderMs: number; deployMs: number }): Promise<StepOutcome> {
  switch (step.kind) {
    case "kill-leader": {
      const leader = await cluster.leader(bounds.leaderMs);
      await cluster.kill(leader);
      await sleep(step.downMs);
      await cluster.restart(leader);
      return { line: `kill -9 ${leader} (leader), down ${step.downMs} ms` };
    }
    case "pause-leader": {
      const leader = await cluster.leader(bounds.leaderMs);
      cluster.pause(leader);
      await sleep(step.pauseMs);
      cluster.resume(leader);
      return { line: `SIGSTOP ${leader} (leader, pid ${cluster.pid(leader) ?? "?"}) for ${step.pauseMs} ms, then SIGCONT` };
    }
    case "deploy":
      return deploy(cluster, step.revision, bounds.deployMs);
  }
}

async function deploy(cluster: ChaosCluster, revision: 2 | 3, deployMs: number): Promise<StepOutcome> {
  const text = backlogRevisionText(cluster.realmCluster.text, revision);
  const deadline = Date.now() + deployMs;
  let tries = 0;
  let last = "not tried";
  while (Date.now() < deadline) {
    tries += 1;
    const answer = await cluster.realmCluster
      .deploy(primary, { text })
      .catch((error: unknown): DeployAnswer => ({ status: 0, body: { message: String(error) } }));
    const number = (answer.body.revision as { number?: number } | undefined)?.number;
    // 200: the primary already runs it (an earlier try whose answer was lost).
    if (answer.status === 201 || answer.status === 200) {
      return { line: `deploy revision ${revision} to ${primary}: ${answer.status}, revision ${number ?? "?"} after ${tries} tries` };
    }
    last = `${answer.status} ${String(answer.body.code ?? "")} ${String(answer.body.message ?? "")}`.trim();
    await sleep(deployRetryMs);
  }
  const failure = `deploy of revision ${revision} to ${primary} not taken within ${deployMs} ms (${tries} tries), last answer: ${last}`;
  return { line: failure, failure };
}
