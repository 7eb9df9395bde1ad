import type { FramedConnection } from "../../adapters/node/framed-connection.js";
import type { Logger } from "../../adapters/node/logger.js";
import { AssertionError } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import { compileMatcher, describeMatcherErrors, type MatcherSpec } from "../../protocols/persistence/matcher.js";
import { decodeMessage } from "../../protocols/persistence/message-codec.js";
import type { Delivery } from "../../protocols/persistence/delivery/delivery-engine.js";
import type { Store } from "../../realm/schema.js";
import type { Command, CommandResult, PublishItem } from "../../protocols/persistence/state-types.js";
import { encodeFrame, type FrameError } from "../../wire/frame.js";
import { decodeSessionRequest, encodeSessionMessage, type ClientRealmAnswer, type ErrorCode, type RealmInfo, type SessionRequest, type SessionResponse } from "../../wire/session-codec.js";
import type { PersistenceService, ProposeOutcome } from "../persistence/persistence-service.js";
import type { SessionAdmission } from "./admission-gate.js";
import type { Bus } from "./bus.js";
import type { Principal, RealmAccess } from "./realm-access.js";

/** What a session needs from its server. */
export interface SessionHost {
  readonly serverName: string;
  readonly access: RealmAccess;
  readonly bus: Bus;
  readonly log: Logger;
  /** The local service of a cluster, if this server hosts one. */
  service(cluster: string): PersistenceService | undefined;
  /** Any server hosting a service of the cluster, for a redirect when no leader is known here. */
  someServerOf(cluster: string): { server: string; host: string; port: number } | null;
  status(): unknown;
  /** Realm roles (issue 5); null for a realm without them, where every server admits everyone. */
  readonly realm: SessionRealm | null;
}

/** What a session asks of its server's realm service. */
export interface SessionRealm {
  /** Whether a home session of this kind is admitted now; else why, and client ports to try. */
  admit(kind: "application" | "disaster-recovery-service"): { readonly admitted: true } | { readonly admitted: false; readonly reason: string; readonly servers: readonly string[] };
  /** The revision this server runs and the client's servers, for the welcome. */
  info(): RealmInfo | null;
}

/** A client's standing with a realm revision, as `holdfast admin clients` shows it. */
export type ClientRealmStatus = ClientRealmAnswer | "timed-out" | "out-of-sync";

export interface ClientRealmReport {
  readonly clientId: string;
  readonly client: string;
  readonly user: string;
  readonly app: string;
  readonly remote: string;
  /** The newest revision the client said it took (0: none yet). */
  readonly revision: number;
  readonly status: ClientRealmStatus;
  readonly detail: string;
}

type Answer = Exclude<SessionResponse, { type: "deliver" | "bus-message" | "closing" | "subscription-lost" }>;
type Closing = Extract<SessionResponse, { type: "closing" }>;

/** What a session uses of its connection (a fake one in the session's own tests). */
export type SessionConnection = Pick<FramedConnection, "remote" | "remoteAddress" | "bufferedBytes" | "onClose" | "setFarewell" | "setFrameHandler" | "write" | "close" | "closeWith">;

/**
 * One client connection: authentication first, then requests answered in any order (by
 * request id) and pushes (deliveries, bus messages). Answers and pushes of one event-loop turn
 * leave in one socket write. A malformed request gets an error naming the field; only a frame
 * that is not msgpack at all, or a client that does not say hello first, is disconnected.
 * A request whose handling throws closes this session alone, with an `internal` error.
 */
