import { connect, HoldfastError, type Connection, type Delivered, type Subscription } from "../../src/index.js";
import type { Prng } from "../../src/kernel/prng.js";
import type { DurableDescription } from "./chaos-checker.js";
import type { ChaosHistory } from "./chaos-history.js";

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
  /** Messages delivered and not yet acked, per subscriber. */
  readonly prefetch: number;
  /** Until draining, subscribers ack at most `consumeBurst` messages every `consumePauseMs` (0: no pacing): a durable that falls behind. */
  readonly consumeBurst: number;
  readonly consumePauseMs: number;
  /** Bytes of padding in each message (a message is about 55 bytes encoded without it). */
  readonly padBytes: number;
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

/** Who publishes where and who consumes which durable (chaos-realm.ts, backlog-realm.ts). */
export interface WorkloadPlan {
  readonly publishers: readonly { readonly name: string; readonly store: string }[];
  /** Each durable with its number of subscribers (more than one only for a shared durable). */
  readonly subscribers: readonly { readonly durable: DurableDescription; readonly count: number }[];
  /** The endpoint of each store. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Fields every message carries besides `subject` (`<STORE>.new` unless given here), `publisher` and `number`. */
  readonly messageFields: Readonly<Record<string, string>>;
}

/**
 * Confirm-mode publishers and durable subscribers of a plan, each on its own connection,
 * recording every operation in the history. Messages are numbered per publisher, 1, 2, 3, ...
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
  private confirmedCount = 0;
  /** Acks a slow subscriber holds back (`pace`), and the timer that releases them. */
  private readonly heldAcks: (() => void)[] = [];
  private pacer: ReturnType<typeof setInterval> | null = null;
  readonly events = { disconnects: 0, leaderChanges: 0, errors: 0 };

  constructor(
    private readonly client: WorkloadClient,
    private readonly plan: WorkloadPlan,
    private readonly history: ChaosHistory,
    private readonly random: Prng,
    private readonly bounds: WorkloadBounds,
  ) {}

  async start(): Promise<void> {
    for (const { durable, count } of this.plan.subscribers) {
      for (let at = 1; at <= count; at++) await this.subscribe(durable.store, durable.durable, durable.type, `sub-${durable.durable}-${at}`);
    }
    for (const { name, store } of this.plan.publishers) {
      const connection = await this.open(name);
      this.publishing.push(this.publishLoop(connection, name, store));
    }
  }

  /** Publishes confirmed so far, all publishers together. */
  get confirmed(): number {
    return this.confirmedCount;
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

  /** Acks invoked and not answered, or held back by the pace. */
  get pendingAcks(): number {
    return this.acksPending + this.heldAcks.length;
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.pacer !== null) clearInterval(this.pacer);
    this.pacer = null;
    this.heldAcks.length = 0;
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
    const endpoint = this.endpoint(store);
    const publisher = connection.publisher(endpoint, { mode: "confirm", window: this.bounds.windowMax });
    const pad: Record<string, Uint8Array> = this.bounds.padBytes > 0 ? { pad: new Uint8Array(this.bounds.padBytes).fill(1) } : {};
    const inFlight = new Set<Promise<void>>();
    for (let number = 1; number <= this.bounds.publishesMax && !this.stopping; number++) {
      const messageId = `${name}:${number}`;
      this.history.add({ f: "publish", type: "invoke", process: name, store, messageId, number });
      const done = publisher.publish({ subject: `${store.toUpperCase()}.new`, ...this.plan.messageFields, publisher: name, number: BigInt(number), ...pad }).then(
        (confirm) => {
          this.confirmedCount += 1;
          this.history.add({ f: "publish", type: "ok", process: name, store, messageId, number, storeSequence: confirm.storeSequence, duplicate: confirm.duplicate });
        },
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
    const options = { durable, type, ack: "sync" as const, prefetch: this.bounds.prefetch };
    const subscription = await connection.subscribe(this.endpoint(store), options, (delivered) => this.delivered(name, store, durable, delivered));
    this.subscriptions.push(subscription);
  }

  private endpoint(store: string): string {
    const endpoint = this.plan.endpoints[store];
    if (endpoint === undefined) throw new Error(`the workload plan names no endpoint for store ${store}`);
    return endpoint;
  }

  /**
   * Records the delivery and acks it (or not). The handler returns at once, so the history
   * keeps the order in which the connection's deliveries and ack answers arrived (the checker's
   * acked-redelivered relies on it); a slow subscriber holds its acks back instead (`pace`),
   * which the server's prefetch bound turns into slow consumption.
   */
  private delivered(name: string, store: string, durable: string, delivered: Delivered): void {
    const publisher = delivered.message.get("publisher");
    const number = delivered.message.get("number");
    const messageId = `${publisher?.type === "string" ? publisher.value : "?"}:${number?.type === "int" ? String(number.value) : "?"}`;
    const storeSequence = delivered.storeSequence;
    this.history.add({ f: "deliver", type: "ok", process: name, store, durable, messageId, storeSequence, deliveryCount: delivered.deliveryCount });
    if (!this.draining && this.random.chance(this.bounds.skipAckProbability)) return;
    const ack = (): void => {
      this.history.add({ f: "ack", type: "invoke", process: name, store, durable, messageId, storeSequence });
      this.acksPending += 1;
      // Not awaited one by one: up to `prefetch` acks are in flight, like a real consumer.
      delivered.ack().then(
        () => this.history.add({ f: "ack", type: "ok", process: name, store, durable, messageId, storeSequence }),
        (error: unknown) => this.history.add({ f: "ack", type: "info", process: name, store, durable, messageId, storeSequence, detail: error instanceof Error ? error.message : String(error) }),
      ).finally(() => {
        this.acksPending -= 1;
      });
    };
    if (this.bounds.consumeBurst > 0) this.pace(ack);
    else ack();
  }

  /** Holds an ack back: `consumeBurst` of them go every `consumePauseMs`, every one at once while draining. */
  private pace(ack: () => void): void {
    this.heldAcks.push(ack);
    this.pacer ??= setInterval(() => {
      const released = this.heldAcks.splice(0, this.draining ? this.heldAcks.length : this.bounds.consumeBurst);
      for (const send of released) send();
      if (this.heldAcks.length === 0 && this.pacer !== null) {
        clearInterval(this.pacer);
        this.pacer = null;
      }
    }, this.bounds.consumePauseMs);
  }
}
