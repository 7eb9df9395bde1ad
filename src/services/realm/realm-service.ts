import { createHash } from "node:crypto";
import { join } from "node:path";
import { NodeFileSystem } from "../../adapters/node/file-system.js";
import type { Logger } from "../../adapters/node/logger.js";
import { limits } from "../../kernel/limits.js";
import type { Admission, ClientKind, WriteAdmission } from "../../protocols/realm/admission.js";
import type { DeployAnswer, ServerTestAnswer } from "../../protocols/realm/effects.js";
import type { RealmInput } from "../../protocols/realm/inputs.js";
import type { ClientTestAnswer, Revision, RevisionId } from "../../protocols/realm/messages.js";
import { realmServiceOptions } from "../../protocols/realm/options.js";
import { RealmServiceNode, type RealmServiceStatus } from "../../protocols/realm/realm-service-node.js";
import { realmFamily } from "../../realm/family.js";
import { readDefinitionOffThread } from "../../adapters/node/definition-reader.js";
import { parseRealmDefinition, type RealmParseResult } from "../../realm/load.js";
import { formatRealmError } from "../../realm/realm-error.js";
import type { RealmDefinition } from "../../realm/schema.js";
import { RealmEffectRunner } from "../../runtime/realm-effect-runner.js";
import { RealmLinks } from "./realm-links.js";
import { RevisionStore } from "./revision-store.js";

/** The content hash of a definition's text: what revisions are told apart by. */
export function definitionHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 32);
}

export interface RealmServiceStartOptions {
  /** The definition the server was started with: the family, ports and secret come from it. */
  readonly realm: RealmDefinition;
  /** Its text: the primary's first revision when its store is empty. */
  readonly text: string;
  readonly self: string;
  readonly dataDirectory: string;
  readonly log: Logger;
  /** A revision became this server's definition (after it is durable). */
  readonly onActivate: (revision: Revision, realm: RealmDefinition) => void;
  /** A backup's regular server serves again: send its clients back to it. */
  readonly onHandBack: (to: string) => void;
  /**
   * A deploy's test from upstream: could this server's clients take `revision`? Resolves with
   * each client's answer (bounded by realmClientAnswerTimeoutMs per client).
   */
  readonly onTestClients: (revision: Revision) => Promise<readonly ClientTestAnswer[]>;
}

/** The realm secret: HOLDFAST_REALM_SECRET, else realmServices.secret. */
function realmSecret(realm: RealmDefinition): string {
  const secret = process.env.HOLDFAST_REALM_SECRET ?? realm.realmServices.secret;
  if (secret === undefined) throw new Error("servers have realm roles but no realm secret: set realmServices.secret in the realm definition (at least 16 characters) or HOLDFAST_REALM_SECRET");
  return secret;
}

/**
 * One server's realm service on real I/O (issue 5): the pure RealmServiceNode, its effects run
 * in order by RealmEffectRunner, revisions kept by RevisionStore (real files, fsync), links on
 * TCP (RealmLinks), and a tick every 100 ms. The server asks it whom to admit and hands it
 * deploys; it tells the server when a revision is active and when a backup hands clients back.
 */
export class RealmService {
  private readonly node: RealmServiceNode;
  private readonly runner: RealmEffectRunner;
  private links: RealmLinks | null = null;
  private readonly ticker: NodeJS.Timeout;
  private nextRequestId = 1;
  private readonly deploys = new Map<number, (answer: DeployAnswer) => void>();
  private readonly tests = new Map<number, (servers: readonly ServerTestAnswer[]) => void>();
  private stoppedReason: string | null = null;
  private bootstrapping = false;
  private bootstrapGivenUp = false;
  private bootstrapWaitSaid = false;
  private bootstrapNextMs = 0;
  /** The definition readDefinition read last: what a deploy validated is activated without reading it again. */
  private lastRead: { readonly text: string; readonly realm: RealmDefinition } | null = null;

