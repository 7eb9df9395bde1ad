import { createHash } from "node:crypto";
import { assert } from "../../../src/kernel/assert.js";
import { Prng } from "../../../src/kernel/prng.js";
import type { DeployAnswer, RealmEffect, ServerTestAnswer } from "../../../src/protocols/realm/effects.js";
import type { FamilyMember } from "../../../src/protocols/realm/family.js";
import type { RealmInput } from "../../../src/protocols/realm/inputs.js";
import type { RealmMessage, Revision } from "../../../src/protocols/realm/messages.js";
import { realmServiceOptions, type RealmServiceOptions } from "../../../src/protocols/realm/options.js";
import { RealmServiceNode } from "../../../src/protocols/realm/realm-service-node.js";
import { Scheduler, type EventOwner } from "../scheduler.js";

export interface RealmWorldOptions {
  readonly seed: number;
  readonly family: readonly FamilyMember[];
  /** One-way delay of each message, connect and close, drawn per event. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  /** How often the driver ticks each realm service (production: 100 ms or less). */
  readonly tickIntervalMs: number;
  readonly protocol?: Partial<RealmServiceOptions>;
}

export const realmWorldDefaults = { delayMinMs: 1, delayMaxMs: 5, tickIntervalMs: 50 } as const;

/** One server as the world sees it: its realm service (null while crashed) and its disk. */
export interface WorldServer {
  readonly name: string;
  node: RealmServiceNode | null;
  owner: EventOwner;
  /** Every revision it stored, in order; durable at once (the sim has no disk faults here). */
  readonly stored: Revision[];
  active: Revision | null;
  readonly handBacks: Array<{ readonly atMs: number; readonly to: string }>;
  readonly answers: Map<number, DeployAnswer>;
  /** Deploy tests' answers by request id (`test-answer`). */
  readonly testAnswers: Map<number, readonly ServerTestAnswer[]>;
}

/** What checkers may watch: every effect as it is carried out. */
export type WorldObserver = (server: WorldServer, effect: RealmEffect, nowMs: number) => void;

/** One TCP connection between two servers: FIFO each way; a close is delivered after the data. */
interface Connection {
  readonly id: number;
  readonly dialer: string;
  readonly acceptor: string;
  /** Per sender: when its last message (or close) is delivered, to keep FIFO order. */
  readonly lastDeliveryMs: Map<string, number>;
  /** Senders that closed their end (or died): nothing more from or to them on it. */
  readonly closedBy: Set<string>;
}

/**
 * A family of realm services of the real protocol code on one virtual clock, with a network
 * that delays, partitions pairs, and loses connections on crashes. Deterministic per seed.
 */
export class RealmWorld {
  readonly scheduler = new Scheduler();
  readonly servers = new Map<string, WorldServer>();
  readonly random: Prng;
  readonly trace: string[] = [];
  private readonly connections = new Map<string, Connection>();
  private readonly cuts = new Set<string>();
  private readonly observers: WorldObserver[] = [];
  private connectionIds = 0;
  private requestIds = 0;
  private readonly traceKeep = 80;

  constructor(readonly options: RealmWorldOptions, private readonly echo: ((line: string) => void) | null = null) {
    this.random = new Prng(options.seed);
    for (const member of options.family) {
      const server: WorldServer = { name: member.name, node: null, owner: { member: member.name, alive: false }, stored: [], active: null, handBacks: [], answers: new Map(), testAnswers: new Map() };
      this.servers.set(member.name, server);
      this.start(server);
    }
  }

  get nowMs(): number {
    return this.scheduler.now();
  }

  observe(observer: WorldObserver): void {
    this.observers.push(observer);
  }

  server(name: string): WorldServer {
    const server = this.servers.get(name);
    assert(server !== undefined, `no server ${name}`);
    return server;
  }

  node(name: string): RealmServiceNode {
    const node = this.server(name).node;
    assert(node !== null, `${name} is down`);
    return node;
  }

