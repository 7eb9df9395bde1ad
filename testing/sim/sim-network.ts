import { assert } from "../../src/kernel/assert.js";
import type { Prng } from "../../src/kernel/prng.js";
import type { ConnectOptions, FramedStream, Listener, Network, NetworkAddress } from "../../src/runtime/network.js";
import { FrameDecoder, type FrameError } from "../../src/wire/frame.js";
import type { EventOwner, Scheduler } from "./scheduler.js";

/** How streams between hosts behave; every draw comes from the seed. */
export interface StreamFaults {
  delayMinMs: number;
  delayMaxMs: number;
}

interface Endpoint {
  readonly owner: EventOwner;
  readonly host: string;
}

interface Listening {
  readonly owner: EventOwner;
  readonly frameBytesMax: number;
  readonly onStream: (stream: FramedStream) => void;
}

/**
 * The simulated network of streams (the `Network` port, src/runtime/network.ts): what TCP gives
 * the client port, the peer links and the realm links, carried on the scheduler. Each process
 * incarnation gets its own view (`forProcess`); a stream's frames reach the other end in order
 * after a drawn delay, as an event of the receiving process (held while it is paused or busy).
 * Faults are those TCP shows an application: a crashed process's streams close at the other
 * end a moment later and its ports refuse; a cut between two hosts breaks their streams and
 * refuses new ones until healed. Frames go through the production FrameDecoder at the
 * receiving end, with its bounds.
 */
export class SimNetwork {
  faults: StreamFaults = { delayMinMs: 1, delayMaxMs: 5 };
  private readonly listeners = new Map<string, Listening>();
  private readonly open = new Set<SimStream>();
  private readonly cut = new Set<string>();
  private nextPort = 40_000;

  constructor(readonly scheduler: Scheduler, readonly random: Prng) {}

  /** The network as one process incarnation on `host` sees it. */
  forProcess(owner: EventOwner, host: string): Network {
    const self: Endpoint = { owner, host };
    return {
      listen: (address, frameBytesMax, onStream) => Promise.resolve(this.listen(self, address, frameBytesMax, onStream)),
      connect: (address, options) => this.connect(self, address, options),
    };
  }