  private constructor(
    private readonly options: RealmServiceStartOptions,
    private readonly store: RevisionStore,
  ) {
    const { realm, self } = options;
    const settings = realm.realmServices;
    this.node = new RealmServiceNode(
      realmServiceOptions({ self, family: realmFamily(realm) }, { heartbeatIntervalMs: settings.heartbeatIntervalMs, heartbeatTimeoutMs: settings.heartbeatTimeoutMs }),
      store.newest(),
      Date.now(),
    );
    this.runner = new RealmEffectRunner({
      dial: (peer) => this.links?.dial(peer),
      close: (peer, reason) => this.links?.close(peer, reason),
      send: (to, message) => this.links?.send(to, message),
      storeRevision: (revision, done) => this.store.store(revision, done),
      activate: (revision) => this.activate(revision),
      answerDeploy: (requestId, answer) => {
        const resolve = this.deploys.get(requestId);
        this.deploys.delete(requestId);
        resolve?.(answer);
      },
      handBackClients: (to) => options.onHandBack(to),
      testClients: (from, requestId, revision) => this.testClients(from, requestId, revision),
      answerTest: (requestId, servers) => {
        const resolve = this.tests.get(requestId);
        this.tests.delete(requestId);
        resolve?.(servers);
      },
      log: (level, text) => options.log[level](`realm: ${text}`),
      stopped: (reason) => this.stop(reason),
    });
    this.ticker = setInterval(() => {
      this.input({ type: "tick" });
      this.maybeBootstrap();
    }, limits.realmTickMs);
  }

  static async start(given: RealmServiceStartOptions): Promise<RealmService> {
    // Its links' lines too say which realm role they are about.
    const role = given.realm.servers.find((server) => server.name === given.self)?.realmService?.role;
    const options = role === undefined ? given : { ...given, log: given.log.child({ realmRole: role }) };
    const { store, problems } = RevisionStore.open(new NodeFileSystem(join(options.dataDirectory, "realm-revisions")));
    for (const problem of problems) options.log.warn(`realm: revision file ${problem.file} is damaged (${problem.problem}); moved aside as ${problem.file}.corrupt`);
    const service = new RealmService(options, store);
    const { realm, self } = options;
    const own = realm.servers.find((server) => server.name === self);
    if (own?.ports.realm === undefined) throw new Error(`server ${self} has a realm role but no ports.realm`);
    const peers = new Map<string, { host: string; port: number }>();
    for (const server of realm.servers) {
      if (server.name !== self && server.realmService !== undefined && server.ports.realm !== undefined) peers.set(server.name, { host: server.host, port: server.ports.realm });
    }
    service.links = await RealmLinks.start({ self, host: own.host, port: own.ports.realm, peers, secret: realmSecret(realm), log: options.log, input: (input) => service.input(input) });
    service.input({ type: "tick" });
    return service;
  }

  /** The revision this server runs, or null before it has one. */
  get newest(): Revision | null {
    return this.node.newest;
  }

  admitClient(kind: ClientKind): Admission {
    if (this.stoppedReason !== null) return { admitted: false, reason: `the realm service of ${this.options.self} stopped: ${this.stoppedReason}`, redirectTo: [] };
    return this.node.admitClient(kind);
  }

  admitWrite(): WriteAdmission {
    return this.node.admitWrite();
  }

  status(): RealmServiceStatus & { readonly stopped: string | null; readonly history: readonly RevisionId[] } {
    return { ...this.node.status(), stopped: this.stoppedReason, history: this.store.history() };
  }

  /** The text of a kept revision, for a redeploy (rollback) or to show it. */
  revision(number: number): Revision | null {
    return this.store.get(number);
  }

  /**
   * Reads a definition this server was handed (a deploy's, or a test's from upstream) in a
   * worker thread of its own (definition-reader.ts), and keeps the last one
   * read: activating that revision then takes it as it is instead of reading it again.
   */
  async readDefinition(text: string, source: string): Promise<RealmParseResult> {
    const parsed = await readDefinitionOffThread(text, source);
    if (parsed.ok) this.lastRead = { text, realm: parsed.realm };
    return parsed;
  }

