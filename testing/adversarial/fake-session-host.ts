/**
 * One server session with no sockets and no consensus, for tests that send it thousands of
 * hostile requests in a second: the real Session, session codec, realm access, bus, command
 * codec and persistence state machine; the connection is a fake that decodes what the session
 * writes, and the persistence service is a stand-in that encodes each proposal with the real
 * command codec (where a hostile matcher once crashed the server), applies it at once, and
 * answers as the real service does. The live-server fuzz runs the real service.
 */
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { Logger } from "../../src/adapters/node/logger.js";
import { assert } from "../../src/kernel/assert.js";
import { decodeCommand, encodeCommand } from "../../src/protocols/persistence/command-codec.js";
import { createPersistenceState } from "../../src/protocols/persistence/persistence-state.js";
import type { Command, PersistenceState } from "../../src/protocols/persistence/state-types.js";
import { parseRealmDefinition } from "../../src/realm/load.js";
import { hashPassword } from "../../src/realm/passwords.js";
import type { RealmDefinition } from "../../src/realm/schema.js";
import type { PersistenceService, ProposeOutcome } from "../../src/services/persistence/persistence-service.js";
import { storesConfigFor } from "../../src/services/persistence/stores-config.js";
import { Bus } from "../../src/services/server/bus.js";
import type { SessionAdmission } from "../../src/services/server/admission-gate.js";
import { loginBudgetDefaults } from "../../src/services/server/login-budget.js";
import { PasswordChecks } from "../../src/services/server/password-checks.js";
import { RealmAccess } from "../../src/services/server/realm-access.js";
import { Session, type SessionConnection, type SessionHost } from "../../src/services/server/session.js";
import { frameHeaderBytes, type FrameError } from "../../src/wire/frame.js";
import { decodeSessionResponse, type SessionResponse } from "../../src/wire/session-codec.js";

export const fakeCredentials = { app: "test-app", user: "tester", password: "test-password" } as const;

