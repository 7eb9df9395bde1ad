import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Packr } from "msgpackr";
import { encodeFrame } from "../../wire/frame.js";
import type { FramedConnection } from "./framed-connection.js";

/**
 * Mutual authentication of a new connection with the realm's shared secret. Neither side
 * sends the secret; each proves it knows it by an HMAC over both random nonces and both ids,
 * so a proof cannot be replayed on another connection or reflected back with the roles swapped.
 *
 *   dialer   -> listener  hello     [version, dialer id, listener id, dialer nonce]
 *   listener -> dialer    challenge [listener nonce, listener proof]
 *   dialer   -> listener  proof     [dialer proof]
 *   listener -> dialer    welcome   []            (or refused [reason] at any step)
 *
 * The listener proves itself first so a dialer never hands its proof to an impostor; the
 * dialer sends nothing else until welcome, so a refused dialer keeps its queue intact.
 */

export const handshakeVersion = 1;
/** Bytes of each random nonce. */
const nonceBytes = 32;

export type HandshakeResult = { readonly ok: true; readonly peerId: string } | { readonly ok: false; readonly reason: string };

export interface DialOptions {
  readonly selfId: string;
  readonly peerId: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

export interface AcceptOptions {
  readonly selfId: string;
  readonly secret: string;
  readonly timeoutMs: number;
  /** Whether `id` may connect; anyone else is refused. */
  readonly isKnownMember: (id: string) => boolean;
}

const packr = new Packr({ useRecords: false });

type Role = "dialer" | "listener";

function proof(secret: string, role: Role, dialerId: string, listenerId: string, dialerNonce: Uint8Array, listenerNonce: Uint8Array): Buffer {
  // Length-prefixed fields: ("ab", "c") and ("a", "bc") must not hash alike.
  const hmac = createHmac("sha256", secret);
  for (const part of [role, dialerId, listenerId]) {
    const bytes = Buffer.from(part, "utf8");
    hmac.update(lengthPrefix(bytes.length)).update(bytes);
  }
  hmac.update(dialerNonce).update(listenerNonce);
  return hmac.digest();
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}

function sameProof(expected: Buffer, received: unknown): boolean {
  return received instanceof Uint8Array && received.length === expected.length && timingSafeEqual(expected, received);
}

/** Authenticates an outbound connection to `peerId`. Closes the connection on failure. */
export function dialHandshake(connection: FramedConnection, options: DialOptions): Promise<HandshakeResult> {
  return run(connection, options.timeoutMs, async (next, send) => {
    const dialerNonce = randomBytes(nonceBytes);
    send(["hello", handshakeVersion, options.selfId, options.peerId, dialerNonce]);
    const challenge = await next();
    refusedCheck(challenge);
    const [tag, listenerNonce, listenerProof] = challenge;
    if (tag !== "challenge" || !(listenerNonce instanceof Uint8Array) || listenerNonce.length !== nonceBytes) {
      throw new HandshakeFailure(`expected a challenge, got ${describe(challenge)}`);
    }
    const expected = proof(options.secret, "listener", options.selfId, options.peerId, dialerNonce, listenerNonce);
    if (!sameProof(expected, listenerProof)) {
      throw new HandshakeFailure(`${options.peerId} failed to prove the realm secret (different secret, or not ${options.peerId})`);
    }
    send(["proof", proof(options.secret, "dialer", options.selfId, options.peerId, dialerNonce, listenerNonce)]);
    const welcome = await next();
    refusedCheck(welcome);
    if (welcome[0] !== "welcome") throw new HandshakeFailure(`expected welcome, got ${describe(welcome)}`);
    return options.peerId;
  });
}

/** Authenticates an inbound connection. Tells the dialer why it was refused, then closes. */
export function acceptHandshake(connection: FramedConnection, options: AcceptOptions): Promise<HandshakeResult> {
  return run(connection, options.timeoutMs, async (next, send) => {
    const refuse = (reason: string): never => {
      send(["refused", reason]);
      throw new HandshakeFailure(reason);
    };
    const hello = await next();
    const [tag, version, dialerId, listenerId, dialerNonce] = hello;
    if (tag !== "hello" || typeof dialerId !== "string" || typeof listenerId !== "string" || !(dialerNonce instanceof Uint8Array)) {
      return refuse(`expected hello, got ${describe(hello)}`);
    }
    if (version !== handshakeVersion) return refuse(`handshake version ${String(version)} from ${dialerId}, expected ${handshakeVersion}`);
    if (dialerNonce.length !== nonceBytes) return refuse(`nonce of ${dialerNonce.length} bytes from ${dialerId}, expected ${nonceBytes}`);
    if (listenerId !== options.selfId) return refuse(`${dialerId} dialed member ${listenerId}, but this is ${options.selfId}`);
    if (!options.isKnownMember(dialerId)) return refuse(`unknown member id ${JSON.stringify(dialerId)}`);
    const listenerNonce = randomBytes(nonceBytes);
    send(["challenge", listenerNonce, proof(options.secret, "listener", dialerId, options.selfId, dialerNonce, listenerNonce)]);
    const answer = await next();
    const expected = proof(options.secret, "dialer", dialerId, options.selfId, dialerNonce, listenerNonce);
    if (answer[0] !== "proof" || !sameProof(expected, answer[1])) {
      return refuse(`${dialerId} failed to prove the realm secret (wrong secret?)`);
    }
    send(["welcome"]);
    return dialerId;
  });
}

/**
 * A listener's refusal before any handshake step (its port is full): `refused` with a stable
 * code after the reason, which a dialer of this version shows and an older one ignores.
 */
export function refusalFrame(reason: string, code: "too-many-handshakes"): Uint8Array {
  return encodeFrame(packr.pack(["refused", reason, code]));
}

class HandshakeFailure extends Error {}

function refusedCheck(message: unknown[]): void {
  if (message[0] !== "refused") return;
  const code = typeof message[2] === "string" ? ` (${message[2]})` : "";
  throw new HandshakeFailure(`refused by the listener${code}: ${String(message[1])}`);
}

function describe(message: unknown[]): string {
  return JSON.stringify(message.map((part) => (part instanceof Uint8Array ? `<${part.length} bytes>` : part))).slice(0, 120);
}

/**
 * Runs one side of the handshake with a deadline. Frames are read one at a time (the handler
 * is cleared after each), so when the handshake ends the owner takes over with nothing lost.
 */
async function run(
  connection: FramedConnection,
  timeoutMs: number,
  steps: (next: () => Promise<unknown[]>, send: (message: unknown[]) => void) => Promise<string>,
): Promise<HandshakeResult> {
  let waiter: { resolve(message: unknown[]): void; reject(error: Error): void } | undefined;
  let failure: HandshakeFailure | undefined;
  const fail = (reason: string): void => {
    failure ??= new HandshakeFailure(reason);
    waiter?.reject(failure);
    waiter = undefined;
  };
  const onFrame = (payload: Uint8Array): void => {
    connection.setFrameHandler(undefined);
    let message: unknown;
    try {
      message = packr.unpack(payload);
    } catch {
      message = undefined;
    }
    if (!Array.isArray(message)) return fail("handshake message is not a msgpack array");
    waiter?.resolve(message);
    waiter = undefined;
  };
  connection.onClose((reason) => fail(`connection closed during handshake: ${reason}`));
  const timer = setTimeout(() => fail(`handshake not finished within ${timeoutMs} ms`), timeoutMs);
  const next = (): Promise<unknown[]> =>
    new Promise((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      waiter = { resolve, reject };
      connection.setFrameHandler(onFrame);
    });
  const send = (message: unknown[]): void => {
    connection.write([encodeFrame(packr.pack(message))]);
  };
  try {
    const peerId = await steps(next, send);
    if (failure !== undefined) throw failure;
    return { ok: true, peerId };
  } catch (error) {
    if (!(error instanceof HandshakeFailure)) throw error;
    connection.close(`handshake failed: ${error.message}`);
    return { ok: false, reason: error.message };
  } finally {
    clearTimeout(timer);
    if (!connection.closed) connection.setFrameHandler(undefined);
  }
}