  /** Hands an already validated definition to the protocol; resolves when it answered. */
  deploy(text: string): Promise<DeployAnswer> {
    if (this.stoppedReason !== null) return Promise.resolve({ ok: false, code: "stopped", reason: `the realm service stopped: ${this.stoppedReason}` });
    const requestId = this.nextRequestId++;
    const answer = new Promise<DeployAnswer>((resolve) => this.deploys.set(requestId, resolve));
    this.input({ type: "deploy", requestId, text, hash: definitionHash(text) });
    return answer;
  }

  /**
   * A deploy's test down the family: every downstream server whose link is up asks its own
   * clients. Resolves with one entry per downstream server (protocols/realm/revision-tests.ts).
   */
  test(revision: Revision): Promise<readonly ServerTestAnswer[]> {
    if (this.stoppedReason !== null) return Promise.resolve([]);
    const requestId = this.nextRequestId++;
    const answer = new Promise<readonly ServerTestAnswer[]>((resolve) => this.tests.set(requestId, resolve));
    this.input({ type: "test", requestId, revision });
    return answer;
  }

  private testClients(from: string, requestId: number, revision: Revision): void {
    this.options.onTestClients(revision).then(
      (clients) => this.input({ type: "clients-tested", to: from, requestId, clients }),
      (error: unknown) => this.options.log.error(`realm: testing clients for ${from} failed: ${(error as Error).message}`),
    );
  }

  stop(reason = "server stopping"): void {
    if (this.stoppedReason !== null) return;
    this.stoppedReason = reason;
    clearInterval(this.ticker);
    this.links?.stop();
    for (const resolve of this.deploys.values()) resolve({ ok: false, code: "stopped", reason: `the realm service stopped: ${reason}` });
    this.deploys.clear();
    for (const resolve of this.tests.values()) resolve([]);
    this.tests.clear();
    if (reason !== "server stopping") this.options.log.error(`realm: the realm service stopped: ${reason}`);
  }

  private input(input: RealmInput): void {
    if (this.stoppedReason !== null) return;
    this.node.step(Date.now(), input);
    this.runner.run(this.node.takeEffects());
  }

  /**
   * A primary on its first start takes the file it was started with as revision 1. The
   * protocol refuses while its backup is not linked yet (seed 003), so it tries again, once a
   * second, saying why once; a refusal that waiting cannot clear (the file is too large, or a
   * peer holds newer revisions than this empty store) is said once and not retried.
   */
  private maybeBootstrap(): void {
    if (this.node.newest !== null || this.bootstrapping || this.bootstrapGivenUp || this.node.status().role !== "primary" || this.stoppedReason !== null) return;
    if (this.options.text === "" || Date.now() < this.bootstrapNextMs) return;
    this.bootstrapping = true;
    this.bootstrapNextMs = Date.now() + limits.realmBootstrapRetryMs;
    void this.deploy(this.options.text).then((answer) => {
      this.bootstrapping = false;
      if (answer.ok) {
        this.options.log.info(`realm: first start: the realm file is revision ${answer.revision.number}`, { revision: answer.revision.number });
        return;
      }
      if (answer.code !== "backup-link-down") {
        this.bootstrapGivenUp = true;
        this.options.log.error(`realm: first start: the realm file cannot become revision 1 (${answer.code}: ${answer.reason}); this primary serves no client until a definition is deployed`);
      } else if (!this.bootstrapWaitSaid) {
        this.bootstrapWaitSaid = true;
        this.options.log.warn(`realm: first start: waiting for the backup's link before the realm file becomes revision 1 (${answer.reason})`);
      }
    });
  }

  private activate(revision: Revision): void {
    const read = this.lastRead;
    if (read !== null && read.text === revision.text) {
      this.options.onActivate(revision, read.realm);
      return;
    }
    const parsed = parseRealmDefinition(revision.text, `revision ${revision.number}`);
    if (!parsed.ok) {
      // Another version's definition that this server cannot read: keep running the one before.
      const count = parsed.errors.length + parsed.errorsNotListed;
      const first = parsed.errors[0] ? formatRealmError(parsed.errors[0]) : "?";
      const message = `realm: revision ${revision.number} does not load here (${count} errors, first: ${first}); still running the previous definition`;
      this.options.log.error(message, { revision: revision.number });
      return;
    }
    this.options.onActivate(revision, parsed.realm);
  }
}
