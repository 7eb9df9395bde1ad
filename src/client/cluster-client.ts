import { randomBytes } from "node:crypto";
import { connect as netConnect } from "node:net";
import { FramedConnection } from "../adapters/node/framed-connection.js";
import { dialHandshake } from "../adapters/node/handshake.js";
import { limits } from "../kernel/limits.js";
import type { MemberStatus } from "../protocols/consensus/types.js";
import { decodeClientResponse, encodeClientMessage, type ClientRequest, type ClientResponse } from "../wire/client-codec.js";
import { encodeFrame } from "../wire/frame.js";

export interface ClusterClientOptions {
  readonly members: readonly { readonly id: string; readonly host: string; readonly clientPort: number }[];
  readonly secret: string;
  /** Give up on a request after this long (leader changes included). */
  readonly requestTimeoutMs?: number;
}

export interface Committed {
  readonly index: number;
  readonly term: number;
}

/** The proposal reached a leader that lost leadership before answering: it may or may not be in the log. */
export class OutcomeUnknownError extends Error {
  override name = "OutcomeUnknownError";
}

export class RequestFailedError extends Error {
  override name = "RequestFailedError";
}

const { requestTimeoutMs: defaultRequestTimeoutMs, noLeaderRetryDelayMs } = limits;

interface PendingProposal {
  readonly payload: Uint8Array;
  readonly deadlineMs: number;
  readonly resolve: (committed: Committed) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A client of one consensus cluster: finds the leader (following redirects), batches the
 * proposals of one event-loop turn into one frame, and retries a refused proposal at the new
 * leader. A proposal whose leader vanished mid-flight fails with OutcomeUnknownError: this
 * layer has no deduplication, so it never retries what may already be in the log.
 */
export class ClusterClient {
  private readonly connections = new Map<string, MemberConnection>();
  private readonly clientId = `client:${randomBytes(6).toString("hex")}`;
  private leaderGuess: string;
  private memberCursor = 0;
  private queue: PendingProposal[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: ClusterClientOptions) {
    if (options.members.length === 0) throw new Error("a cluster client needs at least one member address");
    this.leaderGuess = options.members[0]!.id;
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  }

  /** The member this client currently sends proposals to. */
  get leader(): string {
    return this.leaderGuess;
  }

  propose(payload: Uint8Array): Promise<Committed> {
    if (this.closed) return Promise.reject(new RequestFailedError("client is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, deadlineMs: Date.now() + this.requestTimeoutMs, resolve, reject });
      this.scheduleFlush();
    });
  }

  async status(memberId: string): Promise<{ status: MemberStatus; emptyReason: string | null }> {
    const response = await this.connection(memberId).request({ type: "status", requestId: 0 });
    if (response.type !== "status") throw new RequestFailedError(`unexpected answer ${response.type}`);
    return { status: response.status, emptyReason: response.emptyReason };
  }

  async applied(memberId: string, fromIndex: number, countMax: number): Promise<{ index: number; payload: Uint8Array }[]> {
    const response = await this.connection(memberId).request({ type: "applied", requestId: 0, fromIndex, countMax });
    if (response.type !== "applied") throw new RequestFailedError(`unexpected answer ${response.type}`);
    return response.indexes.map((index, at) => ({ index, payload: response.payloads[at] as Uint8Array }));
  }

  async transfer(memberId: string, to: string | null): Promise<string> {
    const response = await this.connection(memberId).request({ type: "transfer", requestId: 0, to });
    return response.type === "done" ? response.detail : `unexpected answer ${response.type}`;
  }

  async forceQuorum(memberId: string, reachable: readonly string[]): Promise<string> {
    const response = await this.connection(memberId).request({ type: "force-quorum", requestId: 0, reachable });
    if (response.type === "error") throw new RequestFailedError(response.message);
    return response.type === "done" ? response.detail : `unexpected answer ${response.type}`;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    for (const pending of this.queue.splice(0)) pending.reject(new RequestFailedError("client closed"));
  }

