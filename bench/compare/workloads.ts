import { percentile } from "../stats.js";
import { longestAckGapMs } from "./ack-gaps.js";
import { checkExactlyOnce, type ExactlyOnceReport } from "./exactly-once.js";
import type { PublishOne, StreamName, Target } from "./target.js";

export interface PublishResult {
  readonly acknowledged: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly msgsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every distinct ack point the acks named (Holdfast: `confirm.ackPoint`). */
  readonly ackPoints: readonly string[];
}

/**
 * `count` publishes with `window` outstanding (window 1: one at a time), ids 1..count; stops
 * early at `timeLimitMs`. Latency is from the call to its ack, as the application sees it.
 */
export async function publishWorkload(publish: PublishOne, count: number, window: number, timeLimitMs: number): Promise<PublishResult> {
  const latencies: number[] = [];
  const ackPoints = new Set<string>();
  let failed = 0;
  let next = 1;
  const started = performance.now();
  const endAt = started + timeLimitMs;
  const worker = async (): Promise<void> => {
    while (next <= count && performance.now() < endAt) {
      const id = next++;
      const invokedAt = performance.now();
      try {
        ackPoints.add(await publish(id));
        latencies.push(performance.now() - invokedAt);
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    acknowledged: latencies.length,
    failed,
    elapsedMs,
    msgsPerSecond: (latencies.length * 1000) / elapsedMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ackPoints: [...ackPoints],
  };
}

export interface ConsumeResult {
  readonly consumed: number;
  readonly elapsedMs: number;
  readonly msgsPerSecond: number;
}

export async function consumeWorkload(target: Target, stream: StreamName, count: number, timeLimitMs: number): Promise<ConsumeResult> {
  const started = performance.now();
  const consumed = await target.consume(stream, count, timeLimitMs);
  const elapsedMs = performance.now() - started;
  return { consumed, elapsedMs, msgsPerSecond: (consumed * 1000) / elapsedMs };
}

export interface FailoverResult {
  readonly killed: string;
  /** When the kill -9 happened, from the start of the run. */
  readonly killedAtMs: number;
  readonly longestGapMs: number;
  /** When the longest gap began, from the start of the run. */
  readonly gapFromMs: number;
  readonly published: number;
  readonly failed: number;
  readonly check: ExactlyOnceReport;
}

/** Bounds on the failover loop besides its duration. */
const failoverPublishesMax = 1_000_000;
const readBackTimeoutMs = 60_000;

/**
 * A synchronous publisher for `durationMs`; at `killAtMs` kill -9 of the server leading the
 * stream. Once publishing ends the killed server restarts, and every acknowledged message
 * must be read back exactly once.
 */
export async function failoverWorkload(target: Target, durationMs: number, killAtMs: number): Promise<FailoverResult> {
  const publish = target.publisher("failover", 1);
  const ackTimes: number[] = [];
  const acknowledged: number[] = [];
  const published = new Set<number>();
  let failed = 0;
  const started = performance.now();
  const endAt = started + durationMs;
  const killing = (async () => {
    await new Promise((resolve) => setTimeout(resolve, killAtMs));
    const leader = await target.leader("failover");
    const killedAtMs = performance.now() - started;
    await target.kill(leader);
    return { leader, killedAtMs };
  })();
  for (let id = 1; id <= failoverPublishesMax && performance.now() < endAt; id++) {
    published.add(id);
    try {
      await publish(id);
      ackTimes.push(performance.now());
      acknowledged.push(id);
    } catch {
      failed += 1;
    }
  }
  const runEnd = performance.now();
  const { leader: killed, killedAtMs } = await killing;
  await target.restart(killed);
  const readBack = await target.readBack("failover", readBackTimeoutMs);
  const gap = longestAckGapMs(ackTimes, started, runEnd);
  return { killed, killedAtMs, longestGapMs: gap.gapMs, gapFromMs: gap.fromMs - started, published: published.size, failed, check: checkExactlyOnce(acknowledged, published, readBack) };
}