  runFor(durationMs: number): void {
    this.scheduler.runUntil(this.nowMs + durationMs);
  }

  /** Deploys `text` on `name` and returns its answer (the protocol answers within the step). */
  deploy(name: string, text: string): DeployAnswer {
    const requestId = ++this.requestIds;
    const server = this.server(name);
    this.step(server, { type: "deploy", requestId, text, hash: contentHash(text) });
    const answer = server.answers.get(requestId);
    assert(answer !== undefined, `${name} did not answer deploy ${requestId}`);
    return answer;
  }

  /** Starts a deploy's test of `revision` on `name`; its answer lands in `testAnswers`. */
  test(name: string, revision: Revision): number {
    const requestId = ++this.requestIds;
    this.step(this.server(name), { type: "test", requestId, revision });
    return requestId;
  }

  /** A crash: `reset` peers see the connection close; `silent` (power loss) they must time out. */
  crash(name: string, how: "reset" | "silent"): void {
    const server = this.server(name);
    if (server.node === null) return;
    this.note(name, `crash (${how})`);
    server.node = null;
    server.owner.alive = false;
    for (const [key, connection] of this.connections) {
      if (connection.dialer !== name && connection.acceptor !== name) continue;
      connection.closedBy.add(name);
      const other = connection.dialer === name ? connection.acceptor : connection.dialer;
      if (how === "reset" && !this.cuts.has(key)) this.deliverClose(connection, name, other);
    }
  }

  /** The server's disk is lost with it: it restarts with no revision (crash it first). */
  wipe(name: string): void {
    const server = this.server(name);
    assert(server.node === null, `wipe ${name} while it runs`);
    this.note(name, "disk wiped");
    server.stored.length = 0;
  }

  restart(name: string): void {
    const server = this.server(name);
    if (server.node !== null) return;
    this.note(name, `restart with revision ${server.stored.at(-1)?.number ?? "none"}`);
    this.start(server);
  }

  /**
   * Cuts the pair both ways: connects fail, and a connection between them is lost silently (no
   * close reaches either side; each learns by its timeout). A connection never loses messages
   * and carries on: TCP delivers everything in order or breaks, and the protocol relies on it.
   */
  cut(a: string, b: string): void {
    this.note("world", `cut ${a} ${b}`);
    const key = pairKey(a, b);
    this.cuts.add(key);
    const connection = this.connections.get(key);
    if (connection !== undefined) {
      connection.closedBy.add(a);
      connection.closedBy.add(b);
    }
  }

  healAll(): void {
    if (this.cuts.size > 0) this.note("world", "heal");
    this.cuts.clear();
  }

  isCut(a: string, b: string): boolean {
    return this.cuts.has(pairKey(a, b));
  }

  private start(server: WorldServer): void {
    server.owner = { member: server.name, alive: true };
    const protocol = realmServiceOptions({ self: server.name, family: this.options.family }, this.options.protocol);
    server.node = new RealmServiceNode(protocol, server.stored.at(-1) ?? null, this.nowMs);
    server.active = server.stored.at(-1) ?? null;
    this.carryOut(server, server.node.takeEffects());
    // Ticks start at a random phase so servers do not act in lockstep.
    this.scheduleTick(server, server.owner, this.random.int(0, this.options.tickIntervalMs - 1));
  }

  private scheduleTick(server: WorldServer, owner: EventOwner, delayMs: number): void {
    this.scheduler.schedule(delayMs, owner, () => {
      this.step(server, { type: "tick" });
      this.scheduleTick(server, owner, this.options.tickIntervalMs);
    });
  }

  private step(server: WorldServer, input: RealmInput): void {
    const node = server.node;
    if (node === null) return;
    node.step(this.nowMs, input);
    this.carryOut(server, node.takeEffects());
  }