  // --- proposals ------------------------------------------------------------------------------

  private scheduleFlush(delayMs = 0): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      this.flush();
    };
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  private flush(): void {
    if (this.closed || this.queue.length === 0) return;
    const now = Date.now();
    const batch = this.queue.filter((pending) => {
      if (pending.deadlineMs > now) return true;
      pending.reject(new RequestFailedError(`no leader answered within ${this.requestTimeoutMs} ms`));
      return false;
    });
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.options.members.some((member) => member.id === this.leaderGuess)) this.leaderGuess = this.options.members[0]!.id;
    const target = this.leaderGuess;
    this.connection(target).propose(batch, (outcome) => this.settle(target, batch, outcome));
  }

  private settle(target: string, batch: PendingProposal[], outcome: ProposalOutcome[]): void {
    let retry = false;
    let leaderHint: string | null | undefined;
    outcome.forEach((result, at) => {
      const pending = batch[at] as PendingProposal;
      switch (result.kind) {
        case "committed":
          pending.resolve({ index: result.index, term: result.term });
          return;
        case "unknown":
          pending.reject(new OutcomeUnknownError(`leader ${target} lost leadership before answering`));
          return;
        case "rejected":
          if (result.reason === "not-leader" || result.reason === "transferring" || result.reason === "unreachable") {
            leaderHint = result.leaderId;
            this.queue.push(pending);
            retry = true;
          } else {
            pending.reject(new RequestFailedError(`proposal refused by ${target}: ${result.reason}`));
          }
          return;
      }
    });
    if (!retry) return;
    if (leaderHint && leaderHint !== target) {
      this.leaderGuess = leaderHint;
      this.scheduleFlush();
      return;
    }
    // Nobody knows a leader yet, or the target is down: try the next member shortly.
    if (this.leaderGuess === target) {
      this.memberCursor = (this.memberCursor + 1) % this.options.members.length;
      this.leaderGuess = this.options.members[this.memberCursor]!.id;
    }
    this.scheduleFlush(noLeaderRetryDelayMs);
  }

  private connection(memberId: string): MemberConnection {
    let connection = this.connections.get(memberId);
    if (!connection || connection.isClosed) {
      const member = this.options.members.find((candidate) => candidate.id === memberId);
      if (!member) throw new RequestFailedError(`unknown member ${memberId}`);
      connection = new MemberConnection(member, this.clientId, this.options.secret);
      this.connections.set(memberId, connection);
    }
    return connection;
  }
}

type ProposalOutcome =
  | { readonly kind: "committed"; readonly index: number; readonly term: number }
  | { readonly kind: "rejected"; readonly reason: string; readonly leaderId: string | null }
  | { readonly kind: "unknown" };

/** One authenticated connection to one member. */
class MemberConnection {
  private connection: FramedConnection | null = null;
  private readonly ready: Promise<void>;
  private closedFlag = false;
  /** Handshake done: from now on a proposal may have reached the member. */
  private established = false;
  private nextRequestId = 1;
  private readonly proposals = new Map<number, { settle: (outcome: ProposalOutcome) => void }>();
  private readonly requests = new Map<number, { resolve: (response: ClientResponse) => void; reject: (error: Error) => void }>();

