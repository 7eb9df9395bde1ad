import { AckPolicy, connect, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import { NatsCluster } from "./nats-cluster.js";
import { natsPayload, natsPayloadId } from "./nats-payload.js";
import type { PublishOne, StreamName, Target } from "./target.js";

/** The client's settings: what a user tuning for failover would pick (the defaults wait 2 s to reconnect). */
const reconnectTimeWaitMs = 250;
const publishTimeoutMs = 1000;
/** A failover publish retries (same Nats-Msg-Id) at most this long, like Holdfast's requestTimeoutMs. */
const retryForMs = 20_000;
const retryDelayMs = 50;
const readyTimeoutMs = 30_000;

const streamOf = (stream: StreamName): string => stream.toUpperCase();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * NATS JetStream 2.9 as the peer: three nats-server processes, one R3 file-storage stream per
 * workload. Ack point: the stream leader has written the message and a quorum of replicas has
 * it; nats-server 2.9 fsyncs its files every 2 minutes (sync_interval), not per message.
 */
export class NatsTarget implements Target {
  readonly system = "nats" as const;

  private constructor(
    readonly cluster: NatsCluster,
    private readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async start(): Promise<NatsTarget> {
    const cluster = await NatsCluster.start();
    try {
      const deadline = Date.now() + readyTimeoutMs;
      let connection: NatsConnection | undefined;
      while (!connection) {
        try {
          connection = await connect({ servers: cluster.urls, reconnectTimeWait: reconnectTimeWaitMs, maxReconnectAttempts: -1, timeout: publishTimeoutMs });
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(100);
        }
      }
      // checkAPI off: JetStream answers only once its meta leader is elected; the loop below waits.
      const jsm = await connection.jetstreamManager({ timeout: 5000, checkAPI: false });
      for (const stream of ["warm", "bulk", "single", "failover"] as const) {
        while (true) {
          try {
            await jsm.streams.add({ name: streamOf(stream), subjects: [stream], num_replicas: 3, storage: StorageType.File });
            break;
          } catch (error) {
            // JetStream needs its meta leader first (a few seconds after a cold start).
            if (Date.now() > deadline) throw new Error(`stream ${streamOf(stream)} not created within ${readyTimeoutMs} ms: ${String(error)}\n${cluster.logLines.slice(-20).join("\n")}`);
            await sleep(250);
          }
        }
      }
      return new NatsTarget(cluster, connection, connection.jetstream({ timeout: publishTimeoutMs }), jsm);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /**
   * Plain publishes for the throughput and latency workloads (NATS's fastest path); the
   * failover workload adds a Nats-Msg-Id and retries, which is what exactly-once needs.
   */
  publisher(stream: StreamName, _window: number): PublishOne {
    if (stream !== "failover") {
      return async (id) => {
        await this.js.publish(stream, natsPayload(id));
        return "nats: quorum of replicas, no fsync";
      };
    }
    return async (id) => {
      const giveUpAt = Date.now() + retryForMs;
      while (true) {
        try {
          await this.js.publish(stream, natsPayload(id), { msgID: String(id), timeout: publishTimeoutMs });
          return "nats: quorum of replicas, no fsync";
        } catch (error) {
          if (Date.now() > giveUpAt) throw error;
          await sleep(retryDelayMs);
        }
      }
    };
  }

  async consume(stream: StreamName, count: number, timeoutMs: number): Promise<number> {
    const name = streamOf(stream);
    await this.jsm.consumers.add(name, { durable_name: "reader", ack_policy: AckPolicy.Explicit });
    const consumer = await this.js.consumers.get(name, "reader");
    const messages = await consumer.consume({ max_messages: 256 });
    const timer = setTimeout(() => void messages.stop(), timeoutMs);
    let consumed = 0;
    try {
      for await (const message of messages) {
        message.ack();
        consumed += 1;
        if (consumed >= count) break;
      }
    } finally {
      clearTimeout(timer);
      // close() waits for the pull in flight, which can stay open; stop() ends it here.
      messages.stop();
    }
    return consumed;
  }

  serverPids(): ReadonlyMap<string, number> {
    const pids = new Map<string, number>();
    for (const node of this.cluster.nodes) {
      const pid = this.cluster.pid(node.name);
      if (pid !== undefined) pids.set(node.name, pid);
    }
    return pids;
  }

  async leader(stream: StreamName): Promise<string> {
    const info = await this.jsm.streams.info(streamOf(stream));
    const leader = info.cluster?.leader;
    if (!leader) throw new Error(`stream ${streamOf(stream)} has no leader`);
    return leader;
  }

  kill(server: string): Promise<void> {
    return this.cluster.kill(server);
  }

  async restart(server: string): Promise<void> {
    this.cluster.startServer(server);
  }

  /** Every message of the stream through an ordered consumer, once its leader answers again. */
  async readBack(stream: StreamName, timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let total = -1;
    while (total < 0) {
      try {
        const info = await this.jsm.streams.info(streamOf(stream));
        if (info.cluster?.leader) total = info.state.messages;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (total < 0) await sleep(250);
    }
    const ids: number[] = [];
    if (total === 0) return ids;
    const consumer = await this.js.consumers.get(streamOf(stream));
    const messages = await consumer.consume({ max_messages: 512 });
    const timer = setTimeout(() => void messages.stop(), Math.max(1, deadline - Date.now()));
    try {
      for await (const message of messages) {
        ids.push(natsPayloadId(message.data));
        if (ids.length >= total) break;
      }
    } finally {
      clearTimeout(timer);
      // close() waits for the pull in flight, which can stay open; stop() ends it here.
      messages.stop();
    }
    return ids;
  }

  async stop(): Promise<void> {
    await this.connection.close().catch(() => undefined);
    await this.cluster.stop();
  }
}
