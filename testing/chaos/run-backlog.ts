import { cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Prng } from "../../src/kernel/prng.js";
import { backlogDurables, backlogProbe, backlogRealmParts, backlogWorkloadPlan } from "./backlog-realm.js";
import { backlogSchedule, describeSchedule, type BacklogSchedule } from "./backlog-schedule.js";
import { runBacklogStep } from "./backlog-steps.js";
import { checkChaosHistory, type Violation } from "./chaos-checker.js";
import { ChaosCluster } from "./chaos-cluster.js";
import { ChaosHistory } from "./chaos-history.js";
import type { BacklogOptions } from "./chaos-options.js";
import { waitForConvergence } from "./convergence.js";
import { waitDrained } from "./drain.js";
import { LeaderObserver } from "./leader-observer.js";
import type { ChaosResult } from "./run-chaos.js";
import { waitServing } from "./serve-again.js";
import { Workload } from "./workload.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** While waiting for the backlog, a progress line every 100 polls (about 10 s). */
const progressEveryPolls = 100;

/**
 * The backlog history (shared/repro/wedged-cluster, on real processes): a fast confirm-mode
 * publisher builds a backlog while a slow durable falls behind; the seed's schedule kills the
 * leader twice, stops it for seconds and deploys two revisions; then every server is killed at
 * once while publishing and restarted. The cluster must serve again within a bound (one leader
 * keeps its term, a new publish confirms), and every confirmed publish must be read back.
 */
export async function runBacklog(options: BacklogOptions, log: (line: string) => void, register: (cluster: ChaosCluster) => void): Promise<ChaosResult> {
  const random = new Prng(options.seed);
  const schedule = backlogSchedule(random.fork(), options.spanMs);
  log(`schedule: ${describeSchedule(schedule)}`);

  const cluster = await ChaosCluster.start({ parts: backlogRealmParts, links: "direct" });
  register(cluster);
  const harness: Violation[] = [];
  const history = new ChaosHistory(options.operationsMax);
  const workload = new Workload(cluster.client, backlogWorkloadPlan, history, random.fork(), options.workload);
  const observer = new LeaderObserver(cluster);
  try {
    observer.start();
    const servers = cluster.servers.map((server) => `${server} (pid ${cluster.pid(server) ?? "?"})`).join(", ");
    log(`servers ${servers} (s1 primary, s2 its backup, s3 satellite); waiting for a leader`);
    log(`leader: ${await cluster.leader(options.startupMs)}`);
    await workload.start();
    log("workload started: publisher orders-1 (store orders, confirm mode); subscriber billing, paced");

    await buildBacklog(cluster, workload, schedule, options, harness, log);
    const { restartedMs, publishing } = await killEveryone(cluster, schedule, workload, log);

    const serving = await waitServing(cluster, history, backlogProbe, restartedMs, options.serveAgain);
    log(serving.detail);
    if (!serving.ok) harness.push({ check: "served-again", detail: serving.detail });
    await publishing;
    log(`publishing ended: ${workload.confirmed} confirmed`);

    let stores = null;
    if (serving.ok) {
      workload.drain();
      const drained = await waitDrained(cluster, history, backlogDurables, workload, options.drainMs);
      if (!drained.ok) harness.push({ check: "drained", detail: drained.detail });
      log(`drained: ${drained.detail}`);
    } else {
      // Not serving: nothing can be read back. Every confirmed publish not read yet counts as lost.
      log("not read back: the cluster does not serve");
    }
    await workload.close();

    await observer.stop();
    const leaders = observer.check();
    harness.push(...leaders.violations);
    log(`leaders: ${leaders.terms} terms seen with a leader in ${observer.polls} status polls, ${leaders.violations.length} with two`);
    if (serving.ok) {
      const convergence = await waitForConvergence(cluster, options.convergenceMs);
      if (!convergence.converged) harness.push({ check: "converged", detail: `services differ after ${options.convergenceMs} ms:\n${convergence.detail}` });
      log(`converged: ${convergence.converged ? convergence.detail : "no"}`);
      stores = convergence.stores;
    }

    const check = checkChaosHistory(history.operations, backlogDurables, stores);
    log(`history: ${JSON.stringify(history.counts())}; client events ${JSON.stringify(workload.events)}`);
    if (check.violationCount + harness.length > 0) {
      const kept = join(tmpdir(), `holdfast-chaos-${options.seed}-data`);
      cpSync(cluster.realmCluster.directory, kept, { recursive: true });
      log(`servers' data directories copied to ${kept}`);
    }
    return { faults: schedule.steps.length + 1, operations: history.count, check, violations: harness, history, serverLog: [...cluster.realmCluster.logLines] };
  } finally {
    await observer.stop();
    await workload.close().catch(() => undefined);
    await cluster.stop();
  }
}

