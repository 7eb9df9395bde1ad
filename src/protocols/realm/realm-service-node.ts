import { unreachable } from "../../kernel/assert.js";
import { admitClient, admitWrite, noteServing, type Admission, type ClientKind, type WriteAdmission } from "./admission.js";
import type { RealmEffect } from "./effects.js";
import type { RealmRole } from "./family.js";
import type { RealmInput } from "./inputs.js";
import { announceState, connected, disconnected, heard, receiveHeartbeat, receiveHello, receiveRefused, tickLinks } from "./links.js";
import type { RealmMessage, Revision, RevisionId } from "./messages.js";
import { RealmNodeState, type LinkState } from "./node-state.js";
import type { RealmServiceOptions } from "./options.js";
import { clientsTested, receiveRevisionTest, receiveTestAnswer, startTest, tickTests } from "./revision-tests.js";
import { deploy, pushRevisions, receiveAck, receiveRevision, receiveRevisionRefused } from "./revisions.js";

export interface RealmLinkStatus {
  readonly peer: string;
  readonly peerRole: RealmRole;
  readonly state: LinkState;
  /** The peer's newest revision as it last told us; null while the link is not up. */
  readonly peerRevision: number | null;
  readonly peerServing: boolean | null;
}

export interface RealmServiceStatus {
  readonly server: string;
  readonly role: RealmRole;
  readonly primary: string;
  readonly revision: RevisionId | null;
  readonly serving: boolean;
  readonly accepting: boolean;
  readonly links: readonly RealmLinkStatus[];
}

/**
 * One server's realm service (seed 003): its links with affiliated servers, the revisions it
 * holds and passes on, and whom it serves. Pure and synchronous: `step` takes time and one
 * input, `takeEffects` hands back what to do as data (effects.ts states their order), and the
 * admission queries answer without changing anything. See README.md beside this file.
 */
export class RealmServiceNode {
  private readonly state: RealmNodeState;

  /** `newest`: the newest revision the server's store holds (null on a first start). */
  constructor(options: RealmServiceOptions, newest: Revision | null, nowMs: number) {
    this.state = new RealmNodeState(options, newest, nowMs);
    noteServing(this.state);
  }

  step(nowMs: number, input: RealmInput): void {
    const node = this.state;
    // Time never runs backwards inside the protocol, whatever the clock did.
    if (nowMs > node.nowMs) node.nowMs = nowMs;
    switch (input.type) {
      case "tick":
        tickLinks(node);
        tickTests(node);
        break;
      case "connected":
        connected(node, input.peer, input.inbound);
        break;
      case "disconnected":
        disconnected(node, input.peer);
        break;
      case "message":
        this.receive(input.from, input.message);
        break;
      case "deploy":
        deploy(node, input);
        break;
      case "test":
        startTest(node, input.requestId, input.revision);
        break;
      case "clients-tested":
        clientsTested(node, input.to, input.requestId, input.clients);
        break;
      default:
        unreachable(input);
    }
    // After every input: a change of serving is logged (and a backup hands back), the new
    // state reaches peers at once, and peers that are behind get the newest revision.
    noteServing(node);
    announceState(node);
    pushRevisions(node);
  }

  private receive(from: string, message: RealmMessage): void {
    const node = this.state;
    const link = node.links.get(from);
    if (link === undefined || !heard(node, link, message)) return;
    switch (message.type) {
      case "hello":
        return receiveHello(node, link, message);
      case "heartbeat":
        return receiveHeartbeat(node, link, message);
      case "revision":
        return receiveRevision(node, link, message.revision);
      case "revision-ack":
        return receiveAck(node, link, message.number);
      case "revision-refused":
        return receiveRevisionRefused(node, link, message.number, message.reason);
      case "revision-test":
        return receiveRevisionTest(node, link, message.requestId, message.revision);
      case "revision-test-answer":
        return receiveTestAnswer(node, link, message.requestId, message.clients);
      case "refused":
        return receiveRefused(node, link, message.reason);
      default:
        return unreachable(message);
    }
  }

  takeEffects(): RealmEffect[] {
    const effects = this.state.effects;
    this.state.effects = [];
    return effects;
  }

  admitClient(kind: ClientKind): Admission {
    return admitClient(this.state, kind);
  }

  admitWrite(): WriteAdmission {
    return admitWrite(this.state);
  }

  get newest(): Revision | null {
    return this.state.newest;
  }

  status(): RealmServiceStatus {
    const node = this.state;
    const newest = node.newest;
    return {
      server: node.self,
      role: node.role,
      primary: node.family.primary,
      revision: newest === null ? null : { number: newest.number, hash: newest.hash },
      serving: node.serving,
      accepting: node.accepting,
      links: [...node.links.values()].map((link) => ({
        peer: link.peer,
        peerRole: link.peerRole,
        state: link.state,
        peerRevision: link.state === "up" ? (link.peerState?.revision ?? null) : null,
        peerServing: link.state === "up" ? (link.peerState?.serving ?? null) : null,
      })),
    };
  }
}
