import { limits } from "../kernel/limits.js";
import type { MatcherSpec } from "../protocols/persistence/matcher.js";
import type { Message } from "../protocols/persistence/message.js";
import { decodeMessage } from "../protocols/persistence/message-codec.js";
import type { SessionResponse, SubscribeType } from "../wire/session-codec.js";
import { failure, type Router } from "./connection.js";
import { HoldfastError } from "./errors.js";
import type { Push, SessionLink } from "./session-link.js";

export interface SubscribeOptions {
  /** The durable to consume: a static one, or a dynamic one made from a template on first use. */
  readonly durable: string;
  /** Checked against the durable's type when given. */
  readonly type?: SubscribeType;
  /** For a new dynamic durable: the template (optional when the store has one, or one of `type`). */
  readonly template?: string;
  /** For a new dynamic durable: which messages it keeps (see matcher.ts). */
  readonly matcher?: MatcherSpec;
  /** `sync`: `ack()` resolves once the cluster recorded it. `async` (default): batched, resolves at once. */
  readonly ack?: "sync" | "async";
  /** Messages delivered but not yet acked (last-value: not yet handled) at any time. Default 256. */
  readonly prefetch?: number;
}

export interface Delivered {
  readonly message: Message;
  readonly storeSequence: number;
  /** 1 on the first delivery; more after an ack wait ran out or a failover. */
  readonly deliveryCount: number;
  /** Last-value durables: the key this value is for. */
  readonly key?: string;
  /** Standard and shared durables: the message is done; it will not be delivered again. */
  ack(): Promise<void>;
}

export type DeliveryHandler = (delivered: Delivered) => void | Promise<void>;

let nextSubscriptionId = 1;

type DeliverPush = Extract<SessionResponse, { type: "deliver" }>;

/**
 * A subscriber of one durable. It attaches at the cluster's leader and, when the leader
 * changes or the connection drops, attaches again at the new one: the durable (replicated)
 * remembers what was acked, so nothing acked comes back and nothing unacked is lost.
 * Handlers run one at a time, in delivery order.
 */
export class Subscription {
  readonly subscriptionId = nextSubscriptionId++;
  private link: SessionLink | null = null;
  private attaching: Promise<void> | null = null;
  private subscribingOn: SessionLink | null = null;
  private closed = false;
  private readonly queue: DeliverPush[] = [];
  private handling = false;
  private asyncAcks: number[] = [];
  private creditOwed = 0;
  private flushScheduled = false;
  private readonly ackMode: "sync" | "async";

