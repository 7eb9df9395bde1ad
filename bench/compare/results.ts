import type { Measurement } from "./measurement.js";
import type { ConsumeResult, FailoverResult, PublishResult } from "./workloads.js";

/** The ack points Holdfast's publish workloads run with, as asked in the realm's store. */
export const holdfastAckPoints = ["quorum-fsync", "quorum-memory"] as const;
export type ComparedAckPoint = (typeof holdfastAckPoints)[number];

export interface PublishRun {
  readonly publish: PublishResult;
  readonly sync: PublishResult;
  /** Peak RSS per server process during publish-r3, bytes. */
  readonly peakRss: ReadonlyMap<string, number>;
}

export interface ComparisonResults {
  readonly holdfast: Readonly<Record<ComparedAckPoint, PublishRun>> & { readonly consume: ConsumeResult; readonly failover: FailoverResult };
  readonly nats: PublishRun & { readonly consume: ConsumeResult; readonly failover: FailoverResult };
}

const mebibytes = (bytes: number): number => bytes / 2 ** 20;
const maxOf = (values: ReadonlyMap<string, number>): number => Math.max(0, ...values.values());
/** What the confirms named; when it differs from what was asked, both. */
const named = (asked: string, run: PublishResult): string => {
  const confirmed = run.ackPoints.join(", ") || "none";
  return confirmed === asked ? confirmed : `${confirmed} (asked ${asked})`;
};

/** The table's rows, in the order of the list. */
export function measurements(results: ComparisonResults): Measurement[] {
  const { holdfast, nats } = results;
  const rows: Measurement[] = [];
  for (const ackPoint of holdfastAckPoints) {
    const run = holdfast[ackPoint].publish;
    const holdfastAckPoint = named(ackPoint, run);
    rows.push({ name: `publish-r3.throughput.${ackPoint}`, holdfast: run.msgsPerSecond, nats: nats.publish.msgsPerSecond, unit: "msgs/s", better: "higher", holdfastAckPoint });
    rows.push({ name: `publish-r3.p50.${ackPoint}`, holdfast: run.p50Ms, nats: nats.publish.p50Ms, unit: "ms", better: "lower", holdfastAckPoint });
    rows.push({ name: `publish-r3.p99.${ackPoint}`, holdfast: run.p99Ms, nats: nats.publish.p99Ms, unit: "ms", better: "lower", holdfastAckPoint });
  }
  for (const ackPoint of holdfastAckPoints) {
    const run = holdfast[ackPoint].sync;
    const holdfastAckPoint = named(ackPoint, run);
    rows.push({ name: `publish-r3-sync.p50.${ackPoint}`, holdfast: run.p50Ms, nats: nats.sync.p50Ms, unit: "ms", better: "lower", holdfastAckPoint });
    rows.push({ name: `publish-r3-sync.p99.${ackPoint}`, holdfast: run.p99Ms, nats: nats.sync.p99Ms, unit: "ms", better: "lower", holdfastAckPoint });
  }
  rows.push({ name: "consume-r3.throughput", holdfast: holdfast.consume.msgsPerSecond, nats: nats.consume.msgsPerSecond, unit: "msgs/s", better: "higher" });
  rows.push({ name: "failover-r3.longest_ack_gap", holdfast: holdfast.failover.longestGapMs, nats: nats.failover.longestGapMs, unit: "ms", better: "lower" });
  rows.push({ name: "failover-r3.lost", holdfast: holdfast.failover.check.lost.length, nats: nats.failover.check.lost.length, unit: "messages", better: "none" });
  rows.push({ name: "failover-r3.duplicated", holdfast: holdfast.failover.check.duplicated.length, nats: nats.failover.check.duplicated.length, unit: "messages", better: "none" });
  for (const ackPoint of holdfastAckPoints) {
    rows.push({ name: `publish-r3.peak_rss_per_server_max.${ackPoint}`, holdfast: mebibytes(maxOf(holdfast[ackPoint].peakRss)), nats: mebibytes(maxOf(nats.peakRss)), unit: "MiB", better: "lower" });
  }
  return rows;
}
