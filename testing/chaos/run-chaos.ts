import { cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Prng } from "../../src/kernel/prng.js";
import { checkChaosHistory, type CheckResult, type Violation } from "./chaos-checker.js";
import { ChaosCluster } from "./chaos-cluster.js";
import { ChaosHistory } from "./chaos-history.js";
import { waitDrained } from "./drain.js";
import type { ChaosOptions } from "./chaos-options.js";
import { chaosDurables, chaosWorkloadPlan } from "./chaos-realm.js";
import { waitForConvergence } from "./convergence.js";
import { LeaderObserver } from "./leader-observer.js";
import { faultSchedule, injectFault, quietMs } from "./nemesis.js";
import { Workload } from "./workload.js";

export interface ChaosResult {
  readonly faults: number;
  readonly operations: number;
  readonly check: CheckResult;
  /** Harness-level findings (recovery, draining, convergence) added to the checker's. */
  readonly violations: readonly Violation[];
  readonly history: ChaosHistory;
  readonly serverLog: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One chaos run: start the cluster and the workload; the nemesis injects the seed's schedule,
 * waiting for the cluster to recover after each fault; then heal, restart everyone, drain the
 * subscribers, wait for the services to converge, and check the history.
 */
export async function runChaos(options: ChaosOptions, log: (line: string) => void, register: (cluster: ChaosCluster) => void): Promise<ChaosResult> {
  const random = new Prng(options.seed);
  const nemesisRandom = random.fork();
  const workloadRandom = random.fork();
  const schedule = faultSchedule(nemesisRandom, options.faultRounds);
  log(`schedule: ${schedule.join(", ")}`);

  const cluster = await ChaosCluster.start();
  register(cluster);
  const harness: Violation[] = [];
  const history = new ChaosHistory(options.operationsMax);
  const workload = new Workload(cluster.client, chaosWorkloadPlan, history, workloadRandom, options.workload);
  const observer = new LeaderObserver(cluster);
  try {
    observer.start();
    log(`servers ${cluster.servers.map((server) => `${server} (pid ${cluster.pid(server) ?? "?"})`).join(", ")}; waiting for a leader`);
    log(`leader: ${await cluster.leader(options.startupMs)}`);
    await workload.start();
    log("workload started: publishers orders-1, orders-2, audit-1; subscribers billing, pickers x2, auditor");

    // The harness's own event-loop delay: a long one delays the clients, not the members.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    let faults = 0;
    for (const [at, kind] of schedule.entries()) {
      const faultRandom = nemesisRandom.fork();
      if (!(await cluster.waitHealthy(options.recoveryMs))) {
        harness.push({ check: "recovered", detail: `not healthy ${options.recoveryMs} ms after fault ${at} (before ${kind}): ${(await waitForConvergence(cluster, 1)).detail}` });
        log(`not healthy before fault ${at + 1}; healing everything`);
        await cluster.healAll();
      }
      await sleep(quietMs(faultRandom));
      const what = await injectFault(kind, cluster, faultRandom, options.leaderMs);
      faults += 1;
      log(`fault ${at + 1}/${schedule.length} ${kind}: ${what}; history ${history.count} operations; harness loop delay max ${Math.round(loopDelay.max / 1e6)} ms`);
      loopDelay.reset();
    }

    loopDelay.disable();
    log("faults done: healing, restarting everyone, finishing publishes");
    await cluster.healAll();
    await workload.stopPublishing();
    if (!(await cluster.waitHealthy(options.recoveryMs))) harness.push({ check: "recovered", detail: `not healthy ${options.recoveryMs} ms after healing` });

    workload.drain();
    const drained = await waitDrained(cluster, history, chaosDurables, workload, options.drainMs);
    if (!drained.ok) harness.push({ check: "drained", detail: drained.detail });
    log(`drained: ${drained.detail}`);
    await workload.close();

    await observer.stop();
    const leaders = observer.check();
    harness.push(...leaders.violations);
    log(`leaders: ${leaders.terms} terms seen with a leader in ${observer.polls} status polls, ${leaders.violations.length} with two`);
    const convergence = await waitForConvergence(cluster, options.convergenceMs);
    if (!convergence.converged) harness.push({ check: "converged", detail: `services differ after ${options.convergenceMs} ms:\n${convergence.detail}` });
    log(`converged: ${convergence.converged ? convergence.detail : "no"}`);

    const check = checkChaosHistory(history.operations, chaosDurables, convergence.stores);
    log(`history: ${JSON.stringify(history.counts())}; client events ${JSON.stringify(workload.events)}`);
    if (check.violationCount + harness.length > 0) {
      // The servers' data (WAL segments, corrupt-* files) for whoever investigates.
      const kept = join(tmpdir(), `holdfast-chaos-${options.seed}-data`);
      cpSync(cluster.realmCluster.directory, kept, { recursive: true });
      log(`servers' data directories copied to ${kept}`);
    }
    return { faults, operations: history.count, check, violations: harness, history, serverLog: [...cluster.realmCluster.logLines] };
  } finally {
    await observer.stop();
    await workload.close().catch(() => undefined);
    await cluster.stop();
  }
}
