import { randomBytes } from "node:crypto";
import { limits } from "../kernel/limits.js";
import { HoldfastError } from "./errors.js";
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
}

export type ConnectionEvent =
  /** The connection to a server ended (`detail`: which and why). */
  | { readonly type: "disconnect"; readonly server: string; readonly reason: string }
  /** Connected again after a disconnect. */
  | { readonly type: "reconnect"; readonly server: string }
  /** A cluster's leader moved (we learned it from a redirect). */
  | { readonly type: "leader-change"; readonly cluster: string; readonly leader: string | null }
  /** Something failed that no call is waiting for (a no-confirm publish, a bad bus subject). */
  | { readonly type: "error"; readonly error: HoldfastError };

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
  link(address: string): Promise<SessionLink> {
    if (this.closed) return Promise.reject(new HoldfastError("closed", "the connection is closed"));
    const existing = this.links.get(address);
    if (existing) return existing;
    const opening = SessionLink.open(address, this.credentials).then((link) => {
      if (this.everDisconnected.has(address)) this.emit({ type: "reconnect", server: link.server || address });
      link.onPush((push) => {
        for (const handler of this.pushHandlers) handler(link, push);
      });
      link.onClose((reason) => {
        if (this.links.get(address) === opening) this.links.delete(address);
        if (this.homeAddress === address) this.homeAddress = null;
        for (const [cluster, leader] of this.clusterLeader) if (leader === address) this.clusterLeader.delete(cluster);
        if (!this.closed) {
          this.everDisconnected.add(address);
          this.emit({ type: "disconnect", server: link.server || address, reason });
        }
      });
      if (this.closed) link.close();
      return link;
    });
    this.links.set(address, opening);
    opening.catch(() => {
      if (this.links.get(address) === opening) this.links.delete(address);
    });
    return opening;
  }

  /** A session with some server: the last one that worked, else each in turn until one answers. */
  async home(deadlineMs: number): Promise<SessionLink> {
    let lastError: unknown = null;
    while (!this.closed && Date.now() < deadlineMs) {
      const address = this.homeAddress ?? (this.options.servers[this.serverCursor % this.options.servers.length] as string);
      try {
        const link = await this.link(address);
        this.homeAddress = address;
        return link;
      } catch (error) {
        // Wrong credentials will not improve by trying another server.
        if (error instanceof HoldfastError && (error.code === "unauthenticated" || error.code === "forbidden")) throw error;
        lastError = error;
        this.homeAddress = null;
        this.serverCursor += 1;
        if (this.serverCursor % this.options.servers.length === 0) await sleep(limits.reconnectDelayMinMs * 4);
      }
    }
    if (this.closed) throw new HoldfastError("closed", "the connection is closed");
    throw new HoldfastError("timeout", `no server answered (${this.options.servers.join(", ")}): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
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