export class Session {
  readonly id: string;
  private principal: Principal | null = null;
  private authenticating = false;
  private outbox: Uint8Array[] = [];
  private flushScheduled = false;
  private closed = false;
  private publishesInFlight = 0;
  /** subscriptionId -> the service delivering it and the engine's subscriber id. */
  private readonly subscriptions = new Map<number, { service: PersistenceService; subscriberId: string; store: string; durable: string }>();
  private readonly busSubscriptions = new Set<number>();
  private clientName = "?";
  /** A home session counts as this server's client for realm revisions (issue 5). */
  private home = false;
  private realmRevision = 0;
  private realmStatus: ClientRealmStatus = "out-of-sync";
  private realmDetail = "";
  /** The newest revision sent again to this client after a ping showed it behind. */
  private repushedRevision = 0;
  /** The newest revision the server itself judged this client unable to run as connected. */
  private judgedRevision = 0;
  /** Answers awaited for `realm-revision` pushes, by revision number and test or not. */
  /** Several pushes of one revision may wait at once (an activation and a catch-up): all settle. */
  private readonly realmWaiters = new Map<string, ((answer: { status: ClientRealmStatus; detail: string }) => void)[]>();

  constructor(
    private readonly host: SessionHost,
    private readonly connection: SessionConnection,
    sessionNumber: number,
    /** The client port's gate (admission-gate.ts): the session cap, the welcome, refusal logging. */
    private readonly admission: SessionAdmission,
  ) {
    this.id = `${host.serverName}-${sessionNumber}`;
    connection.onClose(() => this.closedBy());
    connection.setFarewell((error) => this.frameFailed(error));
    connection.setFrameHandler((payload) => this.receive(payload));
  }

  get name(): string {
    return `${this.principal?.user ?? "?"}@${this.connection.remote}`;
  }

  // --- pushes ------------------------------------------------------------------------------------

  busMessage(subscriptionId: number, subject: string, replyTo: string | null, message: Uint8Array): void {
    this.push({ type: "bus-message", subscriptionId, subject, replyTo, message });
  }

  close(reason: string, reconnectTo?: string): void {
    this.closeWith({ type: "closing", reason, ...(reconnectTo === undefined ? {} : { reconnectTo }) });
  }

  private closeWith(closing: Closing): void {
    if (this.closed) return;
    this.flush();
    // Ended, not destroyed: a reset could make the client drop the reason unread.
    this.connection.closeWith([encodeFrame(encodeSessionMessage(closing))], closing.reason);
  }

  // --- realm revisions (issue 5) ---------------------------------------------------------------

  /** Whether this session is one of the server's clients (a home session, authenticated). */
  get isRealmClient(): boolean {
    return this.home && this.principal !== null && !this.closed;
  }

  get user(): string | null {
    return this.principal?.user ?? null;
  }

  get app(): string | null {
    return this.principal?.app ?? null;
  }

  /**
   * Pushes a revision (or, with `test`, asks whether the client could take it) and resolves
   * with its answer, or `timed-out` after the bound. A client that times out on an active
   * revision stays out of sync until it answers a later push.
   */
  offerRevision(info: RealmInfo, test: boolean): Promise<{ status: ClientRealmStatus; detail: string }> {
    // The hash too: a late answer to a refused test must not settle a test of other content.
    const key = `${info.number}:${info.hash}:${test}`;
    return new Promise<{ status: ClientRealmStatus; detail: string }>((resolve) => {
      const settle = (answer: { status: ClientRealmStatus; detail: string }): void => {
        clearTimeout(timer);
        const waiters = this.realmWaiters.get(key);
        const remaining = waiters?.filter((waiter) => waiter !== settle) ?? [];
        if (remaining.length === 0) this.realmWaiters.delete(key);
        else this.realmWaiters.set(key, remaining);
        resolve(answer);
      };
      const timer = setTimeout(() => settle({ status: "timed-out", detail: `no answer within ${limits.realmClientAnswerTimeoutMs} ms` }), limits.realmClientAnswerTimeoutMs);
      if (this.closed) return settle({ status: "exception", detail: "the connection closed" });
      this.realmWaiters.set(key, [...(this.realmWaiters.get(key) ?? []), settle]);
      if (!test && this.realmRevision < info.number) {
        this.realmStatus = "out-of-sync";
        this.realmDetail = `revision ${info.number} sent, not yet answered`;
      }
      this.push({ type: "realm-revision", test, ...info });
    }).then((answer) => {
      if (!test && answer.status === "timed-out" && this.realmRevision < info.number) {
        this.realmStatus = "timed-out";
        this.realmDetail = answer.detail;
      }
      return answer;
    });
  }

