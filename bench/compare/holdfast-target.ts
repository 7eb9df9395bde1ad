import { connect, type Connection } from "../../src/client/client.js";
import type { AckPoint } from "../../src/protocols/persistence/state-types.js";
import { RealmCluster, testCredentials } from "../../testing/process/realm-cluster.js";
import { benchMessage } from "../persistence.js";
import type { PublishOne, StreamName, Target } from "./target.js";

const streams: readonly StreamName[] = ["warm", "bulk", "single", "failover"];
/** A publish (leader changes and retries included) fails after this long. */
const requestTimeoutMs = 20_000;
const leaderTimeoutMs = 30_000;
const prefetch = 256;

/**
 * Holdfast as the system under test: three `holdfast server` processes (the RealmCluster
 * fixture, process mode) hosting cluster c1, one store per workload with the given ack point
 * and a standard durable that retains every message (as the NATS stream does).
 */
export class HoldfastTarget implements Target {
  readonly system = "holdfast" as const;

  private constructor(
    readonly cluster: RealmCluster,
    private readonly client: Connection,
  ) {}

  static async start(ackPoint: AckPoint): Promise<HoldfastTarget> {
    const cluster = await RealmCluster.start({
      mode: "process",
      serverCode: "build",
      stores: streams.map((stream) => ({ name: stream, cluster: "c1", limits: {}, full: "reject-new" as const, publisherMode: "confirm" as const, ackPoint, durableTemplates: [] })),
      durables: streams.map((stream) => ({ name: `${stream}-reader`, store: stream, type: "standard" as const, matcher: { fields: [] } })),
      endpoints: streams.map((stream) => ({ name: `${stream}-in`, store: stream })),
    });
    try {
      await cluster.waitForLeader(leaderTimeoutMs);
      const client = await connect({ servers: cluster.addresses, ...testCredentials, requestTimeoutMs });
      return new HoldfastTarget(cluster, client);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  publisher(stream: StreamName, window: number): PublishOne {
    const publisher = this.client.publisher(`${stream}-in`, { window });
    return async (id) => (await publisher.publish(benchMessage(id))).ackPoint;
  }

  async consume(stream: StreamName, count: number, timeoutMs: number): Promise<number> {
    let consumed = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const subscription = await this.client.subscribe(`${stream}-in`, { durable: `${stream}-reader`, ack: "async", prefetch }, (delivered) => {
      void delivered.ack();
      consumed += 1;
      if (consumed === count) done();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    await subscription.close();
    return consumed;
  }

  serverPids(): ReadonlyMap<string, number> {
    const pids = new Map<string, number>();
    for (const [name, child] of this.cluster.children) if (child.pid !== undefined) pids.set(name, child.pid);
    return pids;
  }

  leader(_stream: StreamName): Promise<string> {
    return this.cluster.waitForLeader(leaderTimeoutMs);
  }

  kill(server: string): Promise<void> {
    return this.cluster.kill(server);
  }

  restart(server: string): Promise<void> {
    return this.cluster.startServer(server);
  }

  /**
   * Every message of the store through its standard durable (nothing read it before): one id
   * per store sequence, so a redelivery is not mistaken for a message stored twice.
   */
  async readBack(stream: StreamName, timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    const leader = await this.cluster.waitForLeader(timeoutMs);
    const status = await this.cluster.status(leader);
    const total = status?.services.find((service) => service.cluster === "c1")?.stores.find((store) => store.name === stream)?.messages;
    if (total === undefined) throw new Error(`store ${stream}: no status from leader ${leader}`);
    const idsBySequence = new Map<number, number>();
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    const subscription = await this.client.subscribe(`${stream}-in`, { durable: `${stream}-reader`, ack: "async", prefetch }, (delivered) => {
      const n = delivered.message.get("n");
      idsBySequence.set(delivered.storeSequence, n?.type === "int" ? Number(n.value) : -1);
      void delivered.ack();
      if (idsBySequence.size >= total) done();
    });
    let timer: NodeJS.Timeout | undefined;
    if (total > 0) await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))))]);
    clearTimeout(timer);
    await subscription.close();
    return [...idsBySequence.values()];
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.cluster.stop();
  }
}