  constructor(
    private readonly router: Router,
    readonly endpoint: string,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
  ) {
    this.ackMode = options.ack ?? "async";
    const prefetch = options.prefetch ?? 256;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1) throw new HoldfastError("malformed", `prefetch: expected an integer >= 1, got ${String(options.prefetch)}`);
    router.onPush((link, push) => this.pushed(link, push));
  }

  /** Attach for the first time; a refusal (unknown durable, busy, …) rejects. */
  async start(): Promise<void> {
    await this.attach(true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAcks();
    this.closed = true;
    const link = this.link;
    this.link = null;
    if (link && !link.isClosed) await link.request({ type: "unsubscribe", subscriptionId: this.subscriptionId }).catch(() => undefined);
  }

  private attach(first: boolean): Promise<void> {
    this.attaching ??= this.attachLoop(first).finally(() => {
      this.attaching = null;
    });
    return this.attaching;
  }

  private async attachLoop(first: boolean): Promise<void> {
    const prefetch = this.options.prefetch ?? 256;
    let delayMs: number = limits.reconnectDelayMinMs;
    while (!this.closed && !this.router.closed) {
      const deadlineMs = Date.now() + this.router.requestTimeoutMs;
      try {
        const link = await this.router.linkFor(this.endpoint, deadlineMs);
        // Deliveries may follow the "ok" in the same read, before the answer's continuation
        // runs: accept them from the link we are subscribing on.
        this.subscribingOn = link;
        const answer = await link.request({
          type: "subscribe",
          subscriptionId: this.subscriptionId,
          endpoint: this.endpoint,
          durable: this.options.durable,
          template: this.options.template ?? null,
          durableType: this.options.type ?? null,
          matcher: this.options.matcher ?? null,
          prefetch,
        });
        if (answer.type === "ok") {
          this.link = link;
          this.subscribingOn = null;
          link.onClose(() => this.lostLink(link));
          this.flushAcks();
          return;
        }
        if (answer.type === "redirect") {
          await sleep(this.router.redirected(this.endpoint, answer));
          continue;
        }
        const error = failure(answer, "ok");
        if (answer.type === "error" && (answer.code === "no-leader" || answer.code === "unknown-outcome" || answer.code === "overloaded")) {
          await sleep(limits.noLeaderRetryDelayMs);
          continue;
        }
        // durable-busy after a failover is the old subscription still draining: wait and retry.
        if (first || !(error.code === "durable-busy")) {
          if (first) throw error;
          this.router.emit({ type: "error", error });
        }
      } catch (error) {
        if (first && error instanceof HoldfastError && error.code !== "connection-lost" && error.code !== "timeout") throw error;
        if (error instanceof HoldfastError && (error.code === "unauthenticated" || error.code === "closed")) throw error;
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, limits.reconnectDelayMaxMs);
    }
  }

  private lostLink(link: SessionLink): void {
    if (this.link !== link && this.subscribingOn !== link) return;
    this.link = null;
    this.subscribingOn = null;
    if (!this.closed) void this.attach(false).catch((error: unknown) => this.router.emit({ type: "error", error: error as HoldfastError }));
  }

  private pushed(link: SessionLink, push: Push): void {
    if (push.type === "deliver" && push.subscriptionId === this.subscriptionId) {
      if (link !== (this.link ?? this.subscribingOn)) return;
      this.queue.push(push);
      void this.handleQueue(link);
    } else if (push.type === "subscription-lost" && push.subscriptionId === this.subscriptionId && link === this.link) {
      this.lostLink(link);
    }
  }

  private async handleQueue(link: SessionLink): Promise<void> {
    if (this.handling) return;
    this.handling = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const push = this.queue.shift() as DeliverPush;
        for (let at = 0; at < push.sequences.length; at++) {
          if (this.closed || link !== (this.link ?? this.subscribingOn)) break;
          const decoded = decodeMessage(push.messages[at] as Uint8Array);
          if (!decoded.ok) {
            this.router.emit({ type: "error", error: new HoldfastError("invalid-message", `delivered message ${push.sequences[at]} does not decode: ${decoded.error.detail}`) });
            continue;
          }
          const storeSequence = push.sequences[at] as number;
          const key = push.keys[at];
          const delivered: Delivered = {
            message: decoded.message,
            storeSequence,
            deliveryCount: push.deliveryCounts[at] ?? 1,
            ...(key === undefined ? {} : { key }),
            ack: () => this.ack(storeSequence),
          };
          try {
            await this.handler(delivered);
          } catch (error) {
            this.router.emit({ type: "error", error: new HoldfastError("malformed", `subscription handler threw: ${(error as Error).message}`) });
          }
          if (key !== undefined) this.creditOwed += 1;
        }
        this.scheduleFlush();
      }
    } finally {
      this.handling = false;
    }
  }

  private ack(storeSequence: number): Promise<void> {
    if (this.ackMode === "async") {
      this.asyncAcks.push(storeSequence);
      this.scheduleFlush();
      return Promise.resolve();
    }
    return this.ackSync([storeSequence]);
  }

  private async ackSync(sequences: number[]): Promise<void> {
    const deadlineMs = Date.now() + this.router.requestTimeoutMs;
    while (Date.now() < deadlineMs) {
      if (this.closed) throw new HoldfastError("closed", "the subscription is closed");
      if (this.link === null) await this.attach(false);
      const link = this.link;
      if (link === null) continue;
      try {
        const answer = await link.request({ type: "ack", subscriptionId: this.subscriptionId, sequences });
        if (answer.type === "ok") return;
        if (answer.type === "error" && (answer.code === "unknown-outcome" || answer.code === "overloaded" || answer.code === "unknown-durable")) {
          await sleep(limits.noLeaderRetryDelayMs);
          continue;
        }
        if (answer.type === "redirect") {
          this.lostLink(link);
          continue;
        }
        throw failure(answer, "ok");
      } catch (error) {
        if (!(error instanceof HoldfastError) || error.code !== "connection-lost") throw error;
        // A closed link rejects at once: drop it and wait a turn of timers, or this loop would
        // spin through promises alone and hold the whole process until the deadline.
        this.lostLink(link);
        await sleep(limits.noLeaderRetryDelayMs);
      }
    }
    throw new HoldfastError("timeout", `ack of ${sequences.join(", ")} not recorded within ${this.router.requestTimeoutMs} ms`);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAcks();
    });
  }

  /** Async acks and credits of one turn leave as one frame each. */
  private flushAcks(): void {
    const link = this.link;
    if (link === null || link.isClosed) return;
    if (this.asyncAcks.length > 0) {
      const sequences = this.asyncAcks;
      this.asyncAcks = [];
      link.post({ type: "ack", requestId: 0, subscriptionId: this.subscriptionId, sequences });
    }
    if (this.creditOwed > 0) {
      link.post({ type: "credit", subscriptionId: this.subscriptionId, count: this.creditOwed });
      this.creditOwed = 0;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