  /** In list order, as effects.ts requires; a store is durable at once here. */
  private carryOut(server: WorldServer, effects: readonly RealmEffect[]): void {
    for (const effect of effects) {
      for (const observer of this.observers) observer(server, effect, this.nowMs);
      switch (effect.type) {
        case "dial":
          this.dial(server, effect.peer);
          break;
        case "close":
          this.close(server.name, effect.peer);
          break;
        case "send":
          this.send(server.name, effect.to, effect.message);
          break;
        case "store-revision":
          server.stored.push(effect.revision);
          break;
        case "activate":
          server.active = effect.revision;
          break;
        case "deploy-answer":
          server.answers.set(effect.requestId, effect.answer);
          break;
        case "test-clients":
          this.testClients(server, effect.from, effect.requestId);
          break;
        case "test-answer":
          server.testAnswers.set(effect.requestId, effect.servers);
          break;
        case "hand-back-clients":
          server.handBacks.push({ atMs: this.nowMs, to: effect.to });
          break;
        case "log":
          this.note(server.name, `${effect.level}: ${effect.text}`);
          break;
      }
    }
  }

  /** The driver asks its clients (the sim has none) and answers after a network-like delay. */
  private testClients(server: WorldServer, from: string, requestId: number): void {
    this.scheduler.schedule(this.delay(), server.owner, () => this.step(server, { type: "clients-tested", to: from, requestId, clients: [] }));
  }

  private delay(): number {
    return this.random.int(this.options.delayMinMs, this.options.delayMaxMs);
  }

  private dial(server: WorldServer, peer: string): void {
    const owner = server.owner;
    this.scheduler.schedule(this.delay(), owner, () => {
      const target = this.server(peer);
      if (target.node === null || this.isCut(server.name, peer)) {
        this.step(server, { type: "disconnected", peer });
        return;
      }
      const connection: Connection = { id: ++this.connectionIds, dialer: server.name, acceptor: peer, lastDeliveryMs: new Map(), closedBy: new Set() };
      this.connections.set(pairKey(server.name, peer), connection);
      this.step(target, { type: "connected", peer: server.name, inbound: true });
      this.step(server, { type: "connected", peer, inbound: false });
    });
  }

  private send(from: string, to: string, message: RealmMessage): void {
    const key = pairKey(from, to);
    const connection = this.connections.get(key);
    if (connection === undefined || connection.closedBy.has(from) || this.cuts.has(key)) return;
    const atMs = this.nextDelivery(connection, from);
    this.scheduler.schedule(atMs - this.nowMs, null, () => {
      if (this.connections.get(key)?.id !== connection.id || connection.closedBy.has(to)) return;
      this.step(this.server(to), { type: "message", from, message });
    });
  }

  private close(from: string, peer: string): void {
    const key = pairKey(from, peer);
    const connection = this.connections.get(key);
    if (connection === undefined || connection.closedBy.has(from)) return;
    connection.closedBy.add(from);
    if (!this.cuts.has(key)) this.deliverClose(connection, from, peer);
  }

  /** The close reaches `to` after everything `from` sent before it. */
  private deliverClose(connection: Connection, from: string, to: string): void {
    const key = pairKey(from, to);
    const atMs = this.nextDelivery(connection, from);
    this.scheduler.schedule(atMs - this.nowMs, null, () => {
      if (this.connections.get(key)?.id !== connection.id) return;
      this.connections.delete(key);
      this.step(this.server(to), { type: "disconnected", peer: from });
    });
  }

  private nextDelivery(connection: Connection, from: string): number {
    const atMs = Math.max(this.nowMs + this.delay(), connection.lastDeliveryMs.get(from) ?? 0);
    connection.lastDeliveryMs.set(from, atMs);
    return atMs;
  }

  note(who: string, text: string): void {
    const line = `${String(this.nowMs).padStart(7)} ${who.padEnd(12)} ${text}`;
    this.echo?.(line);
    this.trace.push(line);
    if (this.trace.length > this.traceKeep) this.trace.shift();
  }
}

export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}