  /**
   * The server's own verdict on this client under a revision (e.g. its user was removed). A
   * verdict against it stands for that revision: the revision is not pushed to it again, and
   * its own answer (a client takes what it is given) does not replace the verdict.
   */
  markRealmStatus(revision: number, status: ClientRealmStatus, detail: string): void {
    this.realmRevision = Math.max(this.realmRevision, revision);
    this.realmStatus = status;
    this.realmDetail = detail;
    if (status !== "running") {
      this.judgedRevision = Math.max(this.judgedRevision, revision);
      this.repushedRevision = Math.max(this.repushedRevision, revision);
    }
  }

  realmReport(): ClientRealmReport {
    return {
      clientId: this.id,
      client: this.clientName,
      user: this.principal?.user ?? "?",
      app: this.principal?.app ?? "?",
      remote: this.connection.remote,
      revision: this.realmRevision,
      status: this.realmStatus,
      detail: this.realmDetail,
    };
  }

  /**
   * A client whose ping says it runs an older revision than this server (it missed or timed
   * out on a push) is out of sync: it gets the newest again, once per revision, and catches up.
   */
  private catchUp(clientRevision: number | undefined): void {
    const info = this.home ? (this.host.realm?.info() ?? null) : null;
    if (info === null || clientRevision === undefined || clientRevision >= info.number || this.repushedRevision >= info.number) return;
    this.repushedRevision = info.number;
    this.host.log.info(`session ${this.id}: client runs revision ${clientRevision}, this server ${info.number}: sending it again`);
    void this.offerRevision(info, false);
  }

  private realmAnswered(request: Extract<SessionRequest, { type: "realm-status" }>): void {
    // An answer about an older revision than one already answered does not take its place.
    if (!request.test && request.number >= this.realmRevision && request.number > this.judgedRevision) {
      this.realmRevision = request.number;
      this.realmStatus = request.status;
      this.realmDetail = request.detail;
    }
    for (const waiter of [...(this.realmWaiters.get(`${request.number}:${request.hash}:${request.test}`) ?? [])]) waiter({ status: request.status, detail: request.detail });
  }

  // --- requests ----------------------------------------------------------------------------------

  private receive(payload: Uint8Array): void {
    const decoded = decodeSessionRequest(payload);
    if (!decoded.ok) {
      if (decoded.fatal) {
        this.host.log.warn(`session ${this.id} (${this.name}): undecodable frame, closing: ${decoded.error}`);
        this.closeWith({ type: "closing", code: decoded.code, reason: `malformed frame: ${decoded.error}` });
        return;
      }
      this.answer({ type: "error", requestId: decoded.requestId, code: decoded.code, message: decoded.error });
      return;
    }
    const request = decoded.value;
    let handled: Promise<void> | void;
    try {
      handled = this.handle(request);
    } catch (error) {
      return this.requestFailed(request, error);
    }
    handled?.catch((error: unknown) => this.requestFailed(request, error));
  }

  private handle(request: SessionRequest): Promise<void> | void {
    if (request.type === "hello") return this.hello(request);
    const principal = this.principal;
    if (principal === null) {
      this.answer({ type: "error", requestId: "requestId" in request ? request.requestId : 0, code: "unauthenticated", message: "say hello (with user and password) before anything else" });
      this.close("request before authentication");
      return;
    }
    return this.dispatch(principal, request);
  }

  /**
   * A request whose handling threw: the bug (or the library's limit) is ours, but its damage
   * stays with this session. A broken invariant (an assertion) still ends the process.
   */
  private requestFailed(request: SessionRequest, error: unknown): void {
    if (error instanceof AssertionError) throw error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.host.log.error(`session ${this.id} (${this.name}): ${request.type} request failed, closing the session: ${detail}`);
    const requestId = "requestId" in request ? request.requestId : 0;
    const message = `${this.host.serverName} failed while handling this ${request.type} request (its log has the cause, under session ${this.id}); `
      + "this session is closed";
    this.answer({ type: "error", requestId, code: "internal", message });
    this.closeWith({ type: "closing", code: "internal", reason: message });
  }

