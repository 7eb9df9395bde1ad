import type { Prng } from "../../../src/kernel/prng.js";
import type { Delivery } from "../../../src/protocols/persistence/delivery/delivery-engine.js";
import type { Command } from "../../../src/protocols/persistence/state-types.js";
import type { Scheduler } from "../scheduler.js";
import type { PersistenceHistory } from "./persistence-history.js";
import { mapMessage, publishedMessage } from "./persistence-messages.js";
import type { AttachReply, PersistenceServer, ProposeReply, SubscriberPort } from "./persistence-server.js";

/**
 * How clients reach members: a request runs at the member's current incarnation after a
 * delay (held while it is paused, lost if it crashes first, dropped if it is down); an answer
 * runs at the client after a delay. Clients are not behind the simulated partitions: they see
 * members crash, pause and lose leadership, not the network between members.
 */
export interface ClientLink {
  toServer(member: string, action: (server: PersistenceServer) => void): void;
  toClient(action: () => void): void;
}

export interface WorkloadOptions {
  readonly publishers: number;
  /** A client gives up on an answer after this long and tries another member. */
  readonly requestTimeoutMs: number;
  /** Items a publish command carries at most. */
  readonly itemsPerPublishMax: number;
  /** Unconfirmed items a publisher holds before it stops making new ones. */
  readonly unconfirmedMax: number;
  /** Keys of published messages (k0..), and of the map client's own keys (m0..). */
  readonly publishedKeys: number;
  readonly mapKeys: number;
  /** A publisher makes this many items every [makeIntervalMinMs, makeIntervalMaxMs]. */
  readonly itemsPerMake: number;
  readonly makeIntervalMinMs: number;
  readonly makeIntervalMaxMs: number;
  /** Subscribers of acked durables take this many unacked deliveries at most. */
  readonly ackedPrefetch: number;
  /** Bytes of filler in each published message (real messages are larger than the ids). */
  readonly messagePadBytes: number;
  /** Prompt acks of one delivery batch go in one request (else one request per message). */
  readonly ackTogether: boolean;
}

export const defaultWorkloadOptions: WorkloadOptions = {
  publishers: 2, requestTimeoutMs: 1000, itemsPerPublishMax: 4, unconfirmedMax: 16, publishedKeys: 5, mapKeys: 4,
  itemsPerMake: 1, makeIntervalMinMs: 10, makeIntervalMaxMs: 100, ackedPrefetch: 4, messagePadBytes: 0, ackTogether: false,
};

interface Shared {
  readonly options: WorkloadOptions;
  readonly members: readonly string[];
  readonly scheduler: Scheduler;
  readonly random: Prng;
  readonly history: PersistenceHistory;
  readonly link: ClientLink;
  readonly note: (text: string) => void;
  /** New operations are made (safety phase); false while healing: finish and ack everything. */
  running: boolean;
}

/**
 * The simulated clients: confirm-mode publishers, subscribers of the standard (one), shared
 * (two) and last-value (one) durables, and a map client. Each speaks to the member it believes
 * leads and moves on after a refusal (to the leader it names), an unknown outcome or silence.
 */
export class PersistenceWorkload {
  private readonly shared: Shared;
  private readonly publishers: Publisher[] = [];
  private readonly subscribers: Subscriber[] = [];
  private readonly mapClient: MapClient;

  constructor(options: WorkloadOptions, members: readonly string[], scheduler: Scheduler, random: Prng, history: PersistenceHistory, link: ClientLink, note: (text: string) => void) {
    this.shared = { options, members, scheduler, random, history, link, note, running: false };
    for (let i = 1; i <= options.publishers; i++) this.publishers.push(new Publisher(this.shared, `p${i}`));
    this.subscribers.push(new Subscriber(this.shared, "std-1", "std", "acked"));
    this.subscribers.push(new Subscriber(this.shared, "shared-1", "shared", "acked"));
    this.subscribers.push(new Subscriber(this.shared, "shared-2", "shared", "acked"));
    this.subscribers.push(new Subscriber(this.shared, "lv-1", "lv", "last-value"));
    this.mapClient = new MapClient(this.shared);
  }

  start(): void {
    this.shared.running = true;
    for (const publisher of this.publishers) publisher.start();
    for (const subscriber of this.subscribers) subscriber.start();
    this.mapClient.start();
  }

