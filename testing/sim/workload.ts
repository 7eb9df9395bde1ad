import type { Prng } from "../../src/kernel/prng.js";
import type { Notification } from "../../src/protocols/consensus/effects.js";
import type { Replica } from "../../src/runtime/replica.js";
import type { History, Operation, ReadOperation } from "./history.js";
import type { Scheduler } from "./scheduler.js";

export interface WorkloadOptions {
  readonly clients: number;
  /** A client gives up waiting after this long (the operation stays `info` unless answered). */
  readonly clientTimeoutMs: number;
  /** Pause between a client's operations. */
  readonly thinkMaxMs: number;
  /** The share of operations that are linearizable reads rather than writes (0..1). */
  readonly readFraction: number;
  /**
   * The chance that a client hears of a new leader when it is elected. The others keep asking
   * the member they last knew until it refuses them, as real clients do, so a deposed leader
   * still gets requests (which its lease must turn away).
   */
  readonly hearNewLeaderProbability: number;
}

interface Client {
  readonly id: number;
  believedLeader: string;
  sequence: number;
  waitingFor: Operation | ReadOperation | null;
}

/**
 * Clients proposing commands with unique payloads ("c<client>.<n>") or asking linearizable
 * reads, one operation at a time each, sent to whichever member they believe leads and retried
 * elsewhere on rejection or silence. Probe reads (no client) go to a member the moment it
 * resumes from a pause, before it hears anything that happened meanwhile: the case a lease is for.
 */
export class Workload {
  private readonly clients: Client[] = [];
  private nextProposalId = 1;
  private nextReadId = 1;
  private running = false;
  /** Notifications per proposal, to check each gets exactly one answer. */
  private readonly answered = new Set<number>();
  private readonly answeredReads = new Set<number>();
  /** The term each member leads, as its role notifications say (absent: not leading). */
  private readonly leading = new Map<string, number>();
  /** Probe reads not answered yet. */
  private readonly probes = new Set<ReadOperation>();
  onDuplicateAnswer: (description: string) => void = () => {};

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
      if (notification.role !== "leader") {
        this.leading.delete(member);
        return;
      }
      this.leading.set(member, notification.term);
      for (const client of this.clients) {
        if (this.random.chance(this.options.hearNewLeaderProbability)) client.believedLeader = member;
      }
      return;
    }
    if (notification.type === "read-ready" || notification.type === "read-rejected") {
      this.readAnswered(member, notification);
      return;
    }
    if (notification.type !== "committed" && notification.type !== "proposal-rejected" && notification.type !== "proposal-unknown") return;
    const operation = this.history.get(notification.proposalId);
    if (operation === undefined) return;
    if (this.answered.has(notification.proposalId)) {
      this.onDuplicateAnswer(`${operation.payload} answered again: ${notification.type}`);
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
    this.done(client, operation, notification.type === "committed");
  }

  private readAnswered(member: string, notification: Notification & { type: "read-ready" | "read-rejected" }): void {
    const read = this.history.getRead(notification.readId);
    if (read === undefined) return;
    if (this.answeredReads.has(notification.readId)) {
      this.onDuplicateAnswer(`read r${read.readId} answered again: ${notification.type}`);
      return;
    }
    this.answeredReads.add(notification.readId);
    const nowMs = this.scheduler.now();
    if (notification.type === "read-ready") {
      this.history.readOk(read, notification.index, this.leading.get(member) ?? null, nowMs);
    } else {
      this.history.readFail(read, `${notification.reason} at ${member}`, nowMs);
    }
    if (read.client === null) {
      this.probes.delete(read);
      return;
    }
    const client = this.clients[read.client] as Client;
    if (notification.type === "read-rejected") client.believedLeader = notification.leaderId ?? this.random.pick(this.members);
    this.done(client, read, notification.type === "read-ready");
  }

  /** `operation` completed: the client thinks, then goes on (backing off after a refusal). */
  private done(client: Client, operation: Operation | ReadOperation, succeeded: boolean): void {
    if (client.waitingFor !== operation) return;
    client.waitingFor = null;
    // Back off after a refusal: with no leader yet, retrying at once only adds noise.
    const backoffMs = succeeded ? 0 : this.random.int(20, 100);
    this.later(client, backoffMs + this.random.int(0, this.options.thinkMaxMs));
  }

  /**
   * Ask `member` for a read at once, as it resumes from a pause: a request that waited in its
   * queue while it was frozen. A deposed leader must refuse it (its lease ran out meanwhile).
   */
  probeRead(member: string): void {
    const replica = this.replicaOf(member);
    if (!this.running || replica === null) return;
    const readId = this.nextReadId++;
    this.probes.add(this.history.invokeRead(readId, null, member, this.scheduler.now()));
    replica.read(readId);
  }

  /** `member` went down: what its clients were waiting for is now unknown. */
  memberDown(member: string): void {
    const nowMs = this.scheduler.now();
    this.leading.delete(member);
    for (const probe of this.probes) {
      if (probe.member !== member) continue;
      this.history.readInfo(probe, `${member} went down`, nowMs);
      this.probes.delete(probe);
    }
    for (const client of this.clients) {
      const operation = client.waitingFor;
      if (operation === null || operation.member !== member) continue;
      this.unknown(operation, `${member} went down`, nowMs);
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
    if (this.random.chance(this.options.readFraction)) {
      this.invokeRead(client, member, replica);
      return;
    }
    client.sequence++;
    const proposalId = this.nextProposalId++;
    const payload = `c${client.id}.${client.sequence}`;
    const operation = this.history.invoke(proposalId, client.id, payload, member, this.scheduler.now());
    this.waitFor(client, operation);
    replica.propose([{ proposalId, data: new TextEncoder().encode(payload) }]);
  }

  private invokeRead(client: Client, member: string, replica: Replica): void {
    const readId = this.nextReadId++;
    const read = this.history.invokeRead(readId, client.id, member, this.scheduler.now());
    this.waitFor(client, read);
    replica.read(readId);
  }

  /** The client waits for `operation`, up to its timeout. */
  private waitFor(client: Client, operation: Operation | ReadOperation): void {
    client.waitingFor = operation;
    this.scheduler.schedule(this.options.clientTimeoutMs, null, () => {
      if (client.waitingFor !== operation) return;
      this.unknown(operation, "timed out", this.scheduler.now());
      client.waitingFor = null;
      client.believedLeader = this.random.pick(this.members);
      this.later(client, 0);
    });
  }

  private unknown(operation: Operation | ReadOperation, detail: string, nowMs: number): void {
    if ("readId" in operation) this.history.readInfo(operation, detail, nowMs);
    else this.history.info(operation, detail, nowMs);
  }
}
