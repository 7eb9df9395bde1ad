import { formatGoals, checkGoals } from "./goals.js";
import type { MachineInfo } from "./machine.js";
import type { Measurement } from "./measurement.js";
import type { ComparisonResults } from "./results.js";
import { comparisonTable, spreadLines } from "./table.js";
import { describeExactlyOnce } from "./exactly-once.js";

export interface RunContext {
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly natsServer: string;
  readonly natsClient: string;
  readonly loadBefore: string;
  readonly loadAfter: string;
  /** Whether the 1-minute load average was above 1 before the run. */
  readonly noisy: boolean;
  readonly sizes: string;
  readonly rounds: number;
  /** The load average when each round started (1, 5, 15 min). */
  readonly roundLoads: readonly string[];
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}`;
const perServer = (peak: ReadonlyMap<string, number>): string =>
  [...peak]
    .map(([name, bytes]) => `${name} ${mib(bytes)}`)
    .join(", ");

/** The details behind the table's figures (what the JSON lines cannot say). */
export function details(results: ComparisonResults): string {
  const { holdfast, nats } = results;
  return [
    `- Peak RSS per server during publish-r3 (MiB): Holdfast quorum-fsync ${perServer(holdfast["quorum-fsync"].peakRss)}; quorum-memory ${perServer(holdfast["quorum-memory"].peakRss)}; NATS ${perServer(nats.peakRss)}.`,
    `- publish-r3 acknowledged/failed: Holdfast quorum-fsync ${holdfast["quorum-fsync"].publish.acknowledged}/${holdfast["quorum-fsync"].publish.failed}, quorum-memory ${holdfast["quorum-memory"].publish.acknowledged}/${holdfast["quorum-memory"].publish.failed}, NATS ${nats.publish.acknowledged}/${nats.publish.failed}; consume-r3 read ${holdfast.consume.consumed} (Holdfast) and ${nats.consume.consumed} (NATS).`,
    `- failover-r3, Holdfast: killed ${holdfast.failover.killed} at ${(holdfast.failover.killedAtMs / 1000).toFixed(1)} s; ${holdfast.failover.published} published, ${holdfast.failover.failed} failed; longest gap began ${(holdfast.failover.gapFromMs / 1000).toFixed(1)} s into the run; ${describeExactlyOnce(holdfast.failover.check)}.`,
    `- failover-r3, NATS: killed ${nats.failover.killed} at ${(nats.failover.killedAtMs / 1000).toFixed(1)} s; ${nats.failover.published} published, ${nats.failover.failed} failed; longest gap began ${(nats.failover.gapFromMs / 1000).toFixed(1)} s into the run; ${describeExactlyOnce(nats.failover.check)}.`,
  ].join("\n");
}

export const notes = [
  "- Ratio: above 1 means Holdfast is better (Holdfast / NATS for msgs/s, NATS / Holdfast for latency, gap and memory).",
  "- Ack points: Holdfast's `quorum-fsync` confirms once a majority has the message on disk (fsync, group commit); `quorum-memory` once a majority has it in memory. The last column is what the confirms actually named (`confirm.ackPoint`). **NATS 2.9 does not fsync per message**: a JetStream ack means a quorum of replicas has it, and nats-server fsyncs its files every 2 minutes (`sync_interval`).",
  "- Same client-side loop for both (bench/compare/workloads.ts), in one load-generator process; the systems run alternately on the same machine (publish-r3: Holdfast quorum-fsync, NATS, Holdfast quorum-memory; publish-r3-sync: Holdfast quorum-memory, NATS, Holdfast quorum-fsync; consume-r3: NATS, Holdfast; failover-r3: Holdfast, NATS); clusters not being measured stay idle.",
  "- Holdfast: three `holdfast server` processes run from the build (`npm run build` first, as production runs them), one store per workload with a standard durable retaining every message, 128-byte encoded messages, publisher deduplication always on. NATS: three nats-server processes, one R3 file stream per workload, 128-byte payloads; publish-r3 and -sync without `Nats-Msg-Id` (its fastest path), failover-r3 with `Nats-Msg-Id` and retries (what exactly-once needs); client reconnect wait 250 ms, publish timeout 1 s.",
  "- Both systems are driven by their Node.js clients (the `holdfast` client library, `nats` 2.x) in one load-generator process, so client costs count on both sides; the issue's NATS figures (publish about 19,000 msgs/s) were measured another way and compare only roughly.",
  "- Profiles: `HOLDFAST_PROFILE_DIR=/tmp/prof npm run bench:compare -- --quick` writes a V8 CPU profile per Holdfast server on exit (see How to profile).",
  "- consume-r3: a durable (Holdfast standard durable, prefetch 256, async acks; NATS pull consumer, explicit acks, 256 per pull) reads the messages publish-r3 stored. failover-r3: one publish at a time; kill -9 of the server leading the stream; the killed server restarts when publishing ends; then the whole stream is read back (Holdfast: the store's standard durable; NATS: an ordered consumer).",
].join("\n");

/** Details of each round, and each figure's spread over the rounds. */
export function roundDetails(rounds: readonly ComparisonResults[], rows: readonly Measurement[], spread: Parameters<typeof spreadLines>[1]): string {
  if (rounds.length === 1 && rounds[0]) return details(rounds[0]);
  return [...rounds.map((results, at) => `Round ${at + 1}:\n${details(results)}`), `Every round's values (the table shows their medians; lost and duplicated: the worst round):\n${spreadLines(rows, spread)}`].join("\n\n");
}

/** The section of docs/benchmarks.md for one run. */
export function markdownSection(context: RunContext, rows: readonly Measurement[], rounds: readonly ComparisonResults[], spread: Parameters<typeof spreadLines>[1]): string {
  const { machine } = context;
  return [
    "## Side by side with NATS JetStream (issue 4)",
    "",
    `\`${context.command}\` (${context.sizes}${context.rounds > 1 ? `; ${context.rounds} rounds, the table shows medians` : ""}), ${context.date}.`,
    "",
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM; load average before ${context.loadBefore}, after ${context.loadAfter}${context.rounds > 1 ? `, at the start of each round ${context.roundLoads.map((load) => `(${load})`).join(", ")}` : ""} (1, 5, 15 min; loads after the first round include the run's own processes; other engineers' tests share the machine). Versions: Node.js ${machine.node}, ${context.natsServer}, nats npm ${context.natsClient}, Holdfast ${machine.holdfastRevision}.`,
    "",
    ...(context.noisy ? ["**Noisy run**: other processes were busy on this 2-core machine (see the load averages); ratios between the systems hold better than absolute figures, and single runs vary by ±15% or more.", ""] : []),
    comparisonTable(rows),
    "",
    notes,
    roundDetails(rounds, rows, spread),
    "",
    "Goals of issue 4:",
    "",
    formatGoals(checkGoals(rows)),
  ].join("\n");
}
