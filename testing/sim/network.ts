import { assert } from "../../src/kernel/assert.js";
import type { Prng } from "../../src/kernel/prng.js";
import type { Message } from "../../src/protocols/consensus/messages.js";
import type { Transport } from "../../src/runtime/ports.js";
import type { EventOwner, Scheduler } from "./scheduler.js";

/** How the network misbehaves; every draw comes from the seed's Prng. */
export interface NetworkFaults {
  delayMinMs: number;
  delayMaxMs: number;
  /** Chance a message is lost. */
  lossProbability: number;
  /** Chance a message is delivered twice (the copy at its own random delay). */
  duplicateProbability: number;
  /** Chance a message is held much longer than usual (reordering well past its neighbours). */
  straggleProbability: number;
  straggleMaxMs: number;
}

export const calmNetwork: NetworkFaults = {
  delayMinMs: 1,
  delayMaxMs: 10,
  lossProbability: 0,
  duplicateProbability: 0,
  straggleProbability: 0,
  straggleMaxMs: 0,
};

interface Endpoint {
  readonly owner: EventOwner;
  handler: ((message: Message) => void) | null;
  closed: boolean;
}

/**
 * The simulated network between members: each member's Transport is an endpoint here. A link
 * from A to B can be cut alone (asymmetric) or with B to A (symmetric). Messages in flight are
 * delivered to whichever incarnation of the receiver is up when they arrive.
 */
export class Network {
  faults: NetworkFaults = { ...calmNetwork };
  private readonly endpoints = new Map<string, Endpoint>();
  /** Cut links, as "from>to". */
  private readonly cut = new Set<string>();
  private readonly sendObservers: Array<(message: Message) => void> = [];
  messagesSent = 0;
  messagesDelivered = 0;

  constructor(private readonly scheduler: Scheduler, private readonly random: Prng) {}

  /** Called for every message a member sends, before the network decides its fate. */
  observeSends(observer: (message: Message) => void): void {
    this.sendObservers.push(observer);
  }

  /** A new Transport for `owner` (one member incarnation); replaces the previous one. */
  connect(owner: EventOwner): Transport {
    const endpoint: Endpoint = { owner, handler: null, closed: false };
    this.endpoints.set(owner.member, endpoint);
    return {
      send: (message) => {
        assert(!endpoint.closed, `${owner.member} sends on a closed transport`);
        assert(message.from === owner.member, `${owner.member} sends as ${message.from}`);
        this.send(message);
      },
      onMessage: (handler) => {
        endpoint.handler = handler;
      },
      close: () => {
        endpoint.closed = true;
      },
    };
  }

  cutLink(from: string, to: string): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Split members into groups that hear only each other (a symmetric partition). */
  partition(groups: readonly (readonly string[])[]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const from of a) for (const to of b) this.cutLink(from, to);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  describeCuts(): string {
    return [...this.cut].sort().join(" ") || "none";
  }

  private send(message: Message): void {
    this.messagesSent++;
    for (let i = 0; i < this.sendObservers.length; i++) (this.sendObservers[i] as (message: Message) => void)(message);
    const random = this.random;
    const faults = this.faults;
    if (this.cut.size > 0 && this.cut.has(`${message.from}>${message.to}`)) return;
    if (faults.lossProbability > 0 && random.chance(faults.lossProbability)) return;
    this.deliverLater(message);
    if (faults.duplicateProbability > 0 && random.chance(faults.duplicateProbability)) this.deliverLater(message);
  }

  private deliverLater(message: Message): void {
    const faults = this.faults;
    let delayMs = this.random.int(faults.delayMinMs, faults.delayMaxMs);
    if (faults.straggleProbability > 0 && this.random.chance(faults.straggleProbability)) {
      delayMs += this.random.int(0, faults.straggleMaxMs);
    }
    // Owned by the world, not the receiver: a message outlives the incarnation it was sent to.
    // It leaves at the sender's local time (later than the world's while the sender is busy).
    this.scheduler.schedule(delayMs + this.scheduler.lagMs(message.from), null, () => this.deliver(message));
  }

  private deliver(message: Message): void {
    const endpoint = this.endpoints.get(message.to);
    if (endpoint === undefined || endpoint.closed || !endpoint.owner.alive || endpoint.handler === null) return;
    // A partition that formed while the message was in flight still stops it.
    if (this.cut.size > 0 && this.cut.has(`${message.from}>${message.to}`)) return;
    if (this.scheduler.isHeld(message.to)) {
      // The receiver's process is stopped or busy: the message waits in its socket buffer.
      this.scheduler.schedule(0, endpoint.owner, () => this.deliver(message));
      return;
    }
    this.messagesDelivered++;
    endpoint.handler(message);
  }
}