  /** No stream between the two hosts, in either direction, until `heal`. */
  cutHosts(a: string, b: string): void {
    this.cut.add(pair(a, b));
    for (const stream of [...this.open]) {
      if (pair(stream.self.host, stream.peerHost) === pair(a, b)) stream.breakLocally(`connection reset: ${a} and ${b} cannot reach each other`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** The process incarnation is gone (kill -9): its streams end, its ports close. */
  processGone(owner: EventOwner): void {
    for (const [key, listening] of [...this.listeners]) if (listening.owner === owner) this.listeners.delete(key);
    for (const stream of [...this.open]) if (stream.self.owner === owner) stream.vanish();
  }

  delayMs(): number {
    return this.random.int(this.faults.delayMinMs, this.faults.delayMaxMs);
  }

  isCut(a: string, b: string): boolean {
    return this.cut.has(pair(a, b));
  }

  forget(stream: SimStream): void {
    this.open.delete(stream);
  }

  private listen(self: Endpoint, address: NetworkAddress, frameBytesMax: number, onStream: (stream: FramedStream) => void): Listener {
    const port = address.port === 0 ? this.nextPort++ : address.port;
    const key = `${address.host}:${port}`;
    assert(!this.listeners.has(key), `${key} is already listening (EADDRINUSE)`);
    this.listeners.set(key, { owner: self.owner, frameBytesMax, onStream });
    return { port, close: () => void (this.listeners.get(key)?.owner === self.owner && this.listeners.delete(key)) };
  }

  private connect(self: Endpoint, address: NetworkAddress, options: ConnectOptions): { stream: FramedStream; opened: Promise<void> } {
    const client = new SimStream(this, self, address.host, `${address.host}:${address.port}`, options.frameBytesMax);
    this.open.add(client);
    const opened = new Promise<void>((resolve, reject) => {
      this.scheduler.schedule(this.delayMs() + this.scheduler.lagMs(self.owner.member), null, () => {
        const listening = this.listeners.get(`${address.host}:${address.port}`);
        if (client.closed) return reject(new Error("closed before it opened"));
        if (listening === undefined || !listening.owner.alive || this.isCut(self.host, address.host)) {
          const why = listening === undefined || !listening.owner.alive ? "ECONNREFUSED" : "ETIMEDOUT";
          client.breakLocally(`connect ${why} ${address.host}:${address.port}`);
          return reject(new Error(`connect ${why} ${address.host}:${address.port}`));
        }
        const server = new SimStream(this, { owner: listening.owner, host: address.host }, self.host, `${self.host}:${this.nextPort++}`, listening.frameBytesMax);
        this.open.add(server);
        client.pairWith(server);
        server.pairWith(client);
        server.markOpen();
        this.scheduler.schedule(0, listening.owner, () => listening.onStream(server));
        this.scheduler.schedule(0, self.owner, () => {
          client.markOpen();
          resolve();
        });
      });
    });
    opened.catch(() => {});
    return { stream: client, opened };
  }
}

/** One end of a simulated stream. */
export class SimStream implements FramedStream {
  readonly remoteAddress: string;
  private peer: SimStream | null = null;
  private isOpen = false;
  private readonly decoder: FrameDecoder;
  private handler: ((payload: Uint8Array) => void) | undefined;
  private closeReason: string | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined;
  /** Written before the stream opened: sent once it does. */
  private unsent: Uint8Array[] = [];
  /** When the last frame sent this way arrives: later frames never overtake it. */
  private lastArrivalMs = 0;

  constructor(
    private readonly network: SimNetwork,
    readonly self: Endpoint,
    readonly peerHost: string,
    readonly remote: string,
    frameBytesMax: number,
  ) {
    this.remoteAddress = peerHost;
    this.decoder = new FrameDecoder(frameBytesMax);
  }

  get bufferedBytes(): number {
    return 0;
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  pairWith(peer: SimStream): void {
    this.peer = peer;
  }

  markOpen(): void {
    if (this.closed) return;
    this.isOpen = true;
    const unsent = this.unsent;
    this.unsent = [];
    if (unsent.length > 0) this.write(unsent);
  }

  setFrameHandler(handler: ((payload: Uint8Array) => void) | undefined): void {
    this.handler = handler;
    if (handler !== undefined) this.deliver();
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closeReason !== undefined) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  write(frames: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    if (!this.isOpen) {
      this.unsent.push(...frames);
      return true;
    }
    const peer = this.peer;
    if (peer === null) return false;
    const scheduler = this.network.scheduler;
    const sentAtMs = scheduler.localNow(this.self.owner.member);
    const arrivalMs = Math.max(sentAtMs + this.network.delayMs(), this.lastArrivalMs);
    this.lastArrivalMs = arrivalMs;
    const bytes = frames.map((frame) => frame.slice());
    scheduler.schedule(arrivalMs - scheduler.now(), peer.self.owner, () => peer.received(bytes));
    return true;
  }

  onDrain(listener: () => void): void {
    // Nothing is ever buffered here (write never returns false on an open stream).
    void listener;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.endLocally(reason);
    this.tellPeer("closed by the remote end");
  }

  closeWith(frames: readonly Uint8Array[], reason: string): void {
    if (this.closed) return;
    this.write(frames);
    this.close(reason);
  }

  setFarewell(farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined): void {
    this.farewell = farewell;
  }

  raiseFrameBytesMax(frameBytesMax: number): void {
    this.decoder.raiseFrameBytesMax(frameBytesMax);
  }

  /** The network broke it here (a cut, a refused connect): this end hears it at once. */
  breakLocally(reason: string): void {
    if (this.closed) return;
    this.endLocally(reason);
    this.tellPeer(reason);
  }

  /** Its process died: nothing runs here any more; the other end hears of it a moment later. */
  vanish(): void {
    if (this.closed) return;
    this.closeReason = "process gone";
    this.handler = undefined;
    this.closeListeners.length = 0;
    this.network.forget(this);
    this.tellPeer("closed by the remote end");
  }

  private received(frames: readonly Uint8Array[]): void {
    if (this.closed) return;
    for (const frame of frames) this.decoder.push(frame);
    this.deliver();
  }

  private deliver(): void {
    while (this.handler !== undefined && !this.closed) {
      const result = this.decoder.next();
      if (result === undefined) return;
      if (!result.ok) {
        const farewell = this.farewell?.(result.error);
        if (farewell === undefined) this.close(result.error.message);
        else this.closeWith(farewell, result.error.message);
        return;
      }
      this.handler(result.payload);
    }
  }

  private endLocally(reason: string): void {
    this.closeReason = reason;
    this.handler = undefined;
    this.network.forget(this);
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private tellPeer(reason: string): void {
    const peer = this.peer;
    if (peer === null || peer.closed) return;
    const scheduler = this.network.scheduler;
    // After the frames already on their way: a close never overtakes data.
    const atMs = Math.max(scheduler.localNow(this.self.owner.member) + this.network.delayMs(), this.lastArrivalMs);
    scheduler.schedule(atMs - scheduler.now(), peer.self.owner, () => peer.closedByPeer(reason));
  }

  private closedByPeer(reason: string): void {
    if (this.closed) return;
    this.endLocally(reason);
  }
}

function pair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
