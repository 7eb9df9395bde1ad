import { createServer, connect, type Server, type Socket } from "node:net";

/** What a link does to the bytes of one direction between two members. */
export type LinkState = { readonly kind: "up" } | { readonly kind: "down" } | { readonly kind: "slow"; readonly delayMs: number };

/** Connections one proxy carries at once; members keep one outbound connection per peer. */
const connectionsMax = 16;

/**
 * A fault-injecting TCP proxy for one directed member link (A dials B through it: members
 * send consensus messages only on the connections they dial, so this is the A -> B direction).
 * `down` cuts every connection and refuses new ones (accepted, then destroyed at once); `slow`
 * delays each chunk by the same amount, which keeps their order; `up` forwards as is.
 */
export class LinkProxy {
  private state: LinkState = { kind: "up" };
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(name: string, targetPort: number): Promise<LinkProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      });
    });
    const proxy = new LinkProxy(name, server, port, targetPort);
    server.on("connection", (socket) => proxy.accept(socket));
    return proxy;
  }

  get current(): LinkState {
    return this.state;
  }

  set(state: LinkState): void {
    this.state = state;
    if (state.kind === "down") for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(inbound: Socket): void {
    if (this.state.kind === "down" || this.sockets.size >= connectionsMax * 2) {
      inbound.destroy();
      return;
    }
    const outbound = connect(this.targetPort, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        this.sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    this.pipe(inbound, outbound);
    this.pipe(outbound, inbound);
  }

  /** One direction of one connection: chunks leave in arrival order, each no earlier than its delay. */
  private pipe(from: Socket, to: Socket): void {
    const queue: { readonly dueMs: number; readonly chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = (): void => {
      timer = null;
      const now = Date.now();
      while (queue.length > 0 && (queue[0]?.dueMs ?? 0) <= now) {
        const item = queue.shift();
        if (item && !to.destroyed && this.state.kind !== "down") to.write(item.chunk);
      }
      const next = queue[0];
      if (next) timer = setTimeout(flush, Math.max(0, next.dueMs - now));
    };
    from.on("data", (chunk: Buffer) => {
      const state = this.state;
      if (state.kind === "down" || to.destroyed) return;
      const delayMs = state.kind === "slow" ? state.delayMs : 0;
      if (delayMs === 0 && queue.length === 0) {
        to.write(chunk);
        return;
      }
      // Never before a chunk that arrived earlier: a delay ending keeps the stream in order.
      const last = queue[queue.length - 1];
      queue.push({ dueMs: Math.max(Date.now() + delayMs, last?.dueMs ?? 0), chunk });
      if (timer === null) timer = setTimeout(flush, Math.max(0, (queue[0]?.dueMs ?? 0) - Date.now()));
    });
    from.on("close", () => {
      if (timer !== null) clearTimeout(timer);
      queue.length = 0;
    });
  }
}