  /** Healing: no new operations; subscribers ack everything from now on. */
  finish(): void {
    this.shared.running = false;
  }

  /** Every publish and map operation answered. */
  idle(): boolean {
    return this.publishers.every((publisher) => publisher.idle) && this.mapClient.idle;
  }

  /** `member` went down: connections to it drop. */
  connectionLost(member: string): void {
    for (const subscriber of this.subscribers) this.shared.link.toClient(() => subscriber.connectionLost(member));
  }

  describe(): string {
    return [...this.publishers.map((publisher) => publisher.describe()), ...this.subscribers.map((subscriber) => subscriber.describe()), this.mapClient.describe()].join("; ");
  }
}

/** Something that waits for one answer at a time, with a timeout. */
abstract class Requester {
  believedLeader: string;
  protected request = 0;
  private requests = 0;

  constructor(protected readonly shared: Shared) {
    this.believedLeader = shared.random.pick(shared.members);
  }

  /** Send `command` to the believed leader; `answer` runs for this request only (not after a timeout). */
  protected send(command: Command, answer: (reply: ProposeReply) => void, timedOut: () => void): void {
    const { link, scheduler, options } = this.shared;
    const request = ++this.requests;
    this.request = request;
    link.toServer(this.believedLeader, (server) => server.propose(command, (reply) => link.toClient(() => {
      if (this.request !== request) return;
      this.request = 0;
      answer(reply);
    })));
    scheduler.schedule(options.requestTimeoutMs, null, () => {
      if (this.request !== request) return;
      this.request = 0;
      this.believedLeader = this.shared.random.pick(this.shared.members);
      timedOut();
    });
  }

  /** After a refusal: the named leader, or any member. */
  protected redirect(leaderId: string | null): void {
    this.believedLeader = leaderId ?? this.shared.random.pick(this.shared.members);
  }

  protected later(delayMs: number, action: () => void): void {
    this.shared.scheduler.schedule(delayMs, null, action);
  }
}

interface Item {
  readonly sequence: number;
  readonly message: Uint8Array;
}

/**
 * A confirm-mode publisher: items get sequences 1, 2, …; one publish in flight at a time,
 * carrying the oldest unconfirmed items, so a retry (after a refusal, an unknown outcome or a
 * timeout) resends them in order and the store's dedup window turns repeats into duplicates.
 */
class Publisher extends Requester {
  private nextSequence = 1;
  private readonly unconfirmed: Item[] = [];

  constructor(shared: Shared, readonly id: string) {
    super(shared);
  }

  get idle(): boolean {
    return this.unconfirmed.length === 0 && this.request === 0;
  }

  start(): void {
    this.later(this.shared.random.int(0, 50), () => this.make());
  }

  describe(): string {
    return `${this.id} at ${this.believedLeader}: ${this.unconfirmed.length} unconfirmed from ${this.unconfirmed[0]?.sequence ?? "-"}`;
  }

  private make(): void {
    const { random, history, scheduler, options } = this.shared;
    if (!this.shared.running) return;
    let made = 0;
    for (; made < options.itemsPerMake && this.unconfirmed.length < options.unconfirmedMax; made++) {
      const sequence = this.nextSequence++;
      const messageId = `${this.id}.${sequence}`;
      const key = `k${random.int(0, options.publishedKeys - 1)}`;
      history.add({ kind: "publish-invoke", timeMs: scheduler.now(), publisher: this.id, sequence, messageId, key });
      this.unconfirmed.push({ sequence, message: publishedMessage(messageId, key, options.messagePadBytes) });
    }
    if (made > 0) this.publish();
    this.later(random.int(options.makeIntervalMinMs, options.makeIntervalMaxMs), () => this.make());
  }

  private publish(): void {
    if (this.request !== 0 || this.unconfirmed.length === 0) return;
    const batch = this.unconfirmed.slice(0, this.shared.options.itemsPerPublishMax);
    const command: Command = { type: "publish", atMs: this.shared.scheduler.now(), store: "orders", publisherId: this.id, items: batch };
    this.send(command, (reply) => this.answered(batch, reply), () => this.publish());
  }

