import { randomBytes } from "node:crypto";
import { limits } from "../kernel/limits.js";
import { HoldfastError } from "./errors.js";
import type { ErrorCode, RealmInfo, SessionClientKind, SessionPurpose } from "../wire/session-codec.js";
import { SessionLink, type Answer, type Credentials, type LinkRequest, type Push } from "./session-link.js";

export interface ConnectOptions {
  /** `host:port` of holdfast servers' client ports; any one is enough to start. */
  readonly servers: readonly string[];
  readonly app: string;
  readonly user: string;
  readonly password: string;
  /** Shows in server logs and publisher ids; default `client-<random>`. */
  readonly clientName?: string;
  /** A request (leader changes and retries included) fails after this long. */
  readonly requestTimeoutMs?: number;
  /** Who connects: an application (the default) or a disaster-recovery persistence service. */
  readonly kind?: SessionClientKind;
  /**
   * Called with each realm revision the server pushes (issue 5); `test` for a deploy's test
   * ("could you take it?"). Return "needs-restart" if this process must restart to use it;
   * throwing reports `exception` with the error's message. Default: the revision is taken.
   */
  readonly onRealmRevision?: (revision: RealmInfo & { readonly test: boolean }) => "running" | "needs-restart" | void;
}

export type ConnectionEvent =
  /**
   * The connection to a server ended: which, and why. `code` when the server said why in a
   * typed way (e.g. `frame-too-large`, `checksum-mismatch`, `malformed`, `internal`).
   */
  | { readonly type: "disconnect"; readonly server: string; readonly reason: string; readonly code?: ErrorCode }
  /** Connected again after a disconnect. */
  | { readonly type: "reconnect"; readonly server: string }
  /** A cluster's leader moved (we learned it from a redirect). */
  | { readonly type: "leader-change"; readonly cluster: string; readonly leader: string | null }
  /** Something failed that no call is waiting for (a no-confirm publish, a bad bus subject). */
  | { readonly type: "error"; readonly error: HoldfastError }
  /** The realm server runs a new revision (issue 5); `servers` is the failover list now. */
  | { readonly type: "realm-revision"; readonly number: number; readonly hash: string; readonly servers: readonly string[] };