/** The scripted steps, each at its time once the cluster is healthy; then until the backlog is built. */
async function buildBacklog(
  cluster: ChaosCluster,
  workload: Workload,
  schedule: BacklogSchedule,
  options: BacklogOptions,
  harness: Violation[],
  log: (line: string) => void,
): Promise<void> {
  const startedMs = Date.now();
  // The harness's own event-loop delay: a long one delays the clients, not the servers.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  for (const [at, step] of schedule.steps.entries()) {
    await sleep(startedMs + step.atMs - Date.now());
    const waitedFromMs = Date.now();
    if (!(await cluster.waitHealthy(options.recoveryMs))) {
      const detail = (await waitForConvergence(cluster, 1)).detail;
      harness.push({ check: "recovered", detail: `not healthy ${options.recoveryMs} ms before step ${at + 1} (${step.kind}): ${detail}` });
      await cluster.healAll();
    }
    const stepFromMs = Date.now();
    const outcome = await runBacklogStep(step, cluster, options);
    if (outcome.failure !== undefined) harness.push({ check: "deployed", detail: outcome.failure });
    const delayMaxMs = Math.round(loopDelay.max / 1e6);
    const times = `healthy after ${stepFromMs - waitedFromMs} ms, the step took ${Date.now() - stepFromMs} ms, harness loop delay max ${delayMaxMs} ms`;
    log(`step ${at + 1}/${schedule.steps.length}: ${outcome.line}; ${workload.confirmed} confirmed; ${times}`);
    loopDelay.reset();
  }
  await sleep(startedMs + schedule.spanMs - Date.now());
  const deadline = startedMs + options.backlogMsMax;
  for (let waited = 1; workload.confirmed < options.backlogConfirmedMin && Date.now() < deadline; waited++) {
    await sleep(100);
    if (waited % progressEveryPolls !== 0) continue;
    log(`building the backlog: ${workload.confirmed} of ${options.backlogConfirmedMin} confirmed; harness loop delay max ${Math.round(loopDelay.max / 1e6)} ms`);
  }
  const delayMaxMs = Math.round(loopDelay.max / 1e6);
  loopDelay.disable();
  const billing = [...(await cluster.statuses()).values()].find((status) => status?.role === "leader")?.stores.find((store) => store.name === "orders")?.durables[0];
  const short = workload.confirmed < options.backlogConfirmedMin ? ` (short of ${options.backlogConfirmedMin}: the bound of ${options.backlogMsMax} ms passed)` : "";
  log(`backlog built: ${workload.confirmed} confirmed${short}, billing backlog ${billing?.backlog ?? "?"}; harness loop delay max ${delayMaxMs} ms`);
}

/**
 * kill -9 of every server at once while publishing; the publisher then stops taking new messages
 * (those in flight are retried by the client library) and every server is restarted. Returns
 * when they were, and the end of publishing (each publish confirmed, failed or unknown).
 */
async function killEveryone(
  cluster: ChaosCluster,
  schedule: BacklogSchedule,
  workload: Workload,
  log: (line: string) => void,
): Promise<{ restartedMs: number; publishing: Promise<void> }> {
  await Promise.all(cluster.servers.map((server) => cluster.kill(server)));
  const publishing = workload.stopPublishing();
  const confirmed = workload.confirmed;
  await sleep(schedule.killAllDownMs);
  for (const server of cluster.servers) await cluster.restart(server);
  log(`kill -9 of every server at once (${confirmed} confirmed by then), down ${schedule.killAllDownMs} ms, restarted`);
  return { restartedMs: Date.now(), publishing };
}
