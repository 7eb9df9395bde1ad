import { randomBytes } from "node:crypto";
import { limits } from "../kernel/limits.js";
import { encodeMessage } from "../protocols/persistence/message-codec.js";
import { message as toMessage, type Message, type PlainValue } from "../protocols/persistence/message.js";
import { validateMessage } from "../protocols/persistence/message-validation.js";
import { failure, type Router } from "./connection.js";
import { HoldfastError } from "./errors.js";
import type { SessionLink } from "./session-link.js";

export interface PublisherOptions {
  /**
   * `confirm` (default): `publish` resolves once the store has the message at its ack point.
   * `no-confirm`: `publish` resolves as soon as the message is in the send window; failures
   * reach the connection's `error` event. Both retry across leader changes without duplicates.
   */
  readonly mode?: "confirm" | "no-confirm";
  /** Messages sent but not yet confirmed; `publish` waits for room (back-pressure). */
  readonly window?: number;
}

export interface Confirm {
  readonly storeSequence: number;
  /** True when this was a retry of a message the store already had (stored once). */
  readonly duplicate: boolean;
  /** What the confirm promises, e.g. `quorum-fsync`. */
  readonly ackPoint: string;
}

interface Item {
  readonly sequence: number;
  readonly bytes: Uint8Array;
  readonly resolve: (confirm: Confirm) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Publishes to one endpoint. Messages get consecutive sequences under one publisher id; the
 * store deduplicates on (publisher id, sequence), so after a leader change every unconfirmed
 * message is sent again, in order, and none is stored twice. Messages of one event-loop turn
 * travel in one request.
 */
export class Publisher {
  readonly publisherId: string;
  private nextSequence = 1;
  private readonly window: number;
  /** Not yet sent (or to be sent again), in sequence order. */
  private unsent: Item[] = [];
  /** Sent, waiting for the answer, by sequence. */
  private readonly inFlight = new Map<number, Item>();
  private requestsInFlight = 0;
  /**
   * The connection this publisher's requests go over, and how many were sent on it and not
   * yet answered: while any are, a request goes over the same connection or not at all
   * (requests on one connection reach the leader in order; over two, they may not).
   */
  private pipeline: SessionLink | null = null;
  private sentInFlight = 0;
  /** A request failed in a way that may reorder: finish what is in flight, then resend in order. */
  private recovering = false;
  private sendScheduled = false;
  private readonly roomWaiters: (() => void)[] = [];
  /** When requests started failing (null while they succeed), and the last reason. */
  private failingSinceMs: number | null = null;
  private lastProblem = "";

  constructor(
    private readonly router: Router,
    readonly endpoint: string,
    private readonly options: PublisherOptions = {},
  ) {
    this.publisherId = `${router.credentials.client}-${randomBytes(6).toString("hex")}`;
    this.window = options.window ?? 256;
    if (!Number.isSafeInteger(this.window) || this.window < 1) throw new HoldfastError("malformed", `publisher window: expected an integer >= 1, got ${String(options.window)}`);
  }

  /** Messages published but not yet confirmed. */
  get outstanding(): number {
    return this.unsent.length + this.inFlight.size;
  }

