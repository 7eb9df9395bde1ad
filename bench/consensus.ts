import { parseArgs } from "node:util";
import { OutcomeUnknownError } from "../src/client/cluster-client.js";
import { ProcessCluster } from "../testing/process/process-cluster.js";
import { figure, percentile } from "./stats.js";

/**
 * Consensus throughput and latency with 3 real member processes on loopback, fsync on:
 * 128-byte proposals, a window of 256 outstanding, then leader kill -9 to first new commit.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "10" },
      window: { type: "string", default: "256" },
      bytes: { type: "string", default: "128" },
      failovers: { type: "string", default: "3" },
    },
  });
  const seconds = Number(values.seconds);
  const window = Number(values.window);
  const payloadBytes = Number(values.bytes);
  const failovers = Number(values.failovers);

  const cluster = await ProcessCluster.start({ recordCommandsMax: 0 });
  try {
    await cluster.waitForLeader();
    const throughput = await measureThroughput(cluster, seconds, window, payloadBytes);
    const common = { window, payloadBytes, fsync: true, members: 3 };
    figure("consensus.commit_throughput", throughput.entriesPerSecond, "entries/s", common);
    figure("consensus.commit_latency_p50", throughput.p50Ms, "ms", common);
    figure("consensus.commit_latency_p99", throughput.p99Ms, "ms", common);
    const failoverTimes: number[] = [];
    for (let round = 0; round < failovers; round += 1) failoverTimes.push(await measureFailover(cluster));
    failoverTimes.sort((a, b) => a - b);
    figure("consensus.failover_to_first_commit_median", percentile(failoverTimes, 0.5), "ms", { rounds: failovers, all: failoverTimes.map(Math.round) });
    figure("consensus.failover_to_first_commit_max", failoverTimes[failoverTimes.length - 1] ?? Number.NaN, "ms", { rounds: failovers });
    process.stderr.write(
      `\nconsensus: ${Math.round(throughput.entriesPerSecond)} entries/s committed (p50 ${throughput.p50Ms.toFixed(2)} ms, p99 ${throughput.p99Ms.toFixed(2)} ms), ` +
        `${throughput.committed} entries in ${seconds} s; leader kill -9 to first new commit: ${failoverTimes.map((t) => `${Math.round(t)} ms`).join(", ")}\n`,
    );
  } finally {
    await cluster.stop();
  }
}

async function measureThroughput(cluster: ProcessCluster, seconds: number, window: number, payloadBytes: number) {
  const payload = new Uint8Array(payloadBytes).fill(7);
  const latencies: number[] = [];
  const started = performance.now();
  const endAt = started + seconds * 1000;
  let committed = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const invokedAt = performance.now();
      await cluster.client.propose(payload);
      latencies.push(performance.now() - invokedAt);
      committed += 1;
    }
  };
  await Promise.all(Array.from({ length: window }, loop));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return { entriesPerSecond: (committed * 1000) / elapsedMs, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), committed };
}

/** Kill -9 the leader while a light load runs; time until a proposal made after the kill commits. */
async function measureFailover(cluster: ProcessCluster): Promise<number> {
  const leader = await cluster.waitForLeader();
  let firstCommitAfterKillMs = Number.NaN;
  let killedAt = Number.POSITIVE_INFINITY;
  let running = true;
  const payload = new Uint8Array(128).fill(1);
  const worker = async (): Promise<void> => {
    while (running) {
      const invokedAt = performance.now();
      try {
        await cluster.client.propose(payload);
        if (invokedAt >= killedAt && Number.isNaN(firstCommitAfterKillMs)) firstCommitAfterKillMs = performance.now() - killedAt;
      } catch (error) {
        if (!(error instanceof OutcomeUnknownError)) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((resolve) => setTimeout(resolve, 500));
  killedAt = performance.now();
  await cluster.kill(leader);
  const deadline = performance.now() + 20_000;
  while (Number.isNaN(firstCommitAfterKillMs) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  running = false;
  await Promise.all(workers);
  cluster.startMember(leader);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return firstCommitAfterKillMs;
}
