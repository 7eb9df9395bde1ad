import { assert } from "../../kernel/assert.js";
import type { RealmEffect, ServerTestAnswer } from "./effects.js";
import { Family, type RealmRole } from "./family.js";
import type { RealmMessage, Revision, ServerState } from "./messages.js";
import type { RealmServiceOptions } from "./options.js";

export type LinkState =
  /** No connection; a dialer redials at `redialAtMs`. */
  | "down"
  /** We asked the driver to dial and wait for `connected` or `disconnected`. */
  | "dialing"
  /** Open, hellos not yet exchanged. */
  | "connected"
  /** Hellos exchanged: heartbeats flow and revisions may be pushed. */
  | "up";

/** This server's side of its connection with one affiliated server. */
export interface Link {
  readonly peer: string;
  readonly peerRole: RealmRole;
  /** We open this connection (seed 003's table); otherwise the peer does. */
  readonly dialer: boolean;
  /** The peer gives us revisions (it is closer to the primary). */
  readonly upstream: boolean;
  /** We give the peer revisions. */
  readonly downstream: boolean;
  state: LinkState;
  lastHeardMs: number;
  lastSentMs: number;
  redialAtMs: number;
  /** The next redial's delay; doubles after each failure up to reconnectDelayMaxMs. */
  redialDelayMs: number;
  /** What the peer last told us (hello, heartbeat, ack); null until its hello. */
  peerState: ServerState | null;
  /** A revision pushed on this connection and not yet answered: never pushed twice. */
  pushInFlight: number | null;
}

/** A deploy's test this server sent down and waits on (revision-tests.ts). */
export interface PendingTest {
  readonly requestId: number;
  readonly deadlineMs: number;
  /** Every downstream server, in the family's order: its answer, or null while awaited. */
  readonly answers: Map<string, ServerTestAnswer | null>;
}

/** Everything one server's realm service knows. The functions beside this file change it. */
export class RealmNodeState {
  nowMs: number;
  readonly family: Family;
  readonly self: string;
  readonly role: RealmRole;
  /** The newest revision this server holds durably (or is about to: see the ordering contract). */
  newest: Revision | null;
  readonly links = new Map<string, Link>();
  effects: RealmEffect[] = [];
  /** Tests awaiting answers, by request id; at most realmTestsPendingMax (asserted). */
  readonly tests = new Map<number, PendingTest>();
  /** The state last sent to peers; a change is announced at once, not at the next heartbeat. */
  announced: ServerState | null = null;
  /** Whether clients were accepted after the previous step (to log and hand back on change). */
  wasServing = false;

  constructor(
    readonly options: RealmServiceOptions,
    newest: Revision | null,
    nowMs: number,
  ) {
    assert(options.heartbeatTimeoutMs > options.heartbeatIntervalMs, "realm: heartbeat timeout must exceed the interval");
    this.nowMs = nowMs;
    this.family = new Family(options.family);
    this.self = options.self;
    this.role = this.family.role(options.self);
    this.newest = newest;
    const upstream = this.family.upstreamOf(this.self);
    const dialTargets = this.family.dialTargets(this.self);
    for (const peer of [...dialTargets, ...this.family.dialers(this.self)]) {
      this.links.set(peer, {
        peer,
        peerRole: this.family.role(peer),
        dialer: dialTargets.includes(peer),
        upstream: peer === upstream,
        downstream: this.family.upstreamOf(peer) === this.self,
        state: "down",
        lastHeardMs: nowMs,
        lastSentMs: nowMs,
        // The first tick dials at once.
        redialAtMs: nowMs,
        redialDelayMs: options.reconnectDelayMinMs,
        peerState: null,
        pushInFlight: null,
      });
    }
  }

  emit(effect: RealmEffect): void {
    this.effects.push(effect);
  }

  send(link: Link, message: RealmMessage): void {
    link.lastSentMs = this.nowMs;
    this.emit({ type: "send", to: link.peer, message });
  }

  log(level: "info" | "warn", text: string): void {
    this.emit({ type: "log", level, text });
  }

  /** The link to this server's backup, if the family gives it one. */
  backupLink(): Link | undefined {
    const backup = this.family.backupOf(this.self);
    return backup === undefined ? undefined : this.links.get(backup);
  }

  /** A backup's link to its regular server. */
  regularServerLink(): Link | undefined {
    return this.role === "backup" ? this.links.get(this.family.regularServerOf(this.self)) : undefined;
  }

  /** Seed 003: a regular server cannot take a new revision while its backup link is down. */
  get accepting(): boolean {
    const backup = this.backupLink();
    return backup === undefined || backup.state === "up";
  }

  /**
   * Whether clients are accepted: never before a definition; a backup only while its regular
   * server is not serving (its link is not up, or it says it does not serve).
   */
  get serving(): boolean {
    if (this.newest === null) return false;
    const regular = this.regularServerLink();
    if (regular === undefined) return true;
    return !(regular.state === "up" && regular.peerState?.serving === true);
  }

  serverState(): ServerState {
    return { revision: this.newest?.number ?? 0, serving: this.serving, accepting: this.accepting };
  }
}