  /** A frame the connection cannot read: the client hears why (a typed code), then it closes. */
  private frameFailed(error: FrameError): readonly Uint8Array[] {
    this.host.log.warn(`session ${this.id} (${this.name}): ${error.kind}, closing: ${error.message}`);
    this.flush();
    return [encodeFrame(encodeSessionMessage({ type: "closing", code: error.kind, reason: error.message }))];
  }

  private dispatch(principal: Principal, request: Exclude<SessionRequest, { type: "hello" }>): Promise<void> | void {
    if (!this.home && this.host.realm !== null && (request.type === "bus-subscribe" || request.type === "bus-publish" || request.type === "status")) {
      // A session opened only to reach a cluster's leader was not admitted by this server's
      // realm role: it may make persistence requests, not use this server as its realm server.
      const requestId = "requestId" in request ? request.requestId : 0;
      return this.answer({ type: "error", requestId, code: "forbidden", message: `this session was opened to reach a cluster leader on ${this.host.serverName} (purpose leader): bus and status requests go to your realm server's home session` });
    }
    switch (request.type) {
      case "publish":
        return this.publish(principal, request);
      case "subscribe":
        return this.subscribe(principal, request);
      case "unsubscribe":
        this.unsubscribe(request.subscriptionId);
        return this.answer({ type: "ok", requestId: request.requestId });
      case "ack":
        return this.ack(request);
      case "credit": {
        const subscription = this.subscriptions.get(request.subscriptionId);
        subscription?.service.credit(subscription.subscriberId, request.count);
        return;
      }
      case "map-get":
      case "map-iterate":
        return this.mapRead(principal, request);
      case "map-set":
      case "map-remove":
        return this.mapWrite(principal, request);
      case "bus-subscribe": {
        const detail = this.host.bus.subscribe(this, request.subscriptionId, request.subject);
        if (detail !== null) return this.answer({ type: "error", requestId: request.requestId, code: "invalid-subject", message: detail });
        this.busSubscriptions.add(request.subscriptionId);
        return this.answer({ type: "ok", requestId: request.requestId });
      }
      case "bus-unsubscribe":
        this.busSubscriptions.delete(request.subscriptionId);
        this.host.bus.unsubscribe(this, request.subscriptionId);
        return;
      case "bus-publish": {
        const detail = this.host.bus.publish(request.subject, request.replyTo, request.message);
        // Fire and forget: a bad subject is reported without a request id (no answer expected).
        if (detail !== null) this.answer({ type: "error", requestId: 0, code: "invalid-subject", message: detail });
        return;
      }
      case "status":
        return this.answer({ type: "status", requestId: request.requestId, status: this.host.status() });
      case "realm-status":
        return this.realmAnswered(request);
      case "ping":
        this.answer({ type: "ok", requestId: request.requestId });
        return this.catchUp(request.revision);
    }
  }

