import { HoldfastTarget } from "./holdfast-target.js";
import { NatsTarget } from "./nats-target.js";
import { watchPeakRss } from "./peak-rss.js";
import type { ComparedAckPoint, ComparisonResults, PublishRun } from "./results.js";
import type { Sizes } from "./sizes.js";
import type { Target } from "./target.js";
import { consumeWorkload, failoverWorkload, publishWorkload, type PublishResult } from "./workloads.js";

const log = (line: string): void => void process.stderr.write(`bench:compare: ${line}\n`);
const label = (target: Target, ackPoint?: ComparedAckPoint): string => (ackPoint ? `${target.system} ${ackPoint}` : target.system);

async function publishR3(target: Target, sizes: Sizes, name: string): Promise<{ publish: PublishResult; peakRss: ReadonlyMap<string, number> }> {
  const rss = watchPeakRss(target.serverPids());
  const publish = await publishWorkload(target.publisher("bulk", sizes.window), sizes.publish, sizes.window, sizes.publishTimeLimitMs);
  const peakRss = rss.stop();
  log(`publish-r3 ${name}: ${Math.round(publish.msgsPerSecond)} msgs/s, p50 ${publish.p50Ms.toFixed(2)} ms, p99 ${publish.p99Ms.toFixed(2)} ms, acks name ${publish.ackPoints.join(", ")}`);
  return { publish, peakRss };
}

async function publishSync(target: Target, sizes: Sizes, name: string): Promise<PublishResult> {
  const sync = await publishWorkload(target.publisher("single", 1), sizes.sync, 1, sizes.publishTimeLimitMs);
  log(`publish-r3-sync ${name}: p50 ${sync.p50Ms.toFixed(2)} ms, p99 ${sync.p99Ms.toFixed(2)} ms`);
  return sync;
}

async function warmUp(target: Target, sizes: Sizes): Promise<void> {
  // JIT, connections, the first snapshot: not measured, in a stream of its own.
  await publishWorkload(target.publisher("warm", sizes.window), sizes.warmUp, sizes.window, sizes.publishTimeLimitMs);
}

/**
 * The whole comparison. The systems take turns on each workload so that other load on the
 * machine hits both; the clusters not being measured are idle. Every process started here is
 * stopped in `finally`.
 */
export async function runComparison(sizes: Sizes): Promise<ComparisonResults> {
  const started: Target[] = [];
  const start = async <T extends Target>(name: string, starting: Promise<T>): Promise<T> => {
    log(`starting ${name}`);
    const target = await starting;
    started.push(target);
    await warmUp(target, sizes);
    return target;
  };
  // Ctrl-C or a kill of the run still stops every server it started (only those, by process).
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping the clusters this run started`);
    void Promise.allSettled(started.map((target) => target.stop())).then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const nats = await start("NATS JetStream (3 nats-server)", NatsTarget.start());
    const fsync = await start("Holdfast quorum-fsync (3 holdfast server)", HoldfastTarget.start("quorum-fsync"));
    const holdfastFsync = await publishR3(fsync, sizes, label(fsync, "quorum-fsync"));
    const natsPublish = await publishR3(nats, sizes, label(nats));
    const memory = await start("Holdfast quorum-memory (3 holdfast server)", HoldfastTarget.start("quorum-memory"));
    const holdfastMemory = await publishR3(memory, sizes, label(memory, "quorum-memory"));

    const memorySync = await publishSync(memory, sizes, label(memory, "quorum-memory"));
    const natsSync = await publishSync(nats, sizes, label(nats));
    const fsyncSync = await publishSync(fsync, sizes, label(fsync, "quorum-fsync"));
    await memory.stop();
    started.splice(started.indexOf(memory), 1);

    const natsConsume = await consumeWorkload(nats, "bulk", natsPublish.publish.acknowledged, sizes.consumeTimeLimitMs);
    log(`consume-r3 nats: ${Math.round(natsConsume.msgsPerSecond)} msgs/s (${natsConsume.consumed})`);
    const holdfastConsume = await consumeWorkload(fsync, "bulk", holdfastFsync.publish.acknowledged, sizes.consumeTimeLimitMs);
    log(`consume-r3 holdfast: ${Math.round(holdfastConsume.msgsPerSecond)} msgs/s (${holdfastConsume.consumed})`);

    const holdfastFailover = await failoverWorkload(fsync, sizes.failoverMs, sizes.killAtMs);
    log(`failover-r3 holdfast: killed ${holdfastFailover.killed}, longest gap ${Math.round(holdfastFailover.longestGapMs)} ms, lost ${holdfastFailover.check.lost.length}, duplicated ${holdfastFailover.check.duplicated.length}`);
    const natsFailover = await failoverWorkload(nats, sizes.failoverMs, sizes.killAtMs);
    log(`failover-r3 nats: killed ${natsFailover.killed}, longest gap ${Math.round(natsFailover.longestGapMs)} ms, lost ${natsFailover.check.lost.length}, duplicated ${natsFailover.check.duplicated.length}`);

    const run = (publish: { publish: PublishResult; peakRss: ReadonlyMap<string, number> }, sync: PublishResult): PublishRun => ({ ...publish, sync });
    return {
      holdfast: { "quorum-fsync": run(holdfastFsync, fsyncSync), "quorum-memory": run(holdfastMemory, memorySync), consume: holdfastConsume, failover: holdfastFailover },
      nats: { ...run(natsPublish, natsSync), consume: natsConsume, failover: natsFailover },
    };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const target of started) await target.stop().catch((error: unknown) => log(`stopping ${target.system}: ${String(error)}`));
  }
}
