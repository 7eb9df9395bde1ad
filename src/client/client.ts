import { randomBytes } from "node:crypto";
import { decodeMessage, encodeMessage } from "../protocols/persistence/message-codec.js";
import { message as toMessage, type Message, type PlainValue } from "../protocols/persistence/message.js";
import { validateMessage } from "../protocols/persistence/message-validation.js";
import { failure, Router, type ConnectionEvent, type ConnectOptions } from "./connection.js";
import { HoldfastError } from "./errors.js";
import { MapDurable } from "./map.js";
import { Publisher, type PublisherOptions } from "./publisher.js";
import type { Push, SessionLink } from "./session-link.js";
import { Subscription, type DeliveryHandler, type SubscribeOptions } from "./subscription.js";

export interface BusMessage {
  readonly subject: string;
  readonly message: Message;
  readonly replyTo: string | null;
  /** Answer a request (publishes to `replyTo`). */
  reply(message: Message | Readonly<Record<string, PlainValue>>): void;
}

export type BusHandler = (message: BusMessage) => void;

type MessageInput = Message | Readonly<Record<string, PlainValue>>;

/**
 * A connection to a Holdfast realm: persistence (publishers, durable subscriptions, maps) at
 * each cluster's leader, found and followed across failovers; and the bus (subjects,
 * request/reply) on one server. Create it with `connect()`.
 */
export class Connection {
  private readonly router: Router;
  private readonly busHandlers = new Map<number, { subject: string; handler: BusHandler }>();
  private nextBusId = 1;
  private busLink: SessionLink | null = null;
  private readonly inboxPrefix: string;
  private inboxSubscriptionId = 0;
  private nextInbox = 1;
  private readonly pendingRequests = new Map<string, { resolve: (message: BusMessage) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  private constructor(options: ConnectOptions) {
    this.router = new Router(options);
    this.inboxPrefix = `_INBOX.${randomBytes(8).toString("hex")}`;
    this.router.onPush((link, push) => this.pushed(link, push));
  }

  static async open(options: ConnectOptions): Promise<Connection> {
    const connection = new Connection(options);
    await connection.router.home(Date.now() + connection.router.requestTimeoutMs);
    return connection;
  }

  /** Events: disconnect, reconnect, leader-change, error (failures nobody awaits). */
  on(listener: (event: ConnectionEvent) => void): void {
    this.router.on(listener);
  }

  publisher(endpoint: string, options?: PublisherOptions): Publisher {
    return new Publisher(this.router, endpoint, options);
  }

  /** Resolves once attached at the leader; rejects when the server refuses (with why). */
  async subscribe(endpoint: string, options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    const subscription = new Subscription(this.router, endpoint, options, handler);
    await subscription.start();
    return subscription;
  }

  map(endpoint: string, name: string): MapDurable {
    return new MapDurable(this.router, endpoint, name);
  }

  /** Status of the server this connection's home session is on (what `holdfast status` shows). */
  async status(): Promise<unknown> {
    const link = await this.router.home(Date.now() + this.router.requestTimeoutMs);
    const answer = await link.request({ type: "status" });
    if (answer.type !== "status") throw failure(answer, "status");
    return answer.status;
  }

  // --- the bus ---------------------------------------------------------------------------------

  /** Subscribe to a subject pattern (`*` one token, `>` the rest). */
  async busSubscribe(subject: string, handler: BusHandler): Promise<{ close(): void }> {
    const subscriptionId = this.nextBusId++;
    const link = await this.homeForBus();
    const answer = await link.request({ type: "bus-subscribe", subscriptionId, subject });
    if (answer.type !== "ok") throw failure(answer, "ok");
    this.busHandlers.set(subscriptionId, { subject, handler });
    return {
      close: () => {
        this.busHandlers.delete(subscriptionId);
        this.busLink?.post({ type: "bus-unsubscribe", subscriptionId });
      },
    };
  }

  /** At most once, to whoever is subscribed on that server now. */
  busPublish(subject: string, message: MessageInput, replyTo: string | null = null): void {
    const bytes = encoded(message);
    void this.homeForBus().then(
      (link) => link.post({ type: "bus-publish", subject, replyTo, message: bytes }),
      (error: unknown) => this.router.emit({ type: "error", error: error as HoldfastError }),
    );
  }

  /** Publish with a reply subject and wait for the first reply. */
  async request(subject: string, message: MessageInput, options: { timeoutMs?: number } = {}): Promise<BusMessage> {
    const timeoutMs = options.timeoutMs ?? 5000;
    await this.ensureInbox();
    const replyTo = `${this.inboxPrefix}.${this.nextInbox++}`;
    const reply = new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(replyTo);
        reject(new HoldfastError("timeout", `no reply on ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingRequests.set(replyTo, { resolve, reject, timer });
    });
    this.busPublish(subject, message, replyTo);
    return reply;
  }

  close(): void {
    for (const pending of this.pendingRequests.values()) {
      clearTimeout(pending.timer);
      pending.reject(new HoldfastError("closed", "the connection is closed"));
    }
    this.pendingRequests.clear();
    this.router.close();
  }

  private async ensureInbox(): Promise<void> {
    if (this.inboxSubscriptionId !== 0) return;
    const subscription = await this.busSubscribe(`${this.inboxPrefix}.>`, (message) => {
      const pending = this.pendingRequests.get(message.subject);
      if (!pending) return;
      this.pendingRequests.delete(message.subject);
      clearTimeout(pending.timer);
      pending.resolve(message);
    });
    void subscription;
    this.inboxSubscriptionId = this.nextBusId - 1;
  }

  /** The bus session; after a reconnect, bus subscriptions are made again there. */
  private async homeForBus(): Promise<SessionLink> {
    const link = await this.router.home(Date.now() + this.router.requestTimeoutMs);
    if (link === this.busLink) return link;
    this.busLink = link;
    link.onClose(() => {
      if (this.busLink === link) this.busLink = null;
      if (!this.router.closed && this.busHandlers.size > 0) void this.homeForBus().catch(() => undefined);
    });
    for (const [subscriptionId, { subject }] of this.busHandlers) void link.request({ type: "bus-subscribe", subscriptionId, subject }).catch(() => undefined);
    return link;
  }

  private pushed(link: SessionLink, push: Push): void {
    if (push.type === "error" && push.requestId === 0) {
      this.router.emit({ type: "error", error: new HoldfastError(push.code, push.message) });
      return;
    }
    if (push.type !== "bus-message" || link !== this.busLink) return;
    const subscription = this.busHandlers.get(push.subscriptionId);
    if (!subscription) return;
    const decodedMessage = decodeMessage(push.message);
    if (!decodedMessage.ok) return;
    subscription.handler({
      subject: push.subject,
      message: decodedMessage.message,
      replyTo: push.replyTo,
      reply: (answer) => {
        if (push.replyTo !== null) this.busPublish(push.replyTo, answer);
      },
    });
  }
}

function encoded(message: MessageInput): Uint8Array {
  const value = message instanceof Map ? message : toMessage(message as Readonly<Record<string, PlainValue>>);
  const checked = validateMessage(value);
  if (!checked.ok) throw new HoldfastError("invalid-message", checked.errors.map((error) => `${error.path}: expected ${error.expected}`).join("; "));
  return encodeMessage(checked.message);
}

/** Connect to a realm: resolves once one server accepted the credentials. */
export function connect(options: ConnectOptions): Promise<Connection> {
  return Connection.open(options);
}