  constructor(
    readonly member: { readonly id: string; readonly host: string; readonly clientPort: number },
    clientId: string,
    secret: string,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host: member.host, port: member.clientPort });
      const connection = new FramedConnection(socket, limits.frameBytesMax);
      this.connection = connection;
      connection.onClose((reason) => this.fail(`connection to ${member.id} closed: ${reason}`));
      socket.once("connect", () => {
        void dialHandshake(connection, { selfId: clientId, peerId: member.id, secret, timeoutMs: limits.handshakeTimeoutMs }).then((result) => {
          if (!result.ok) {
            connection.close(result.reason);
            reject(new RequestFailedError(`handshake with ${member.id} failed: ${result.reason}`));
            return;
          }
          connection.setFrameHandler((payload) => this.receive(payload));
          this.established = true;
          resolve();
        });
      });
      socket.once("error", (error) => reject(new RequestFailedError(`cannot reach ${member.id}: ${error.message}`)));
    });
    this.ready.catch(() => this.fail(`cannot reach ${member.id}`));
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /**
   * Send `batch`; `settle` gets one outcome per proposal. A member that is alive but never
   * answers (stuck, partitioned from its peers) must not hold a caller forever: at `deadlineMs`
   * what is still unanswered settles as unknown (it was sent, so it may yet commit).
   */
  propose(batch: readonly { payload: Uint8Array; deadlineMs: number }[], settle: (outcome: ProposalOutcome[]) => void): void {
    const outcomes: (ProposalOutcome | undefined)[] = new Array(batch.length);
    let remaining = batch.length;
    const ids: number[] = [];
    const deadlineMs = Math.max(...batch.map((pending) => pending.deadlineMs));
    const timer = setTimeout(() => {
      for (const id of ids) this.settleProposal(id, { kind: "unknown" });
    }, Math.max(0, deadlineMs - Date.now()));
    timer.unref();
    batch.forEach((_, at) => {
      const requestId = this.nextRequestId++;
      ids.push(requestId);
      this.proposals.set(requestId, {
        settle: (outcome) => {
          outcomes[at] = outcome;
          remaining -= 1;
          if (remaining > 0) return;
          clearTimeout(timer);
          settle(outcomes as ProposalOutcome[]);
        },
      });
    });
    this.ready.then(
      () => this.write({ type: "propose", requestIds: ids, payloads: batch.map((pending) => pending.payload) }),
      () => undefined,
    );
  }

  request(request: Exclude<ClientRequest, { type: "propose" }>): Promise<ClientResponse> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.requests.set(requestId, { resolve, reject });
      this.ready.then(() => this.write({ ...request, requestId }), () => undefined);
    });
  }

  close(): void {
    this.connection?.close("client closing");
    this.fail("client closing");
  }

  private write(request: ClientRequest): void {
    this.connection?.write([encodeFrame(encodeClientMessage(request))]);
  }

  private receive(payload: Uint8Array): void {
    const decoded = decodeClientResponse(payload);
    if (!decoded.ok) {
      this.connection?.close(`malformed response: ${decoded.error}`);
      return;
    }
    const response = decoded.value;
    switch (response.type) {
      case "committed":
        response.requestIds.forEach((id, at) => this.settleProposal(id, { kind: "committed", index: response.indexes[at] ?? 0, term: response.term }));
        return;
      case "rejected":
        response.requestIds.forEach((id) => this.settleProposal(id, { kind: "rejected", reason: response.reason, leaderId: response.leaderId }));
        return;
      case "unknown":
        response.requestIds.forEach((id) => this.settleProposal(id, { kind: "unknown" }));
        return;
      default: {
        const waiter = this.requests.get(response.requestId);
        if (!waiter) return;
        this.requests.delete(response.requestId);
        if (response.type === "error") waiter.reject(new RequestFailedError(response.message));
        else waiter.resolve(response);
      }
    }
  }

  private settleProposal(requestId: number, outcome: ProposalOutcome): void {
    const waiter = this.proposals.get(requestId);
    if (!waiter) return;
    this.proposals.delete(requestId);
    waiter.settle(outcome);
  }

  /**
   * The connection is gone. Proposals that never reached the member can be retried elsewhere;
   * we cannot tell which did, so those written count as unknown, the rest as unreachable.
   */
  private fail(reason: string): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [id, waiter] of this.proposals) {
      this.proposals.delete(id);
      waiter.settle(this.established ? { kind: "unknown" } : { kind: "rejected", reason: "unreachable", leaderId: null });
    }
    for (const [id, waiter] of this.requests) {
      this.requests.delete(id);
      waiter.reject(new RequestFailedError(reason));
    }
  }
}
