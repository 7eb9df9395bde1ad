import { connect, HoldfastError, type Connection, type Delivered, type Subscription } from "../../src/index.js";
import type { Prng } from "../../src/kernel/prng.js";
import type { ChaosHistory } from "./chaos-history.js";
import { chaosDurables, chaosEndpoints } from "./chaos-realm.js";

export interface WorkloadBounds {
  /** Publishes per publisher, at most. */
  readonly publishesMax: number;
  /** Confirm-mode messages one publisher has in flight. */
  readonly windowMax: number;
  /** A publisher pauses `pauseMs` after every `burst` publishes (paces the load). */
  readonly burst: number;
  readonly pauseMs: number;
  /** A delivery is left unacked with this probability (it comes back after the ack wait). */
  readonly skipAckProbability: number;
  /** The client library gives up on one request (retries included) after this. */
  readonly requestTimeoutMs: number;
}

/** The outcome of a publish whose promise rejected: `fail` only when it surely did not happen. */
const unknownOutcomeCodes: ReadonlySet<string> = new Set(["timeout", "connection-lost", "closed", "unknown-outcome", "no-leader", "overloaded"]);

export interface WorkloadClient {
  readonly servers: readonly string[];
  readonly app: string;
  readonly user: string;
  readonly password: string;
}

/**
 * Confirm-mode publishers and durable subscribers, each on its own connection, recording every
 * operation in the history: `orders-1` and `orders-2` publish to `orders`, `audit-1` to
 * `audit`; one subscriber on each standard durable, two on the shared one.
 */
export class Workload {
  private readonly connections: Connection[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly publishing: Promise<void>[] = [];
  private stopping = false;
  /** While draining every delivery is acked. */
  private draining = false;
  /** Acks invoked and not yet answered. */
  private acksPending = 0;
  readonly events = { disconnects: 0, leaderChanges: 0, errors: 0 };

  constructor(
    private readonly client: WorkloadClient,
    private readonly history: ChaosHistory,
    private readonly random: Prng,
    private readonly bounds: WorkloadBounds,
  ) {}

  async start(): Promise<void> {
    for (const durable of chaosDurables) {
      const subscribers = durable.type === "shared" ? 2 : 1;
      for (let at = 1; at <= subscribers; at++) await this.subscribe(durable.store, durable.durable, durable.type, `sub-${durable.durable}-${at}`);
    }
    const publishers: [string, string][] = [
      ["orders-1", "orders"],
      ["orders-2", "orders"],
      ["audit-1", "audit"],
    ];
    for (const [name, store] of publishers) {
      const connection = await this.open(name);
      this.publishing.push(this.publishLoop(connection, name, store));
    }
  }

  /** Stop publishing and wait for every publish to end (ok, fail or info). */
  async stopPublishing(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.publishing);
  }

  /** Ack everything from now on, including what comes again. */
  drain(): void {
    this.draining = true;
  }

  get pendingAcks(): number {
    return this.acksPending;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.subscriptions.map((subscription) => subscription.close().catch(() => undefined)));
    for (const connection of this.connections) connection.close();
  }

  private async open(name: string): Promise<Connection> {
    const connection = await connect({ ...this.client, servers: [...this.client.servers], clientName: name, requestTimeoutMs: this.bounds.requestTimeoutMs });
    connection.on((event) => {
      if (event.type === "disconnect") this.events.disconnects += 1;
      if (event.type === "leader-change") this.events.leaderChanges += 1;
      if (event.type === "error") this.events.errors += 1;
    });
    this.connections.push(connection);
    return connection;
  }

  private async publishLoop(connection: Connection, name: string, store: string): Promise<void> {
    const endpoint = chaosEndpoints[store] as string;
    const publisher = connection.publisher(endpoint, { mode: "confirm", window: this.bounds.windowMax });
    const inFlight = new Set<Promise<void>>();
    for (let number = 1; number <= this.bounds.publishesMax && !this.stopping; number++) {
      const messageId = `${name}:${number}`;
      this.history.add({ f: "publish", type: "invoke", process: name, store, messageId, number });
      const done = publisher.publish({ subject: `${store.toUpperCase()}.new`, publisher: name, number: BigInt(number) }).then(
        (confirm) => this.history.add({ f: "publish", type: "ok", process: name, store, messageId, number, storeSequence: confirm.storeSequence, duplicate: confirm.duplicate }),
        (error: unknown) => {
          const code = error instanceof HoldfastError ? error.code : "exception";
          const type = unknownOutcomeCodes.has(code) ? "info" : "fail";
          this.history.add({ f: "publish", type, process: name, store, messageId, number, detail: error instanceof Error ? error.message : String(error) });
        },
      );
      inFlight.add(done);
      void done.then(() => inFlight.delete(done));
      if (inFlight.size >= this.bounds.windowMax) await Promise.race(inFlight);
      if (number % this.bounds.burst === 0) await new Promise((resolve) => setTimeout(resolve, this.bounds.pauseMs));
    }
    await Promise.all(inFlight);
  }

  private async subscribe(store: string, durable: string, type: "standard" | "shared", name: string): Promise<void> {
    const connection = await this.open(name);
    const endpoint = chaosEndpoints[store] as string;
    const subscription = await connection.subscribe(endpoint, { durable, type, ack: "sync", prefetch: 32 }, (delivered) => this.delivered(name, store, durable, delivered));
    this.subscriptions.push(subscription);
  }

  private delivered(name: string, store: string, durable: string, delivered: Delivered): void {
    const publisher = delivered.message.get("publisher");
    const number = delivered.message.get("number");
    const messageId = `${publisher?.type === "string" ? publisher.value : "?"}:${number?.type === "int" ? String(number.value) : "?"}`;
    const storeSequence = delivered.storeSequence;
    this.history.add({ f: "deliver", type: "ok", process: name, store, durable, messageId, storeSequence, deliveryCount: delivered.deliveryCount });
    if (!this.draining && this.random.chance(this.bounds.skipAckProbability)) return;
    this.history.add({ f: "ack", type: "invoke", process: name, store, durable, messageId, storeSequence });
    this.acksPending += 1;
    // Not awaited one by one: up to `prefetch` acks are in flight, like a real consumer.
    delivered.ack().then(
      () => this.history.add({ f: "ack", type: "ok", process: name, store, durable, messageId, storeSequence }),
      (error: unknown) => this.history.add({ f: "ack", type: "info", process: name, store, durable, messageId, storeSequence, detail: error instanceof Error ? error.message : String(error) }),
    ).finally(() => {
      this.acksPending -= 1;
    });
  }
}
