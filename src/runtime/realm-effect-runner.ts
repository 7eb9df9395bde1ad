import { assert, unreachable } from "../kernel/assert.js";
import { limits } from "../kernel/limits.js";
import type { DeployAnswer, RealmEffect, ServerTestAnswer } from "../protocols/realm/effects.js";
import type { RealmMessage, Revision } from "../protocols/realm/messages.js";

/** What a server gives its realm service to act with; the runner calls these in effect order. */
export interface RealmPorts {
  dial(peer: string): void;
  close(peer: string, reason: string): void;
  send(to: string, message: RealmMessage): void;
  /** Durable (fsync) when `done` runs: services/realm/revision-store.ts. */
  storeRevision(revision: Revision, done: (error?: Error) => void): void;
  activate(revision: Revision): void;
  answerDeploy(requestId: number, answer: DeployAnswer): void;
  handBackClients(to: string): void;
  /** Ask this server's clients about `revision`; answer with the `clients-tested` input. */
  testClients(from: string, requestId: number, revision: Revision): void;
  answerTest(requestId: number, servers: readonly ServerTestAnswer[]): void;
  log(level: "info" | "warn", text: string): void;
  /**
   * The store failed or stalled: what came after it promised the revision was kept, so none of
   * it runs, and nothing more will. The server must stop its realm service (an operating
   * error: disk full or failing) and say why.
   */
  stopped(reason: string): void;
}

/**
 * Carries out the realm protocol's effects with their ordering contract (protocols/realm/
 * effects.ts): in list order, batch after batch, and nothing after a `store-revision` until the
 * store says it is durable. An ack, a push to a backup, a deploy answer: each follows the store
 * it depends on, so none promises a revision a crash could take back.
 */
export class RealmEffectRunner {
  private readonly queue: RealmEffect[] = [];
  private storing = false;
  private stoppedReason: string | null = null;

  constructor(
    private readonly ports: RealmPorts,
    private readonly queuedMax: number = limits.realmEffectsQueuedMax,
  ) {}

  /** Takes one step's effects (RealmServiceNode.takeEffects) and runs what it can now. */
  run(effects: readonly RealmEffect[]): void {
    if (this.stoppedReason !== null) return;
    this.queue.push(...effects);
    if (this.queue.length > this.queuedMax) {
      this.stop(`${this.queue.length} realm effects wait behind a revision store that has not completed: the disk is stalled`);
      return;
    }
    this.drain();
  }

  /** Nothing waits: every effect so far was carried out (a store's durability included). */
  get idle(): boolean {
    return !this.storing && this.queue.length === 0;
  }

  get stopped(): string | null {
    return this.stoppedReason;
  }

  private drain(): void {
    let next = 0;
    while (!this.storing && this.stoppedReason === null && next < this.queue.length) {
      const effect = this.queue[next++];
      assert(effect !== undefined, "realm effect queue");
      this.carryOut(effect);
    }
    this.queue.splice(0, next);
  }

  private carryOut(effect: RealmEffect): void {
    const ports = this.ports;
    switch (effect.type) {
      case "dial":
        return ports.dial(effect.peer);
      case "close":
        return ports.close(effect.peer, effect.reason);
      case "send":
        return ports.send(effect.to, effect.message);
      case "store-revision":
        this.storing = true;
        ports.storeRevision(effect.revision, (error) => this.stored(effect.revision, error));
        return;
      case "activate":
        return ports.activate(effect.revision);
      case "deploy-answer":
        return ports.answerDeploy(effect.requestId, effect.answer);
      case "test-clients":
        return ports.testClients(effect.from, effect.requestId, effect.revision);
      case "test-answer":
        return ports.answerTest(effect.requestId, effect.servers);
      case "hand-back-clients":
        return ports.handBackClients(effect.to);
      case "log":
        return ports.log(effect.level, effect.text);
      default:
        return unreachable(effect);
    }
  }

  private stored(revision: Revision, error: Error | undefined): void {
    if (this.stoppedReason !== null) return;
    assert(this.storing, "realm: a store completed twice");
    this.storing = false;
    if (error !== undefined) {
      this.stop(`storing revision ${revision.number} failed: ${error.message}`);
      return;
    }
    this.drain();
  }

  private stop(reason: string): void {
    this.stoppedReason = reason;
    this.queue.length = 0;
    this.ports.stopped(reason);
  }
}
