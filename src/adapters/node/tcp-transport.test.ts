import { connect, type Socket } from "node:net";
import { Packr } from "msgpackr";
import { afterEach, describe, expect, it } from "vitest";
import { limits } from "../../kernel/limits.js";
import type { Message } from "../../protocols/consensus/messages.js";
import { encodeMessage } from "../../wire/consensus-codec.js";
import { encodeFrame } from "../../wire/frame.js";
import { FramedConnection } from "./framed-connection.js";
import { dialHandshake } from "./handshake.js";
import { TcpTransport, type TcpTransportOptions } from "./tcp-transport.js";

const host = "127.0.0.1";
const secret = "realm-secret";
const fastLimits = { reconnectDelayMinMs: 10, reconnectDelayMaxMs: 100, handshakeTimeoutMs: 1000 };

class Recorder {
  readonly lines: string[] = [];
  info = (message: string): void => void this.lines.push(`info ${message}`);
  warn = (message: string): void => void this.lines.push(`warn ${message}`);
  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }
}

const opened: { close(): void }[] = [];
afterEach(() => {
  for (const thing of opened.splice(0)) thing.close();
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Member {
  readonly transport: TcpTransport;
  readonly received: Message[];
  readonly log: Recorder;
}

async function startMember(selfId: string, overrides: Partial<TcpTransportOptions> = {}): Promise<Member> {
  const log = new Recorder();
  const transport = new TcpTransport({ selfId, listen: { host, port: 0 }, peers: {}, secret, logger: log, limits: fastLimits, ...overrides });
  opened.push(transport);
  const received: Message[] = [];
  transport.onMessage((message) => received.push(message));
  await transport.start();
  return { transport, received, log };
}

/** Tells every member where every other listens (they all chose port 0). */
function introduce(members: Record<string, Member>): void {
  for (const [id, member] of Object.entries(members)) {
    for (const [otherId, other] of Object.entries(members)) {
      if (otherId !== id) member.transport.setPeerAddress(otherId, { host, port: other.transport.port });
    }
  }
}

function heartbeat(from: string, to: string, commitIndex: number): Message {
  return { type: "append", from, to, term: 1, prevIndex: 0, prevTerm: 0, entries: [], commitIndex, sentAtMs: 0 , commitWithoutFollower: false};
}

function commitIndexes(member: Member, from: string): number[] {
  return member.received.flatMap((m) => (m.type === "append" && m.from === from ? [m.commitIndex] : []));
}

/** A raw client that authenticates as `selfId` to `peerId`, for sending hand-made bytes. */
async function rawAuthenticated(port: number, selfId: string, peerId: string): Promise<{ socket: Socket; connection: FramedConnection }> {
  const socket = connect({ host, port });
  const connection = new FramedConnection(socket, 1 << 20);
  opened.push({ close: () => connection.close("test done") });
  const result = await dialHandshake(connection, { selfId, peerId, secret, timeoutMs: 1000 });
  expect(result).toEqual({ ok: true, peerId });
  return { socket, connection };
}

describe("TcpTransport", () => {
  it("delivers messages both ways between three members", async () => {
    const members = { a1: await startMember("a1"), a2: await startMember("a2"), a3: await startMember("a3") };
    introduce(members);
    const ids = Object.keys(members) as (keyof typeof members)[];
    for (const from of ids) for (const to of ids) if (from !== to) for (let i = 1; i <= 50; i++) members[from].transport.send(heartbeat(from, to, i));
    for (const to of ids) {
      for (const from of ids) {
        if (from === to) continue;
        await waitFor(() => commitIndexes(members[to], from).length === 50, `${from} -> ${to}`);
        // One connection per direction: order within it is kept.
        expect(commitIndexes(members[to], from)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      }
    }
  });

  it("carries a large append with entries intact", async () => {
    const members = { a1: await startMember("a1"), a2: await startMember("a2") };
    introduce(members);
    const entries = Array.from({ length: 600 }, (_, i) => ({ index: i + 1, term: 1, kind: "command" as const, data: new Uint8Array(128).fill(i) }));
    const message: Message = { type: "append", from: "a1", to: "a2", term: 1, prevIndex: 0, prevTerm: 0, entries, commitIndex: 0, sentAtMs: 5 , commitWithoutFollower: false};
    members.a1.transport.send(message);
    await waitFor(() => members.a2.received.length === 1, "the large append");
    expect(members.a2.received[0]).toEqual(message);
  });

  it("refuses a member with the wrong secret while the right peers keep working", async () => {
    const members = { a1: await startMember("a1"), a2: await startMember("a2") };
    const intruder = await startMember("a3", { secret: "wrong" });
    introduce({ ...members, a3: intruder });
    // Whoever checks a proof first notices: a1 when dialing a3, a3 when dialing a1.
    await waitFor(() => members.a1.log.has(/cannot reach a3: .*a3 failed to prove the realm secret/), "a1 logging a3's failure");
    await waitFor(() => intruder.log.has(/cannot reach a1: .*a1 failed to prove the realm secret/), "a3 logging a1's failure");
    await waitFor(() => members.a1.log.has(/refused peer connections from /), "a1 refusing a3's connection");
    intruder.transport.send(heartbeat("a3", "a1", 1));
    members.a2.transport.send(heartbeat("a2", "a1", 7));
    await waitFor(() => commitIndexes(members.a1, "a2").includes(7), "a2 -> a1");
    expect(commitIndexes(members.a1, "a3")).toEqual([]);
    expect(intruder.transport.peerStatus("a1")?.connected).toBe(false);
  });

  it("refuses an unknown member id", async () => {
    const a1 = await startMember("a1");
    const socket = connect({ host, port: a1.transport.port });
    const connection = new FramedConnection(socket, 1 << 20);
    opened.push({ close: () => connection.close("test done") });
    const result = await dialHandshake(connection, { selfId: "stranger", peerId: "a1", secret, timeoutMs: 1000 });
    expect(result.ok).toBe(false);
    expect(a1.log.has(/unknown member id "stranger"/)).toBe(true);
  });

  it.each([
    ["an oversized frame", (): Uint8Array => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), /frame of \d+ bytes announced/],
    [
      "a frame with a bad checksum",
      (): Uint8Array => {
        const frame = encodeFrame(encodeMessage(heartbeat("a2", "a1", 1)));
        frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0xff;
        return frame;
      },
      /checksum mismatch/,
    ],
    ["an undecodable message", (): Uint8Array => encodeFrame(Uint8Array.from([0xc1, 0x00, 0x13])), /malformed consensus message/],
    ["a message claiming another sender", (): Uint8Array => encodeFrame(encodeMessage(heartbeat("a3", "a1", 1))), /authenticated as a2/],
  ])("closes only the connection that sent %s", async (_case, bytes, reason) => {
    const members = { a1: await startMember("a1"), a2: await startMember("a2"), a3: await startMember("a3") };
    introduce(members);
    members.a3.transport.send(heartbeat("a3", "a1", 1));
    await waitFor(() => commitIndexes(members.a1, "a3").length === 1, "a3 -> a1 before");
    const raw = await rawAuthenticated(members.a1.transport.port, "a2", "a1");
    const closed = new Promise<void>((resolve) => raw.socket.once("close", () => resolve()));
    raw.socket.write(bytes());
    await closed;
    await waitFor(() => members.a1.log.has(reason), "a1 logging the reason");
    members.a3.transport.send(heartbeat("a3", "a1", 2));
    members.a2.transport.send(heartbeat("a2", "a1", 3));
    await waitFor(() => commitIndexes(members.a1, "a3").includes(2) && commitIndexes(members.a1, "a2").includes(3), "a3 and a2 -> a1 after");
  });

  it("closes a connection that sends garbage before the handshake", async () => {
    const a1 = await startMember("a1");
    const socket = connect({ host, port: a1.transport.port });
    opened.push({ close: () => socket.destroy() });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    socket.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await closed;
    await waitFor(() => a1.log.has(/refused peer connections from .*frame of \d+ bytes announced/), "a1 logging the refusal");
  });

  it("takes only small frames before the handshake: a stranger cannot make it buffer a large one", async () => {
    const a1 = await startMember("a1");
    const socket = connect({ host, port: a1.transport.port });
    opened.push({ close: () => socket.destroy() });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // A frame well under the 16 MiB bound of an authenticated peer, sent in part.
    const header = Buffer.alloc(8);
    header.writeUInt32BE(1024 * 1024);
    socket.write(Buffer.concat([header, Buffer.alloc(100_000)]));
    await closed;
    await waitFor(() => a1.log.has(/refused peer connections from .*frame of 1048584 bytes announced, at most 65536/), "a1 logging the refusal");
  });

  it("refuses handshakes past the per-address bound with a typed reason, while a peer from another address connects", async () => {
    const a1 = await startMember("a1");
    // Strangers from 127.0.0.2 that connect and say nothing hold handshake slots until their timeout.
    const strangers = await Promise.all(
      Array.from({ length: limits.pendingHandshakesPerAddressMax + 1 }, () => {
        const socket = connect({ host, port: a1.transport.port, localAddress: "127.0.0.2" });
        opened.push({ close: () => socket.destroy() });
        socket.on("error", () => undefined);
        const received: Buffer[] = [];
        socket.on("data", (chunk: Buffer) => received.push(chunk));
        return new Promise<{ socket: Socket; received: Buffer[] }>((resolve) => socket.once("connect", () => resolve({ socket, received })));
      }),
    );
    await waitFor(() => strangers.some((stranger) => stranger.received.length > 0), "a refusal");
    const refused = strangers.filter((stranger) => stranger.received.length > 0);
    expect(refused).toHaveLength(1);
    const frame = Buffer.concat(refused[0]?.received ?? []);
    const refusal: unknown = new Packr({ useRecords: false }).unpack(frame.subarray(8));
    expect(refusal).toEqual(["refused", expect.stringContaining("at most 8 per address"), "too-many-handshakes"]);
    const a2 = await startMember("a2");
    introduce({ a1, a2 });
    a2.transport.send(heartbeat("a2", "a1", 3));
    await waitFor(() => commitIndexes(a1, "a2").includes(3), "a2 -> a1 while the strangers wait");
  });

  it("reconnects to a peer that restarts on the same port and delivers what was queued", async () => {
    const a1 = await startMember("a1");
    const first = await startMember("a2");
    introduce({ a1, a2: first });
    a1.transport.send(heartbeat("a1", "a2", 1));
    await waitFor(() => commitIndexes(first, "a1").length === 1, "a1 -> a2 before the restart");
    const port = first.transport.port;
    first.transport.close();
    await waitFor(() => a1.transport.peerStatus("a2")?.connected === false, "a1 noticing a2 is gone");
    for (let i = 2; i <= 10; i++) a1.transport.send(heartbeat("a1", "a2", i));
    const second = await startMember("a2", { listen: { host, port }, peers: { a1: { host, port: a1.transport.port } } });
    await waitFor(() => commitIndexes(second, "a1").length === 9, "queued messages after the restart");
    expect(commitIndexes(second, "a1")).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(a1.log.has(/connection to a2 lost/)).toBe(true);
  });

  it("drops the oldest messages past the queue bound while a peer is unreachable", async () => {
    const frameBytes = encodeFrame(encodeMessage(heartbeat("a1", "a2", 1))).length;
    const a1 = await startMember("a1", { limits: { ...fastLimits, peerQueueBytesMax: frameBytes * 5 } });
    const a2 = await startMember("a2");
    // a2 is known to a1 at a port nobody listens on yet (a2's own, before a1 knows it).
    a1.transport.setPeerAddress("a2", { host, port: 1 });
    a2.transport.setPeerAddress("a1", { host, port: a1.transport.port });
    for (let i = 1; i <= 20; i++) a1.transport.send(heartbeat("a1", "a2", i));
    expect(a1.transport.peerStatus("a2")).toMatchObject({ connected: false, queuedBytes: frameBytes * 5, droppedFrames: 15 });
    expect(a1.log.has(/queue for a2 is full/)).toBe(true);
    a1.transport.setPeerAddress("a2", { host, port: a2.transport.port });
    await waitFor(() => commitIndexes(a2, "a1").length === 5, "the newest five");
    expect(commitIndexes(a2, "a1")).toEqual([16, 17, 18, 19, 20]);
  });

  it("stops reconnecting and delivering after close", async () => {
    const members = { a1: await startMember("a1"), a2: await startMember("a2") };
    introduce(members);
    members.a1.transport.send(heartbeat("a1", "a2", 1));
    await waitFor(() => members.a2.received.length === 1, "first delivery");
    members.a1.transport.close();
    members.a1.transport.send(heartbeat("a1", "a2", 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(members.a2.received.length).toBe(1);
    expect(members.a1.transport.peerStatus("a2")?.connected).toBe(false);
  });
});
