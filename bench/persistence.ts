import { parseArgs } from "node:util";
import { connect, type Connection } from "../src/client/client.js";
import { message, type Message } from "../src/protocols/persistence/message.js";
import { RealmCluster, testCredentials } from "../testing/process/realm-cluster.js";
import type { AckPoint } from "../src/protocols/persistence/state-types.js";
import { figure, percentile } from "./stats.js";

const ackPoints: readonly AckPoint[] = ["quorum-fsync", "quorum-memory", "leader-memory"];

/**
 * Publish and consume with the client library against 3 real server processes on loopback:
 * 128-byte messages (encoded), confirm mode, quorum-fsync, a window of 256 outstanding.
 *   npm run bench -- publish [--count 100000] [--seconds 30] [--window 256] [--ack-point quorum-memory]
 *   npm run bench -- consume [--count 100000] [--prefetch 256]
 */
function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: "string", default: "100000" },
      seconds: { type: "string", default: "30" },
      window: { type: "string", default: "256" },
      prefetch: { type: "string", default: "256" },
      "ack-point": { type: "string", default: "quorum-fsync" },
    },
  });
  const ackPoint = values["ack-point"] as AckPoint;
  if (!ackPoints.includes(ackPoint)) throw new Error(`--ack-point: one of ${ackPoints.join(", ")}`);
  return { count: Number(values.count), seconds: Number(values.seconds), window: Number(values.window), prefetch: Number(values.prefetch), ackPoint };
}

/** A message whose canonical encoding is about 128 bytes: a number, padding and a subject. */
export function benchMessage(n: number): Message {
  return message({ n: BigInt(n), pad: new Uint8Array(90).fill(1), subject: "ORDERS.EU.new" });
}

/** Peak resident memory of each server process, sampled from its admin port. */
function sampleRss(cluster: RealmCluster): { stop(): Promise<Record<string, number>> } {
  const peak: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const server of cluster.realm.servers) {
        const status = await cluster.status(server.name);
        if (status) peak[server.name] = Math.max(peak[server.name] ?? 0, status.process.rssBytes);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function publishMany(client: Connection, count: number, seconds: number, window: number): Promise<{ published: number; elapsedMs: number; latencies: number[] }> {
  const publisher = client.publisher("orders-in", { window });
  const latencies: number[] = [];
  const started = performance.now();
  const endAt = started + seconds * 1000;
  let published = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < endAt) {
      const n = next++;
      const invokedAt = performance.now();
      await publisher.publish(benchMessage(n));
      latencies.push(performance.now() - invokedAt);
      published += 1;
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { published, elapsedMs: performance.now() - started, latencies };
}

/** Store `orders` (endpoint orders-in) with the given ack point and its standard durable `billing`. */
async function withCluster(ackPoint: AckPoint, body: (cluster: RealmCluster, client: Connection) => Promise<void>): Promise<void> {
  const cluster = await RealmCluster.start({
    mode: "process",
    serverCode: "build",
    stores: [{ name: "orders", cluster: "c1", limits: {}, full: "reject-new", publisherMode: "confirm", ackPoint, durableTemplates: [] }],
    durables: [{ name: "billing", store: "orders", type: "standard", matcher: { fields: [] } }],
    endpoints: [{ name: "orders-in", store: "orders" }],
  });
  let client: Connection | undefined;
  try {
    await cluster.waitForLeader(30_000);
    client = await connect({ servers: cluster.addresses, ...testCredentials, requestTimeoutMs: 30_000 });
    await body(cluster, client);
  } finally {
    client?.close();
    await cluster.stop();
  }
}

export async function publishBench(argv: string[]): Promise<void> {
  const { count, seconds, window, ackPoint } = options(argv);
  await withCluster(ackPoint, async (cluster, client) => {
    await publishMany(client, 2000, 10, window); // warm-up: JIT, connections, first snapshot of state
    const rss = sampleRss(cluster);
    const result = await publishMany(client, count, seconds, window);
    const peak = await rss.stop();
    result.latencies.sort((a, b) => a - b);
    const common = { window, messageBytes: 128, ackPoint, servers: 3 };
    const rate = (result.published * 1000) / result.elapsedMs;
    figure("publish.throughput", rate, "msgs/s", common);
    figure("publish.latency_p50", percentile(result.latencies, 0.5), "ms", common);
    figure("publish.latency_p99", percentile(result.latencies, 0.99), "ms", common);
    figure("publish.server_rss_peak_max", Math.max(...Object.values(peak)) / 1048576, "MiB", { perServer: Object.fromEntries(Object.entries(peak).map(([name, bytes]) => [name, Math.round(bytes / 1048576)])) });
    process.stderr.write(
      `\npublish (${ackPoint}, window ${window}): ${Math.round(rate)} msgs/s confirmed (p50 ${percentile(result.latencies, 0.5).toFixed(2)} ms, p99 ${percentile(result.latencies, 0.99).toFixed(2)} ms), ` +
        `${result.published} messages; peak RSS per server: ${Object.entries(peak).map(([name, bytes]) => `${name} ${Math.round(bytes / 1048576)} MiB`).join(", ")}\n`,
    );
  });
}

export async function consumeBench(argv: string[]): Promise<void> {
  const { count, prefetch, window, ackPoint } = options(argv);
  await withCluster(ackPoint, async (_cluster, client) => {
    const loaded = await publishMany(client, count, 600, window);
    let consumed = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const started = performance.now();
    await client.subscribe("orders-in", { durable: "billing", ack: "async", prefetch }, (delivered) => {
      void delivered.ack();
      consumed += 1;
      if (consumed === loaded.published) done();
    });
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 600_000))]);
    const elapsedMs = performance.now() - started;
    const rate = (consumed * 1000) / elapsedMs;
    figure("consume.throughput", rate, "msgs/s", { prefetch, ack: "async", messages: consumed, servers: 3 });
    process.stderr.write(`\nconsume: ${Math.round(rate)} msgs/s (${consumed} of ${loaded.published} messages, standard durable, async acks, prefetch ${prefetch})\n`);
  });
}
