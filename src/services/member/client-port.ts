import { createServer, type Server, type Socket } from "node:net";
import { limits } from "../../kernel/limits.js";
import type { Notification } from "../../protocols/consensus/effects.js";
import { FramedConnection } from "../../adapters/node/framed-connection.js";
import { acceptHandshake } from "../../adapters/node/handshake.js";
import { HandshakeGate } from "../../adapters/node/handshake-gate.js";
import { decodeClientRequest, encodeClientMessage, type ClientRequest, type ClientResponse } from "../../wire/client-codec.js";
import { encodeFrame } from "../../wire/frame.js";

/** What the client port needs from its member. */
export interface ClientPortHost {
  readonly id: string;
  propose(proposalIds: readonly number[], payloads: readonly Uint8Array[]): void;
  handle(request: Exclude<ClientRequest, { type: "propose" }>): ClientResponse | Promise<ClientResponse>;
  readonly log: { info(message: string): void; warn(message: string): void };
}

const { clientConnectionsMax, proposalsInFlightPerConnectionMax } = limits;

interface ClientConnection {
  readonly name: string;
  readonly connection: FramedConnection;
  outbox: ClientResponse[];
  inFlight: number;
  closed: boolean;
}

/**
 * The port applications and tools connect to: authenticated with the cluster secret, one
 * framed msgpack message per frame. Proposals from every connection in one event-loop turn
 * go to consensus as one batch; answers to one connection in one turn go out as one write.
 * A malformed request closes that connection with the reason; everyone else is unaffected.
 */
export class ClientPort {
  private server: Server | null = null;
  private readonly connections = new Set<ClientConnection>();
  /** Proposal id (member-wide) -> the connection and the client's own request id. */
  private readonly waiting = new Map<number, { client: ClientConnection; requestId: number }>();
  private nextProposalId = 1;
  private batchIds: number[] = [];
  private batchPayloads: Uint8Array[] = [];
  private batchScheduled = false;
  private readonly dirty = new Set<ClientConnection>();
  private flushScheduled = false;
  private readonly gate: HandshakeGate;

  constructor(
    private readonly host: ClientPortHost,
    private readonly secret: string,
  ) {
    this.gate = new HandshakeGate({ what: "client connections", warn: (message) => host.log.warn(message), frameBytesMax: limits.frameBytesMax });
  }

  async listen(hostname: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, hostname, () => resolve());
    });
    const address = server.address();
    return typeof address === "object" && address ? address.port : port;
  }

  close(): void {
    this.server?.close();
    for (const connection of this.gate.handshaking) connection.close("member stopping");
    this.gate.stop();
    for (const client of this.connections) client.connection.close("member stopping");
  }

  /** Route a consensus notification back to the client waiting for it. */
  deliver(notification: Notification): void {
    if (notification.type !== "committed" && notification.type !== "proposal-rejected" && notification.type !== "proposal-unknown") return;
    const waiter = this.waiting.get(notification.proposalId);
    if (!waiter) return;
    this.waiting.delete(notification.proposalId);
    const client = waiter.client;
    client.inFlight -= 1;
    if (client.closed) return;
    const last = client.outbox[client.outbox.length - 1];
    if (notification.type === "committed") {
      if (last?.type === "committed" && last.term === notification.term) {
        (last.requestIds as number[]).push(waiter.requestId);
        (last.indexes as number[]).push(notification.index);
      } else {
        client.outbox.push({ type: "committed", requestIds: [waiter.requestId], indexes: [notification.index], term: notification.term });
      }
    } else if (notification.type === "proposal-rejected") {
      if (last?.type === "rejected" && last.reason === notification.reason && last.leaderId === notification.leaderId) {
        (last.requestIds as number[]).push(waiter.requestId);
      } else {
        client.outbox.push({ type: "rejected", requestIds: [waiter.requestId], reason: notification.reason, leaderId: notification.leaderId });
      }
    } else if (last?.type === "unknown") {
      (last.requestIds as number[]).push(waiter.requestId);
    } else {
      client.outbox.push({ type: "unknown", requestIds: [waiter.requestId] });
    }
    this.markDirty(client);
  }

  private accept(socket: Socket): void {
    const name = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    if (this.connections.size >= clientConnectionsMax) {
      new FramedConnection(socket, limits.unauthenticatedFrameBytesMax).close(`too many client connections (at most ${clientConnectionsMax})`);
      return;
    }
    // Handshakes in progress are bounded and take small frames, as on the peer port.
    const connection = this.gate.admit(socket);
    if (connection === null) return;
    void acceptHandshake(connection, {
      selfId: this.host.id,
      secret: this.secret,
      timeoutMs: limits.handshakeTimeoutMs,
      isKnownMember: (id) => id.startsWith("client:"),
    }).then((result) => {
      this.gate.finished(connection, result);
      if (!result.ok) return;
      const client: ClientConnection = { name: `${result.peerId}@${name}`, connection, outbox: [], inFlight: 0, closed: false };
      this.connections.add(client);
      connection.onClose((reason) => {
        client.closed = true;
        this.connections.delete(client);
        if (reason !== "peer closed the connection") this.host.log.info(`client ${client.name} closed: ${reason}`);
      });
      connection.setFrameHandler((payload) => this.receive(client, payload));
    });
  }

  private receive(client: ClientConnection, payload: Uint8Array): void {
    const decoded = decodeClientRequest(payload);
    if (!decoded.ok) {
      this.host.log.warn(`client ${client.name}: malformed request, closing: ${decoded.error}`);
      client.connection.close(`malformed request: ${decoded.error}`);
      return;
    }
    const request = decoded.value;
    if (request.type !== "propose") {
      void Promise.resolve(this.host.handle(request)).then((response) => this.send(client, response),
        (error: unknown) => this.send(client, { type: "error", requestId: request.requestId, message: String(error) }));
      return;
    }
    request.requestIds.forEach((requestId, at) => {
      if (client.inFlight >= proposalsInFlightPerConnectionMax) {
        this.send(client, { type: "rejected", requestIds: [requestId], reason: "overloaded", leaderId: null });
        return;
      }
      const proposalId = this.nextProposalId++;
      client.inFlight += 1;
      this.waiting.set(proposalId, { client, requestId });
      this.batchIds.push(proposalId);
      this.batchPayloads.push(request.payloads[at] as Uint8Array);
    });
    if (!this.batchScheduled) {
      this.batchScheduled = true;
      setImmediate(() => this.proposeBatch());
    }
  }

  private proposeBatch(): void {
    this.batchScheduled = false;
    const ids = this.batchIds;
    const payloads = this.batchPayloads;
    this.batchIds = [];
    this.batchPayloads = [];
    if (ids.length > 0) this.host.propose(ids, payloads);
  }

  private send(client: ClientConnection, response: ClientResponse): void {
    if (client.closed) return;
    client.outbox.push(response);
    this.markDirty(client);
  }

  private markDirty(client: ClientConnection): void {
    this.dirty.add(client);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const dirtyClient of this.dirty) {
        const frames = dirtyClient.outbox.map((response) => encodeFrame(encodeClientMessage(response)));
        dirtyClient.outbox = [];
        if (!dirtyClient.closed) dirtyClient.connection.write(frames);
      }
      this.dirty.clear();
    });
  }
}