/** Refusals for load, before the welcome: another server may take us, this one will not now. */
const loadRefusalCodes: ReadonlySet<string> = new Set(["too-many-connections", "too-many-sessions", "hello-timeout"]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Where requests go: the "home" session (the first server that answers; bus traffic and the
 * first try of every persistence request) and, per cluster, the session with its leader,
 * learned from redirects. Sessions are shared by address. Publishers, subscriptions and maps
 * build on `persistenceRequest` and the link helpers.
 */
export class Router {
  readonly credentials: Credentials;
  readonly requestTimeoutMs: number;
  private readonly links = new Map<string, Promise<SessionLink>>();
  private readonly endpointCluster = new Map<string, string>();
  private readonly clusterLeader = new Map<string, string>();
  private serverCursor = 0;
  private homeAddress: string | null = null;
  /** Servers to try for the home session: the ones given, then as the realm server names them. */
  private servers: string[];
  /** Where the next home session should go first (a redirect, or a hand-back). */
  private preferred: string | null = null;
  /** The home session is kept open (reconnected at once) once a realm server welcomed us. */
  private keepHome = false;
  /** The realm's heartbeat timeout, once a realm server told us (welcome). */
  private heartbeatTimeoutMs: number | null = null;
  /** A home server found silent: passed over for a while (two heartbeat timeouts). */
  private suspect: { readonly address: string; readonly untilMs: number } | null = null;
  private homeLost = false;
  private rehoming = false;
  private readonly listeners: ((event: ConnectionEvent) => void)[] = [];
  private readonly pushHandlers = new Set<(link: SessionLink, push: Push) => void>();
  private readonly everDisconnected = new Set<string>();
  closed = false;

  constructor(readonly options: ConnectOptions) {
    if (options.servers.length === 0) throw new HoldfastError("malformed", "connect: expected at least one server address (host:port)");
    this.credentials = {
      app: options.app,
      user: options.user,
      password: options.password,
      client: options.clientName ?? `client-${randomBytes(4).toString("hex")}`,
    };
    this.requestTimeoutMs = options.requestTimeoutMs ?? limits.requestTimeoutMs;
    this.servers = [...options.servers];
    this.onPush((link, push) => {
      if (push.type === "realm-revision") this.realmRevision(link, push);
    });
  }


  on(listener: (event: ConnectionEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(event: ConnectionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  onPush(handler: (link: SessionLink, push: Push) => void): void {
    this.pushHandlers.add(handler);
  }

  /** The session with `address`, opened once and shared. */
  link(address: string, purpose: SessionPurpose = "leader"): Promise<SessionLink> {
    if (this.closed) return Promise.reject(new HoldfastError("closed", "the connection is closed"));
    // Any session can reach a leader, so a leader request rides the home session when it is
    // there; but a realm server counts (and admits) only home sessions as its clients, so a
    // home session is never a session opened to reach a leader.
    const existing = this.links.get(`home ${address}`) ?? (purpose === "leader" ? this.links.get(`leader ${address}`) : undefined);
    if (existing) return existing;
    const key = `${purpose} ${address}`;
    // A realm server that accepts the connection but never welcomes us (hung) is given up on
    // after the realm's heartbeat timeout, as a silent affiliated server is, not after 10 s.
    const helloTimeoutMs = purpose === "home" && this.heartbeatTimeoutMs !== null ? Math.max(this.heartbeatTimeoutMs, limits.homeHelloTimeoutMinMs) : limits.helloTimeoutMs;
    const opening = SessionLink.open(address, this.credentials, purpose, this.options.kind ?? "application", helloTimeoutMs).then((link) => {
      // A home session's reconnect is told by home(), which knows a home session was lost.
      if (purpose === "leader" && this.everDisconnected.has(address)) this.emit({ type: "reconnect", server: link.server || address });
      link.onPush((push) => {
        for (const handler of this.pushHandlers) handler(link, push);
      });
      if (purpose === "home" && link.realm !== null) {
        this.realmServers(link.realm.servers);
        this.heartbeat(link);
      }
      link.onClose((reason) => {
        if (this.links.get(key) === opening) this.links.delete(key);
        const wasHome = purpose === "home" && this.homeAddress === address;
        if (wasHome) {
          this.homeAddress = null;
          this.homeLost = true;
        }
        if (link.reconnectTo !== null) this.preferred = link.reconnectTo;
        if (wasHome && this.keepHome && !this.closed) void this.keepHomeOpen();
        for (const [cluster, leader] of this.clusterLeader) if (leader === address) this.clusterLeader.delete(cluster);
        if (!this.closed) {
          this.everDisconnected.add(address);
          this.emit({ type: "disconnect", server: link.server || address, reason, ...(link.closeCode === null ? {} : { code: link.closeCode }) });
        }
      });
      if (this.closed) link.close();
      return link;
    });
    this.links.set(key, opening);
    opening.catch(() => {
      if (this.links.get(key) === opening) this.links.delete(key);
    });
    return opening;
  }

  /**
   * A realm client is never without a home session for long: one loop retries until one is
   * open again or the connection is closed (a request may open it sooner; links are shared).
   */
  private async keepHomeOpen(): Promise<void> {
    if (this.rehoming) return;
    this.rehoming = true;
    try {
      let delayMs: number = limits.reconnectDelayMinMs;
      while (!this.closed && this.homeAddress === null) {
        try {
          await this.home(Date.now() + this.requestTimeoutMs);
        } catch {
          await sleep(delayMs);
          delayMs = Math.min(delayMs * 2, limits.reconnectDelayMaxMs);
        }
      }
    } finally {
      this.rehoming = false;
    }
  }

  /** A session with some server: the last one that worked, else each in turn until one answers. */
  async home(deadlineMs: number): Promise<SessionLink> {
    let lastError: unknown = null;
    // Servers that turned us away this time: for load (the last such refusal kept), or by role.
    const turnedAway = new Set<string>();
    let loadRefusal: HoldfastError | null = null;
    while (!this.closed && Date.now() < deadlineMs) {
      const preferred = this.preferred;
      this.preferred = null;
      const address = this.homeAddress ?? preferred ?? this.nextServer();
      try {
        const link = await this.link(address, "home");
        if (link.isClosed) continue;
        this.homeAddress = address;
        if (link.realm !== null) this.keepHome = true;
        if (this.homeLost) {
          this.homeLost = false;
          this.emit({ type: "reconnect", server: link.server || address });
        }
        return link;
      } catch (error) {
        // Wrong credentials will not improve by trying another server; a source backed off
        // after failed logins must wait (the error says how long).
        if (error instanceof HoldfastError && (error.code === "unauthenticated" || error.code === "forbidden" || error.code === "backed-off")) throw error;
        lastError = error;
        this.homeAddress = null;
        // A server checking as many passwords as it can says when to come back: wait that long.
        if (error instanceof HoldfastError && error.code === "busy") {
          await sleep(Math.max(0, Math.min(error.retryAfterMs ?? limits.reconnectDelayMaxMs, deadlineMs - Date.now())));
          continue;
        }
        // A server refusing for load says so at once: try the others, and once every server
        // turned us away, fail with that reason rather than hammer them until the deadline.
        if (error instanceof HoldfastError && (loadRefusalCodes.has(error.code) || error.code === "not-serving")) {
          turnedAway.add(address);
          if (error.code !== "not-serving") loadRefusal = error;
          if (loadRefusal !== null && this.servers.every((server) => turnedAway.has(server))) throw loadRefusal;
        }
        // A realm server that does not take clients now says where to go (seed 003: a
        // backup names its regular server, which names nobody while it is down).
        const redirect = error instanceof HoldfastError && error.code === "not-serving" ? error.servers.find((server) => server !== address) : undefined;
        if (redirect !== undefined && this.isSuspect(redirect)) {
          // The backup still thinks the server we found silent is up: it will notice within
          // its own heartbeat timeout. Ask it again shortly rather than wait on the silent one.
          await sleep(limits.reconnectDelayMinMs);
          this.preferred = address;
          continue;
        }
        if (redirect !== undefined && redirect !== preferred) {
          this.preferred = redirect;
          continue;
        }
        // A preferred server (a redirect's or a hand-back's) that failed: back off a little,
        // or a backup naming a regular server that refuses at once would spin the two.
        if (preferred !== null) await sleep(limits.reconnectDelayMinMs);
        if (preferred === null) this.serverCursor += 1;
        if (preferred === null && this.serverCursor % this.servers.length === 0) await sleep(limits.reconnectDelayMinMs * 4);
      }
    }
    if (this.closed) throw new HoldfastError("closed", "the connection is closed");
    if (lastError instanceof HoldfastError && lastError.code === "busy") throw lastError;
    throw new HoldfastError("timeout", `no server answered (${this.options.servers.join(", ")}): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  /** The next server to try for the home session, passing over one just found silent. */
  private nextServer(): string {
    for (let tried = 0; tried < this.servers.length; tried += 1) {
      const candidate = this.servers[(this.serverCursor + tried) % this.servers.length] as string;
      if (!this.isSuspect(candidate)) {
        this.serverCursor += tried;
        return candidate;
      }
    }
    return this.servers[this.serverCursor % this.servers.length] as string;
  }

  private isSuspect(address: string): boolean {
    return this.suspect !== null && this.suspect.address === address && Date.now() < this.suspect.untilMs;
  }

  /** The session to send a persistence request for `endpoint` to: its cluster's leader if known. */
  async linkFor(endpoint: string, deadlineMs: number): Promise<SessionLink> {
    const cluster = this.endpointCluster.get(endpoint);
    const leader = cluster === undefined ? undefined : this.clusterLeader.get(cluster);
    if (leader !== undefined) {
      try {
        return await this.link(leader);
      } catch {
        if (cluster !== undefined) this.clusterLeader.delete(cluster);
      }
    }
    return this.home(deadlineMs);
  }

  /** Learn from a redirect; returns how long to wait before retrying. */
  redirected(endpoint: string, answer: Extract<Answer, { type: "redirect" }>): number {
    this.endpointCluster.set(endpoint, answer.cluster);
    const previous = this.clusterLeader.get(answer.cluster) ?? null;
    const address = answer.leader === null ? null : `${answer.leader.host}:${answer.leader.port}`;
    if (address === null) this.clusterLeader.delete(answer.cluster);
    else this.clusterLeader.set(answer.cluster, address);
    if (address !== previous) this.emit({ type: "leader-change", cluster: answer.cluster, leader: answer.leader?.server ?? null });
    return address === null || address === previous ? limits.noLeaderRetryDelayMs : 0;
  }

  /**
   * Send a request about `endpoint` until it gets a final answer: follows redirects, rides out
   * elections and lost connections, retries `unknown-outcome` (every persistence request is
   * idempotent: publishes are deduplicated, acks and map writes repeat harmlessly).
   */
  async persistenceRequest(endpoint: string, request: LinkRequest): Promise<Answer> {
    const deadlineMs = Date.now() + this.requestTimeoutMs;
    let lastProblem = "no attempt";
    while (!this.closed && Date.now() < deadlineMs) {
      let link: SessionLink;
      try {
        link = await this.linkFor(endpoint, deadlineMs);
      } catch (error) {
        if (error instanceof HoldfastError && error.code !== "connection-lost" && error.code !== "timeout") throw error;
        lastProblem = (error as Error).message;
        await sleep(limits.noLeaderRetryDelayMs);
        continue;
      }
      let answer: Answer;
      try {
        answer = await link.request(request, Math.max(1, deadlineMs - Date.now()));
      } catch (error) {
        lastProblem = (error as Error).message;
        await sleep(limits.noLeaderRetryDelayMs);
        continue;
      }
      if (answer.type === "redirect") {
        lastProblem = `no leader known for cluster ${answer.cluster}`;
        await sleep(this.redirected(endpoint, answer));
        continue;
      }
      if (answer.type === "error" && (answer.code === "unknown-outcome" || answer.code === "no-leader" || answer.code === "overloaded")) {
        lastProblem = answer.message;
        await sleep(limits.noLeaderRetryDelayMs);
        continue;
      }
      return answer;
    }
    if (this.closed) throw new HoldfastError("closed", "the connection is closed");
    throw new HoldfastError("timeout", `request on endpoint ${endpoint} not done within ${this.requestTimeoutMs} ms: ${lastProblem}`);
  }

  /**
   * Pings the home session at the realm's heartbeat interval and closes it when the server is
   * silent for the heartbeat timeout: a hung or stopped server never closes its sockets, and
   * its clients must still fail over to the backup (seed 003), as the backup itself does.
   */
  private heartbeat(link: SessionLink): void {
    const realm = link.realm;
    if (realm === null) return;
    this.heartbeatTimeoutMs = realm.heartbeatTimeoutMs;
    let waiting = false;
    const timer = setInterval(() => {
      if (link.isClosed || this.closed) return clearInterval(timer);
      if (waiting) return;
      waiting = true;
      const timeoutMs = link.realm?.heartbeatTimeoutMs ?? realm.heartbeatTimeoutMs;
      // The revision it runs rides along: a server that has a newer one sends it again.
      link.request({ type: "ping", revision: link.realm?.number ?? 0 }, timeoutMs).then(
        () => {
          waiting = false;
        },
        (error: unknown) => {
          waiting = false;
          if (error instanceof HoldfastError && error.code === "timeout") {
            this.suspect = { address: link.address, untilMs: Date.now() + 2 * timeoutMs };
            link.close(`${link.server || link.address} silent for ${timeoutMs} ms`);
          }
        },
      );
    }, realm.heartbeatIntervalMs);
    timer.unref();
    link.onClose(() => clearInterval(timer));
  }

  /** The realm server's list comes first; the addresses given to connect() stay as a fallback. */
  private realmServers(servers: readonly string[]): void {
    if (servers.length === 0) return;
    const next = [...new Set([...servers, ...this.options.servers])];
    if (next.join(",") === this.servers.join(",")) return;
    this.servers = next;
    this.serverCursor = 0;
  }

  /** A revision pushed by the home server: take it (or test it) and say how that went. */
  private realmRevision(link: SessionLink, push: Extract<Push, { type: "realm-revision" }>): void {
    let status: "running" | "needs-restart" | "exception" = "running";
    let detail = "";
    try {
      status = this.options.onRealmRevision?.(push) ?? "running";
    } catch (error) {
      status = "exception";
      detail = (error as Error).message.slice(0, 1000);
    }
    if (!push.test && status !== "exception") {
      link.realm = { number: push.number, hash: push.hash, servers: push.servers, heartbeatIntervalMs: push.heartbeatIntervalMs, heartbeatTimeoutMs: push.heartbeatTimeoutMs };
      this.realmServers(push.servers);
      this.emit({ type: "realm-revision", number: push.number, hash: push.hash, servers: push.servers });
    }
    link.post({ type: "realm-status", number: push.number, hash: push.hash, test: push.test, status, detail });
  }

  close(): void {
    this.closed = true;
    for (const opening of this.links.values()) void opening.then((link) => link.close(), () => {});
    this.links.clear();
  }
}

/** Turn an error answer into the exception a caller sees. */
export function failure(answer: Answer, expected: string): HoldfastError {
  if (answer.type === "error") return new HoldfastError(answer.code, answer.message);
  return new HoldfastError("malformed", `expected ${expected}, got ${answer.type}`);
}