  private answered(batch: readonly Item[], reply: ProposeReply): void {
    const { history, scheduler, random } = this.shared;
    if (!reply.ok) {
      this.redirect(reply.leaderId);
      this.later(random.int(20, 100), () => this.publish());
      return;
    }
    const result = reply.result;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as Item;
      // One publish at a time over the oldest items: the batch is the head of the queue.
      if (this.unconfirmed[0] !== item) throw new Error(`publisher ${this.id}: answer for ${item.sequence} out of order`);
      this.unconfirmed.shift();
      const outcome = result.type === "publish" ? result.outcomes[i] : undefined;
      if (outcome !== undefined && outcome.status !== "rejected") {
        history.add({
          kind: "publish-ok", timeMs: scheduler.now(), publisher: this.id, sequence: item.sequence, storeSequence: outcome.storeSequence, index: reply.index, duplicate: outcome.status === "duplicate", ackPoint: reply.ackPoint,
        });
      } else {
        const reason = outcome?.status === "rejected" ? outcome.reason : result.type === "rejected" ? result.reason : `answered ${result.type}`;
        history.add({ kind: "publish-fail", timeMs: scheduler.now(), publisher: this.id, sequence: item.sequence, reason });
      }
    }
    this.publish();
  }
}

interface Attachment {
  readonly member: string;
  readonly subscriberId: string;
}

/**
 * A subscriber of one durable. Acked durables: it acks most deliveries at once, some slowly
 * (past the ack wait, sometimes) and some never (until healing), and now and then it
 * disconnects and subscribes again. Last-value: it credits each delivery back.
 */
class Subscriber {
  private believedLeader: string;
  private attachment: Attachment | null = null;
  private attaching: string | null = null;
  private attachingAt: string | null = null;
  private attachments = 0;

  constructor(private readonly shared: Shared, readonly name: string, readonly durable: string, readonly kind: "acked" | "last-value") {
    this.believedLeader = shared.random.pick(shared.members);
  }

  start(): void {
    this.later(this.shared.random.int(0, 200), () => this.connect());
    this.scheduleDisconnect();
  }

  describe(): string {
    return `${this.name} ${this.attachment === null ? (this.attaching === null ? "unattached" : `attaching ${this.attaching}`) : `${this.attachment.subscriberId} at ${this.attachment.member}`}`;
  }

  connectionLost(member: string): void {
    if (this.attachingAt === member) {
      // The connection the request went over is gone: whatever it answered is void.
      this.attaching = null;
      this.attachingAt = null;
      this.later(this.shared.random.int(20, 200), () => this.connect());
      return;
    }
    if (this.attachment?.member !== member) return;
    this.attachment = null;
    this.believedLeader = this.shared.random.pick(this.shared.members);
    this.later(this.shared.random.int(20, 200), () => this.connect());
  }

  private connect(): void {
    if (this.attachment !== null || this.attaching !== null) return;
    const { link, scheduler, options } = this.shared;
    const subscriberId = `${this.name}#${++this.attachments}`;
    const member = this.believedLeader;
    this.attaching = subscriberId;
    this.attachingAt = member;
    const port: SubscriberPort = {
      subscriberId,
      deliver: (deliveries) => link.toClient(() => this.received(subscriberId, deliveries)),
      lost: () => link.toClient(() => this.lost(subscriberId)),
    };
    link.toServer(member, (server) => {
      const reply = server.attach(port, this.durable, this.kind === "last-value" ? 8 : options.ackedPrefetch);
      link.toClient(() => this.attached(member, subscriberId, reply));
    });
    scheduler.schedule(options.requestTimeoutMs, null, () => {
      if (this.attaching !== subscriberId) return;
      this.attaching = null;
      this.attachingAt = null;
      this.believedLeader = this.shared.random.pick(this.shared.members);
      this.connect();
    });
  }

  private attached(member: string, subscriberId: string, reply: AttachReply): void {
    if (this.attaching !== subscriberId) {
      // Answered after the client gave up on it: leave that subscription.
      if (reply.ok) this.shared.link.toServer(member, (server) => server.detach(subscriberId));
      return;
    }
    this.attaching = null;
    this.attachingAt = null;
    if (reply.ok) {
      this.attachment = { member, subscriberId };
      return;
    }
    this.believedLeader = "leaderId" in reply && reply.leaderId !== null ? reply.leaderId : this.shared.random.pick(this.shared.members);
    this.later(this.shared.random.int(30, 200), () => this.connect());
  }

  private lost(subscriberId: string): void {
    if (this.attachment?.subscriberId !== subscriberId) return;
    this.attachment = null;
    this.believedLeader = this.shared.random.pick(this.shared.members);
    this.later(this.shared.random.int(20, 200), () => this.connect());
  }