  async publish(message: Message | Readonly<Record<string, PlainValue>>): Promise<Confirm> {
    const value = message instanceof Map ? message : toMessage(message as Readonly<Record<string, PlainValue>>);
    const checked = validateMessage(value);
    if (!checked.ok) throw new HoldfastError("invalid-message", checked.errors.map((error) => `${error.path}: expected ${error.expected}`).join("; "));
    while (this.outstanding >= this.window) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    const bytes = encodeMessage(checked.message);
    const confirmed = new Promise<Confirm>((resolve, reject) => {
      this.unsent.push({ sequence: this.nextSequence++, bytes, resolve, reject });
    });
    this.scheduleSend();
    if (this.options.mode === "no-confirm") {
      confirmed.catch((error: unknown) => this.router.emit({ type: "error", error: error instanceof HoldfastError ? error : new HoldfastError("malformed", String(error)) }));
      return { storeSequence: 0, duplicate: false, ackPoint: "none (no-confirm)" };
    }
    return confirmed;
  }

  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    if (this.recovering || this.unsent.length === 0 || this.router.closed) return;
    const batch = this.unsent.splice(0, limits.publishItemsPerRequestMax);
    for (const item of batch) this.inFlight.set(item.sequence, item);
    if (this.unsent.length > 0) this.scheduleSend();
    this.requestsInFlight += 1;
    const deadlineMs = Date.now() + this.router.requestTimeoutMs;
    let problem: string | null = null;
    let sentOn: SessionLink | null = null;
    try {
      const link: SessionLink = await this.router.linkFor(this.endpoint, deadlineMs);
      if (this.recovering || (this.sentInFlight > 0 && link !== this.pipeline)) {
        // An earlier request failed while this one waited for a connection, or earlier ones
        // are in flight on another connection (the leader moved): this batch must not reach a
        // store before them, or one lost there and resent would land after it. Resend
        // everything in order instead.
        throw new HoldfastError("connection-lost", "an earlier request failed or is in flight on another connection");
      }
      this.pipeline = link;
      this.sentInFlight += 1;
      sentOn = link;
      const answer = await link.request({ type: "publish", endpoint: this.endpoint, publisherId: this.publisherId, sequences: batch.map((item) => item.sequence), messages: batch.map((item) => item.bytes) });
      if (answer.type === "published") {
        this.settle(batch, answer);
      } else if (answer.type === "redirect") {
        const delayMs = this.router.redirected(this.endpoint, answer);
        problem = `redirected (cluster ${answer.cluster})`;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      } else if (answer.type === "error" && (answer.code === "unknown-outcome" || answer.code === "overloaded" || answer.code === "no-leader")) {
        problem = answer.message;
        await new Promise((resolve) => setTimeout(resolve, limits.noLeaderRetryDelayMs));
      } else {
        // A final refusal for the whole request (unknown endpoint, forbidden, …).
        const error = failure(answer, "published");
        for (const item of batch) {
          this.inFlight.delete(item.sequence);
          item.reject(error);
        }
      }
    } catch (error) {
      if (error instanceof HoldfastError && (error.code === "unauthenticated" || error.code === "forbidden" || error.code === "closed")) {
        for (const item of batch) {
          this.inFlight.delete(item.sequence);
          item.reject(error);
        }
      } else {
        problem = (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, limits.noLeaderRetryDelayMs));
      }
    }
    this.requestsInFlight -= 1;
    if (sentOn !== null) this.sentInFlight -= 1;
    if (problem !== null) {
      this.recovering = true;
      this.lastProblem = problem;
      this.failingSinceMs ??= Date.now();
    } else if (!this.recovering) {
      this.failingSinceMs = null;
    }
    if (this.recovering && this.requestsInFlight === 0) this.requeue();
    this.wakeWaiters();
    if (!this.recovering) this.scheduleSend();
  }

  private settle(batch: readonly Item[], answer: { statuses: readonly string[]; storeSequences: readonly number[]; errors: readonly string[]; ackPoint: string }): void {
    batch.forEach((item, at) => {
      this.inFlight.delete(item.sequence);
      const status = answer.statuses[at];
      if (status === "rejected") {
        const text = answer.errors[at] ?? "rejected";
        const colon = text.indexOf(":");
        item.reject(new HoldfastError((colon > 0 ? text.slice(0, colon) : "limit") as HoldfastError["code"], colon > 0 ? text.slice(colon + 2) : text));
      } else {
        item.resolve({ storeSequence: answer.storeSequences[at] ?? 0, duplicate: status === "duplicate", ackPoint: answer.ackPoint });
      }
    });
  }

  /**
   * Put every unconfirmed message back in sequence order once no request is in flight, so a
   * retry never overtakes an earlier message: per-store order holds across leader changes.
   */
  private requeue(): void {
    const retry = [...this.inFlight.values(), ...this.unsent].sort((a, b) => a.sequence - b.sequence);
    this.inFlight.clear();
    this.unsent = retry;
    this.recovering = false;
    if (this.failingSinceMs !== null && Date.now() - this.failingSinceMs > this.router.requestTimeoutMs) {
      const error = new HoldfastError("timeout", `publishing on ${this.endpoint} failed for ${this.router.requestTimeoutMs} ms: ${this.lastProblem}`);
      for (const item of this.unsent.splice(0)) item.reject(error);
      this.failingSinceMs = null;
    }
  }

  private wakeWaiters(): void {
    while (this.roomWaiters.length > 0 && this.outstanding < this.window) this.roomWaiters.shift()?.();
  }
}
