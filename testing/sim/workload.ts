import type { Prng } from "../../src/kernel/prng.js";
import type { Notification } from "../../src/protocols/consensus/effects.js";
import type { Replica } from "../../src/runtime/replica.js";
import type { History, Operation } from "./history.js";
import type { Scheduler } from "./scheduler.js";

export interface WorkloadOptions {
  readonly clients: number;
  /** A client gives up waiting after this long (the operation stays `info` unless answered). */
  readonly clientTimeoutMs: number;
  /** Pause between a client's operations. */
  readonly thinkMaxMs: number;
}

interface Client {
  readonly id: number;
  believedLeader: string;
  sequence: number;
  waitingFor: Operation | null;
}

/**
 * Clients proposing commands with unique payloads ("c<client>.<n>"), one at a time each, sent
 * to whichever member they believe leads and retried elsewhere on rejection or silence.
 */
export class Workload {
  private readonly clients: Client[] = [];
  private nextProposalId = 1;
  private running = false;
  /** Notifications per proposal, to check each gets exactly one answer. */
  private readonly answered = new Set<number>();
  onDuplicateAnswer: (operation: Operation, notification: Notification) => void = () => {};

  constructor(
    private readonly options: WorkloadOptions,
    private readonly members: readonly string[],
    private readonly scheduler: Scheduler,
    private readonly random: Prng,
    private readonly history: History,
    /** The member's running replica, or null when it is down or paused. */
    private readonly replicaOf: (member: string) => Replica | null,
  ) {
    for (let id = 0; id < options.clients; id++) {
      this.clients.push({ id, believedLeader: random.pick(members), sequence: 0, waitingFor: null });
    }
  }

  start(): void {
    this.running = true;
    for (const client of this.clients) this.later(client, this.random.int(0, this.options.thinkMaxMs));
  }

  stop(): void {
    this.running = false;
  }

  /** A notification from `member`'s replica. */
  notified(member: string, notification: Notification): void {
    if (notification.type === "role-changed") {
      if (notification.role === "leader") for (const client of this.clients) client.believedLeader = member;
      return;
    }
    if (notification.type !== "committed" && notification.type !== "proposal-rejected" && notification.type !== "proposal-unknown") return;
    const operation = this.history.get(notification.proposalId);
    if (operation === undefined) return;
    if (this.answered.has(notification.proposalId)) {
      this.onDuplicateAnswer(operation, notification);
      return;
    }
    this.answered.add(notification.proposalId);
    const nowMs = this.scheduler.now();
    const client = this.clients[operation.client] as Client;
    switch (notification.type) {
      case "committed":
        this.history.ok(operation, notification.index, notification.term, nowMs);
        break;
      case "proposal-rejected":
        this.history.fail(operation, `${notification.reason} at ${member}`, nowMs);
        client.believedLeader = notification.leaderId ?? this.random.pick(this.members);
        break;
      case "proposal-unknown":
        this.history.info(operation, `unknown at ${member}`, nowMs);
        if (notification.leaderId !== null) client.believedLeader = notification.leaderId;
        break;
    }
    if (client.waitingFor === operation) {
      client.waitingFor = null;
      // Back off after a refusal: with no leader yet, retrying at once only adds noise.
      const backoffMs = notification.type === "committed" ? 0 : this.random.int(20, 100);
      this.later(client, backoffMs + this.random.int(0, this.options.thinkMaxMs));
    }
  }

  /** `member` went down: what its clients were waiting for is now unknown. */
  memberDown(member: string): void {
    const nowMs = this.scheduler.now();
    for (const client of this.clients) {
      const operation = client.waitingFor;
      if (operation === null || operation.member !== member) continue;
      this.history.info(operation, `${member} went down`, nowMs);
      client.waitingFor = null;
      client.believedLeader = this.random.pick(this.members);
      this.later(client, this.random.int(0, this.options.thinkMaxMs));
    }
  }

  private later(client: Client, delayMs: number): void {
    this.scheduler.schedule(delayMs, null, () => this.invoke(client));
  }

  private invoke(client: Client): void {
    if (!this.running || client.waitingFor !== null) return;
    const member = client.believedLeader;
    const replica = this.replicaOf(member);
    if (replica === null) {
      client.believedLeader = this.random.pick(this.members);
      this.later(client, this.random.int(5, 50));
      return;
    }
    client.sequence++;
    const proposalId = this.nextProposalId++;
    const payload = `c${client.id}.${client.sequence}`;
    const operation = this.history.invoke(proposalId, client.id, payload, member, this.scheduler.now());
    client.waitingFor = operation;
    this.scheduler.schedule(this.options.clientTimeoutMs, null, () => {
      if (client.waitingFor !== operation) return;
      this.history.info(operation, "timed out", this.scheduler.now());
      client.waitingFor = null;
      client.believedLeader = this.random.pick(this.members);
      this.later(client, 0);
    });
    replica.propose([{ proposalId, data: new TextEncoder().encode(payload) }]);
  }
}