  private received(subscriberId: string, deliveries: readonly Delivery[]): void {
    const attachment = this.attachment;
    if (attachment === null || attachment.subscriberId !== subscriberId) return;
    const { random, link } = this.shared;
    const together: number[] = [];
    for (const delivery of deliveries) {
      if (this.kind === "last-value") {
        this.later(random.int(1, 50), () => {
          if (this.attachment === attachment) link.toServer(attachment.member, (server) => server.credit(subscriberId, 1));
        });
        continue;
      }
      const draw = random.next();
      const healing = !this.shared.running;
      if (!healing && draw >= 0.9) continue; // never acked: the ack wait brings it back
      if (this.shared.options.ackTogether && (healing || draw < 0.75)) {
        together.push(delivery.storeSequence);
        continue;
      }
      const delayMs = healing || draw < 0.75 ? random.int(1, 20) : random.int(100, 800);
      this.ackLater(attachment, [delivery.storeSequence], delayMs);
    }
    // A client acking asynchronously sends the prompt acks of one batch in one request.
    if (together.length > 0) this.ackLater(attachment, together, random.int(1, 20));
  }

  private ackLater(attachment: Attachment, sequences: readonly number[], delayMs: number): void {
    this.later(delayMs, () => {
      if (this.attachment !== attachment) return;
      this.shared.link.toServer(attachment.member, (server) => server.proposeAck(this.durable, sequences, () => {}));
    });
  }

  /** Now and then (safety phase only) unsubscribe and subscribe again: the detach path. */
  private scheduleDisconnect(): void {
    const { random } = this.shared;
    this.later(random.int(500, 3000), () => {
      if (!this.shared.running) return;
      const attachment = this.attachment;
      if (attachment !== null && random.chance(0.4)) {
        this.attachment = null;
        this.shared.link.toServer(attachment.member, (server) => server.detach(attachment.subscriberId));
        this.later(random.int(20, 300), () => this.connect());
      }
      this.scheduleDisconnect();
    });
  }

  private later(delayMs: number, action: () => void): void {
    this.shared.scheduler.schedule(delayMs, null, action);
  }
}

interface MapOperation {
  readonly operation: number;
  readonly key: string;
  /** null: a remove. */
  readonly messageId: string | null;
}

/** Sets and removes keys m0.. of the map durable, one at a time, each retried until confirmed. */
class MapClient extends Requester {
  private operations = 0;
  private current: MapOperation | null = null;

  get idle(): boolean {
    return this.current === null;
  }

  start(): void {
    this.later(this.shared.random.int(0, 100), () => this.next());
  }

  describe(): string {
    return `map client at ${this.believedLeader}: ${this.current === null ? "idle" : `operation ${this.current.operation} on ${this.current.key}`}`;
  }

  private next(): void {
    const { random, history, scheduler, options } = this.shared;
    if (!this.shared.running || this.current !== null) return;
    const operation = ++this.operations;
    const key = `m${random.int(0, options.mapKeys - 1)}`;
    const messageId = random.chance(0.7) ? `set.${operation}` : null;
    this.current = { operation, key, messageId };
    history.add({ kind: "map-invoke", timeMs: scheduler.now(), operation, key, messageId });
    this.attempt();
  }

  private attempt(): void {
    const current = this.current;
    if (current === null) return;
    const atMs = this.shared.scheduler.now();
    const command: Command = current.messageId === null
      ? { type: "map-remove", atMs, store: "orders", durable: "map", key: current.key }
      : { type: "map-set", atMs, store: "orders", durable: "map", key: current.key, message: mapMessage(current.messageId) };
    this.send(command, (reply) => this.answered(current, reply), () => this.attempt());
  }

  private answered(current: MapOperation, reply: ProposeReply): void {
    const { random, history, scheduler, note } = this.shared;
    if (!reply.ok) {
      this.redirect(reply.leaderId);
      this.later(random.int(20, 100), () => this.attempt());
      return;
    }
    if (reply.result.type === "map-set" || reply.result.type === "map-remove") {
      history.add({ kind: "map-ok", timeMs: scheduler.now(), operation: current.operation, index: reply.index });
    } else {
      note(`map operation ${current.operation} answered ${JSON.stringify(reply.result)}`);
    }
    this.current = null;
    this.later(random.int(20, 150), () => this.next());
  }
}