  private async hello(request: Extract<SessionRequest, { type: "hello" }>): Promise<void> {
    if (this.principal !== null || this.authenticating) {
      this.answer({ type: "error", requestId: request.requestId, code: "malformed", message: "hello was already sent on this connection" });
      return;
    }
    const home = (request.purpose ?? "home") === "home";
    const realm = this.host.realm;
    // The session cap and seed 003's admission rules come before the password check: a full
    // server, a backup that does not serve now, or a satellite without a definition, says so
    // (and where to go) without an scrypt.
    if (!this.admitted(request, home)) return;
    this.authenticating = true;
    const result = await this.host.access.authenticate(request.user, request.password, request.app, this.connection.remoteAddress);
    this.authenticating = false;
    // The hello deadline may have closed the connection during the check.
    if (this.closed) return;
    if (!result.ok) {
      this.admission.refused(result.code, `${request.user}: ${result.message}`);
      const retry = result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs };
      this.answer({ type: "error", requestId: request.requestId, code: result.code, message: result.message, ...retry });
      this.flush();
      this.close(result.message);
      return;
    }
    // Again after it: the regular server may have come back meanwhile, and a backup's
    // hand-back only reaches sessions already welcomed.
    if (!this.admitted(request, home)) return;
    this.principal = result.value;
    this.clientName = request.client;
    this.home = home;
    this.admission.welcomed();
    const info = home ? (realm?.info() ?? null) : null;
    if (info !== null) this.markRealmStatus(info.number, "running", "");
    this.answer({ type: "welcome", requestId: request.requestId, server: this.host.serverName, clientId: this.id, realm: info });
  }

  /**
   * Whether the server takes this session now (its session cap) and, for a home session, the
   * realm role admits it; if not, says why (and, for the realm role, where to go) and closes.
   */
  private admitted(request: Extract<SessionRequest, { type: "hello" }>, home: boolean): boolean {
    const full = this.admission.refusal();
    if (full !== null) this.admission.refused(full.code, full.message);
    const realm = full === null && home ? (this.host.realm?.admit(request.kind ?? "application") ?? null) : null;
    const refusal = full ?? (realm !== null && !realm.admitted ? { code: "not-serving" as const, message: realm.reason, servers: realm.servers } : null);
    if (refusal === null) return true;
    this.answer({ type: "error", requestId: request.requestId, ...refusal });
    this.close(refusal.message);
    return false;
  }

  /**
   * The leader of the store's cluster, or an answer sent already (redirect or error) and
   * undefined. Persistence requests are served only by the leader's server.
   */
  private leaderFor(store: Store, requestId: number): PersistenceService | undefined {
    const service = this.host.service(store.cluster);
    if (service?.isLeader) return service;
    const leaderId = service?.currentLeaderId ?? null;
    const leader = leaderId !== null ? this.host.access.serverOfService(store.cluster, leaderId) : service === undefined ? this.host.someServerOf(store.cluster) : null;
    this.answer({ type: "redirect", requestId, cluster: store.cluster, leader });
    return undefined;
  }

  private publish(principal: Principal, request: Extract<SessionRequest, { type: "publish" }>): Promise<void> | void {
    const store = this.host.access.endpointStore(principal, request.endpoint, "publish");
    if (!store.ok) return this.answer({ type: "error", requestId: request.requestId, code: store.code, message: store.message });
    const service = this.leaderFor(store.value, request.requestId);
    if (!service) return;
    if (this.publishesInFlight >= limits.publishRequestsInFlightPerSessionMax) {
      return this.answer({ type: "error", requestId: request.requestId, code: "overloaded", message: `more than ${limits.publishRequestsInFlightPerSessionMax} publish requests waiting on this connection; wait for confirms` });
    }
    // Validate here, once, so the log carries only well-formed messages; a bad one is refused
    // alone and the others of the batch go on.
    const messageBytesMax = Math.min(store.value.limits.messageBytesMax ?? limits.messageBytesMax, limits.messageBytesMax);
    const refused = new Map<number, string>();
    const items: PublishItem[] = [];
    request.messages.forEach((message, at) => {
      if (message.length > messageBytesMax) {
        refused.set(at, `too-large: message of ${message.length} bytes; store ${store.value.name} takes at most ${messageBytesMax}`);
        return;
      }
      const decoded = decodeMessage(message);
      if (!decoded.ok) {
        refused.set(at, `invalid-message: ${decoded.error.kind} at byte ${decoded.error.offset}: ${decoded.error.detail}`);
        return;
      }
      items.push({ sequence: request.sequences[at] as number, message });
    });
    if (items.length === 0) return this.answerPublished(request, store.value, null, refused);
    this.publishesInFlight += 1;
    return service
      .propose({ type: "publish", atMs: service.nowMs(), store: store.value.name, publisherId: request.publisherId, items })
      .then((outcome) => {
        this.publishesInFlight -= 1;
        this.answerPublished(request, store.value, outcome, refused);
      });
  }

  private answerPublished(request: Extract<SessionRequest, { type: "publish" }>, store: Store, outcome: ProposeOutcome | null, refused: ReadonlyMap<number, string>): void {
    if (outcome !== null && !outcome.ok) return this.answerFailure(request.requestId, store.cluster, outcome);
    if (outcome !== null && outcome.result.type !== "publish") return this.answerResult(request.requestId, outcome.result);
    const outcomes = outcome?.result.type === "publish" ? outcome.result.outcomes : [];
    const statuses: ("stored" | "duplicate" | "rejected")[] = [];
    const storeSequences: number[] = [];
    const errors: string[] = [];
    let next = 0;
    request.messages.forEach((_message, at) => {
      const refusal = refused.get(at);
      if (refusal !== undefined) {
        statuses.push("rejected");
        storeSequences.push(0);
        errors.push(refusal);
        return;
      }
      const item = outcomes[next++];
      if (item === undefined) throw new Error(`publish answered ${outcomes.length} items for ${request.messages.length - refused.size}`);
      statuses.push(item.status);
      storeSequences.push(item.status === "rejected" ? 0 : item.storeSequence);
      errors.push(item.status === "rejected" ? `${item.reason}: ${item.detail}` : "");
    });
    // Every confirm names what the messages had reached when it was given: the store's ack
    // point, or a stronger one (a memory ack point answered by the commit, see ProposalWaiters).
    // Nothing was stored when every message was refused.
    this.answer({ type: "published", requestId: request.requestId, ackPoint: outcome?.ackPoint ?? "none", statuses, storeSequences, errors: errors.some((e) => e !== "") ? errors : [] });
  }

  private async subscribe(principal: Principal, request: Extract<SessionRequest, { type: "subscribe" }>): Promise<void> {
    const store = this.host.access.endpointStore(principal, request.endpoint, "subscribe");
    if (!store.ok) return this.answer({ type: "error", requestId: request.requestId, code: store.code, message: store.message });
    // Compiled here, once: a spec that does not compile is refused before it reaches the log.
    const matcher = request.matcher == null ? undefined : compileMatcher(request.matcher);
    if (matcher?.ok === false) {
      const message = `the matcher for durable "${request.durable}" is invalid: ${describeMatcherErrors(matcher.errors)}`;
      return this.answer({ type: "error", requestId: request.requestId, code: "invalid-matcher", message });
    }
    if (this.subscriptions.has(request.subscriptionId)) return this.answer({ type: "error", requestId: request.requestId, code: "malformed", message: `subscription id ${request.subscriptionId} is already in use on this connection` });
    const service = this.leaderFor(store.value, request.requestId);
    if (!service) return;
    const existing = service.view.durable(store.value.name, request.durable);
    if (existing === undefined) {
      const template = this.chooseTemplate(store.value, request.template, request.durableType);
      if (typeof template !== "string") return this.answer({ type: "error", requestId: request.requestId, ...template });
      const created = await service.propose({
        type: "create-durable",
        atMs: service.nowMs(),
        store: store.value.name,
        durable: request.durable,
        template,
        ...(matcher === undefined ? {} : { matcher: request.matcher as MatcherSpec }),
      });
      if (!created.ok) return this.answerFailure(request.requestId, store.value.cluster, created);
      if (created.result.type === "rejected") return this.answerResult(request.requestId, created.result);
    } else if (!existing.dynamic && request.matcher != null) {
      return this.answer({ type: "error", requestId: request.requestId, code: "invalid-matcher", message: `durable "${request.durable}" is static: its matcher is set in the realm definition; subscribe without one` });
    }
    const durable = service.view.durable(store.value.name, request.durable);
    if (request.durableType !== null && durable !== undefined && durable.settings.type !== request.durableType) {
      return this.answer({ type: "error", requestId: request.requestId, code: "wrong-durable-type", message: `durable "${request.durable}" is a ${durable.settings.type} durable, not ${request.durableType}` });
    }
    if (this.closed) return;
    const subscriberId = `${this.id}/${request.subscriptionId}`;
    const attached = service.attach(
      {
        subscriberId,
        deliver: (deliveries) => this.deliver(request.subscriptionId, deliveries),
        lost: (reason) => {
          this.subscriptions.delete(request.subscriptionId);
          this.push({ type: "subscription-lost", subscriptionId: request.subscriptionId, reason });
        },
      },
      store.value.name,
      request.durable,
      request.prefetch,
    );
    if (!attached.ok) {
      const code: ErrorCode = attached.reason === "not-leader" ? "no-leader" : attached.reason === "durable-busy" || attached.reason === "wrong-durable-type" || attached.reason === "unknown-durable" ? attached.reason : "limit";
      return this.answer({ type: "error", requestId: request.requestId, code, message: attached.detail });
    }
    this.subscriptions.set(request.subscriptionId, { service, subscriberId, store: store.value.name, durable: request.durable });
    this.answer({ type: "ok", requestId: request.requestId });
  }

  /** The template for a new dynamic durable: the one named, the store's only one, or its only one of the type asked for. */
  private chooseTemplate(store: Store, named: string | null, type: string | null): string | { code: ErrorCode; message: string } {
    const names = store.durableTemplates.map((template) => template.name);
    if (named !== null) return names.includes(named) ? named : { code: "unknown-template", message: `store ${store.name} has no durable template "${named}"; templates: ${names.join(", ") || "none"}` };
    if (names.length === 1) return names[0] as string;
    const ofType = store.durableTemplates.filter((template) => template.type === type);
    if (ofType.length === 1) return ofType[0]!.name;
    if (names.length === 0) return { code: "unknown-durable", message: `store ${store.name} has no durable with that name and no templates to create one from` };
    return { code: "unknown-template", message: `store ${store.name} has several durable templates (${names.join(", ")}); name one with the template option` };
  }

  private deliver(subscriptionId: number, deliveries: readonly Delivery[]): void {
    this.push({
      type: "deliver",
      subscriptionId,
      sequences: deliveries.map((delivery) => delivery.storeSequence),
      deliveryCounts: deliveries.map((delivery) => delivery.deliveryCount),
      messages: deliveries.map((delivery) => delivery.message.message),
      keys: deliveries[0]?.key === undefined ? [] : deliveries.map((delivery) => delivery.key ?? ""),
    });
  }

  private ack(request: Extract<SessionRequest, { type: "ack" }>): Promise<void> | void {
    const subscription = this.subscriptions.get(request.subscriptionId);
    if (!subscription) {
      if (request.requestId > 0) this.answer({ type: "error", requestId: request.requestId, code: "unknown-durable", message: `no subscription ${request.subscriptionId} on this connection (it may have been lost to a leader change; acks go to the new leader after subscribing again)` });
      return;
    }
    if (request.sequences.length === 0) return;
    return subscription.service
      .propose({ type: "ack", atMs: subscription.service.nowMs(), store: subscription.store, durable: subscription.durable, sequences: request.sequences })
      .then((outcome) => {
        if (request.requestId === 0) return;
        if (!outcome.ok) return this.answerFailure(request.requestId, subscription.service.cluster, outcome);
        this.answerResult(request.requestId, outcome.result);
      });
  }

  private mapRead(principal: Principal, request: Extract<SessionRequest, { type: "map-get" | "map-iterate" }>): void {
    const store = this.host.access.endpointStore(principal, request.endpoint, "subscribe");
    if (!store.ok) return this.answer({ type: "error", requestId: request.requestId, code: store.code, message: store.message });
    const service = this.leaderFor(store.value, request.requestId);
    if (!service) return;
    const durable = service.view.durable(store.value.name, request.map);
    if (durable?.settings.type !== "map") {
      return this.answer({ type: "error", requestId: request.requestId, code: durable ? "wrong-durable-type" : "unknown-durable", message: `store ${store.value.name} has no map durable "${request.map}"${durable ? ` (it is a ${durable.settings.type} durable)` : ""}` });
    }
    if (request.type === "map-get") {
      const entry = service.view.entry(store.value.name, request.map, request.key);
      return this.answer({ type: "map-value", requestId: request.requestId, message: entry?.message ?? null });
    }
    const entries = service.view.entriesAfter(store.value.name, request.map, request.afterKey, Math.min(request.countMax, limits.mapEntriesPerPageMax));
    this.answer({ type: "map-entries", requestId: request.requestId, keys: entries.map(([key]) => key), messages: entries.map(([, stored]) => stored.message) });
  }

  private mapWrite(principal: Principal, request: Extract<SessionRequest, { type: "map-set" | "map-remove" }>): Promise<void> | void {
    const store = this.host.access.endpointStore(principal, request.endpoint, "publish");
    if (!store.ok) return this.answer({ type: "error", requestId: request.requestId, code: store.code, message: store.message });
    const service = this.leaderFor(store.value, request.requestId);
    if (!service) return;
    let command: Command;
    if (request.type === "map-set") {
      const decoded = decodeMessage(request.message);
      if (!decoded.ok) return this.answer({ type: "error", requestId: request.requestId, code: "invalid-message", message: `${decoded.error.kind} at byte ${decoded.error.offset}: ${decoded.error.detail}` });
      command = { type: "map-set", atMs: service.nowMs(), store: store.value.name, durable: request.map, key: request.key, message: request.message };
    } else {
      command = { type: "map-remove", atMs: service.nowMs(), store: store.value.name, durable: request.map, key: request.key };
    }
    return service.propose(command).then((outcome) => {
      if (!outcome.ok) return this.answerFailure(request.requestId, store.value.cluster, outcome);
      this.answerResult(request.requestId, outcome.result);
    });
  }

  private answerFailure(requestId: number, cluster: string, failure: Exclude<ProposeOutcome, { ok: true }>): void {
    if (failure.reason === "not-leader") {
      const leader = failure.leaderId === null ? null : this.host.access.serverOfService(cluster, failure.leaderId);
      return this.answer({ type: "redirect", requestId, cluster, leader });
    }
    if (failure.reason === "unknown") {
      return this.answer({ type: "error", requestId, code: "unknown-outcome", message: "leadership changed before the cluster confirmed this request: it may or may not have been applied; a retry is safe (publishes are deduplicated)" });
    }
    this.answer({ type: "error", requestId, code: failure.reason === "too-large" ? "too-large" : "overloaded", message: failure.reason === "too-large" ? "request too large for one log entry; send fewer messages per request" : "the cluster is busy (too much uncommitted data); retry shortly" });
  }

  private answerResult(requestId: number, result: CommandResult): void {
    if (result.type === "rejected") return this.answer({ type: "error", requestId, code: result.reason === "unknown-store" ? "unknown-endpoint" : result.reason, message: result.detail });
    this.answer({ type: "ok", requestId });
  }

  // --- output ------------------------------------------------------------------------------------

  private answer(response: Answer): void {
    this.push(response);
  }

  private push(response: SessionResponse): void {
    if (this.closed) return;
    this.outbox.push(encodeFrame(encodeSessionMessage(response)));
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    this.connection.write(frames);
    // A reader this far behind holds memory for everyone: disconnect it (NATS's slow consumer).
    if (this.connection.bufferedBytes > limits.sessionBufferedBytesMax) this.close(`slow consumer: more than ${limits.sessionBufferedBytesMax} bytes waiting to be read`);
  }

  private unsubscribe(subscriptionId: number): void {
    const subscription = this.subscriptions.get(subscriptionId);
    if (!subscription) return;
    this.subscriptions.delete(subscriptionId);
    subscription.service.detach(subscription.subscriberId);
  }

  private closedBy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiters of [...this.realmWaiters.values()]) for (const waiter of [...waiters]) waiter({ status: "exception", detail: "the connection closed" });
    this.realmWaiters.clear();
    for (const subscriptionId of [...this.subscriptions.keys()]) this.unsubscribe(subscriptionId);
    this.host.bus.unsubscribeAll(this);
  }
}