/** One server, one cluster `c1` with one service, the stores and endpoints of realm-cluster.ts. */
export async function fakeRealm(): Promise<RealmDefinition> {
  const definition = {
    sites: [{ name: "local" }],
    servers: [{ name: "s1", site: "local", host: "127.0.0.1", ports: { client: 40001, peer: 40002, admin: 40003 } }],
    clusters: [{ name: "c1", development: true, secret: randomBytes(16).toString("hex"), services: [{ name: "c1-s1", server: "s1", weight: 1 }] }],
    stores: [
      { name: "orders", cluster: "c1", limits: { messageBytesMax: 65_536, dynamicDurablesMax: 4 }, durableTemplates: [{ name: "worker", type: "shared" }] },
      { name: "prices", cluster: "c1" },
    ],
    durables: [
      { name: "billing", store: "orders", type: "standard" },
      { name: "table", store: "prices", type: "map", keyField: "symbol" },
    ],
    endpoints: [
      { name: "orders-in", store: "orders" },
      { name: "prices-in", store: "prices" },
    ],
    applications: [{ name: fakeCredentials.app, endpoints: ["orders-in", "prices-in"] }],
    users: [
      {
        name: fakeCredentials.user,
        password: await hashPassword(fakeCredentials.password, { N: 2 ** 10, r: 8, p: 1 }),
        permissions: [{ application: fakeCredentials.app, actions: ["publish", "subscribe"] }],
      },
    ],
  };
  const parsed = parseRealmDefinition(stringify(definition), "fake realm");
  if (!parsed.ok) throw new Error(`fake realm invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.realm;
}

/** The parts of PersistenceService a session uses, over the real codec and state machine. */
export class InstantService {
  readonly cluster = "c1";
  readonly isLeader = true;
  readonly currentLeaderId = "c1-s1";
  private readonly state: PersistenceState;
  private index = 0;
  /** Set to make the next proposals throw, as a failing dependency would. */
  failWith: Error | null = null;
  /** Every command proposed, in order. */
  readonly proposed: Command[] = [];

  constructor(realm: RealmDefinition) {
    this.state = createPersistenceState(storesConfigFor(realm, "c1"));
  }

  get view(): PersistenceState {
    return this.state;
  }

  nowMs(): number {
    return 1_000 + this.index;
  }

  propose(command: Command): Promise<ProposeOutcome> {
    if (this.failWith !== null) throw this.failWith;
    this.proposed.push(command);
    const decoded = decodeCommand(encodeCommand(command));
    assert(decoded.ok, `a proposed command decodes: ${decoded.ok ? "" : decoded.error}`);
    this.index += 1;
    return Promise.resolve({ ok: true, index: this.index, result: this.state.apply(this.index, decoded.command), ackPoint: "quorum-fsync" });
  }

  attach(): { readonly ok: true } {
    return { ok: true };
  }

  detach(): void {}

  credit(): void {}
}

/** The session's socket: frames it writes are decoded into `received`. */
export class FakeConnection implements SessionConnection {
  readonly remote = "127.0.0.1:50000";
  readonly remoteAddress = "127.0.0.1";
  readonly bufferedBytes = 0;
  readonly received: SessionResponse[] = [];
  closeReason: string | null = null;
  private handler: ((payload: Uint8Array) => void) | undefined;
  private farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  setFrameHandler(handler: ((payload: Uint8Array) => void) | undefined): void {
    this.handler = handler;
  }

  setFarewell(farewell: ((error: FrameError) => readonly Uint8Array[]) | undefined): void {
    this.farewell = farewell;
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  write(frames: readonly Uint8Array[]): boolean {
    for (const frame of frames) {
      const decoded = decodeSessionResponse(frame.subarray(frameHeaderBytes));
      if (!decoded.ok) throw new Error(`the session wrote an undecodable frame: ${decoded.error}`);
      this.received.push(decoded.value);
    }
    return true;
  }

  close(reason: string): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.handler = undefined;
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  /** The last frames, then the close (FramedConnection lingers; here they are simply received). */
  closeWith(frames: readonly Uint8Array[], reason: string): void {
    if (this.closeReason !== null) return;
    this.write(frames);
    this.close(reason);
  }

  /** A frame's payload from the client. */
  send(payload: Uint8Array): void {
    this.handler?.(payload);
  }

  /** What FramedConnection does on a frame error: send the owner's farewell, then close. */
  failFrame(error: FrameError): void {
    const farewell = this.farewell?.(error);
    if (farewell === undefined) this.close(error.message);
    else this.closeWith(farewell, error.message);
  }
}

/** Log lines a host wrote, to check that each failure is logged once. */
export function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    info: (line) => void lines.push(`info ${line}`),
    warn: (line) => void lines.push(`warn ${line}`),
    error: (line) => void lines.push(`error ${line}`),
    child: () => logger,
  };
  return logger;
}

/**
 * Password checks for fake hosts: the real ones (worker threads, idle ones unref'd), with a
 * budget no fuzz run spends, so a hostile hello is answered by its own merits.
 */
const fakeChecks = new PasswordChecks({
  workers: 1,
  queuedMax: 64,
  perAddressMax: 64,
  budget: { ...loginBudgetDefaults, failuresPerAddressMax: Number.MAX_SAFE_INTEGER, failuresPerUserMax: Number.MAX_SAFE_INTEGER },
});

/** A session's gate that always admits (the admission gate has its own tests). */
const admitAll: SessionAdmission = { refusal: () => null, welcomed: () => {}, refused: () => {} };

export function fakeHost(realm: RealmDefinition, service: InstantService, log: Logger): SessionHost {
  return {
    serverName: "s1",
    access: new RealmAccess(realm, fakeChecks),
    bus: new Bus(),
    log,
    service: (cluster) => (cluster === "c1" ? (service as unknown as PersistenceService) : undefined),
    someServerOf: () => null,
    status: () => ({ server: "s1" }),
    realm: null,
  };
}

let sessionNumber = 0;

export function openSession(host: SessionHost): { readonly session: Session; readonly connection: FakeConnection } {
  const connection = new FakeConnection();
  return { session: new Session(host, connection, ++sessionNumber, admitAll), connection };
}

/** Lets the session's promises settle and its once-a-turn flush run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
