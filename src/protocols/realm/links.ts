import { assert } from "../../kernel/assert.js";
import { describeRole } from "./family.js";
import type { RealmMessage } from "./messages.js";
import type { Link, RealmNodeState } from "./node-state.js";
import { outOfSyncReason } from "./revisions.js";
import { testLinkDown } from "./revision-tests.js";

/**
 * Connections between affiliated servers: who dials (seed 003's table), the hello that checks
 * both sides agree on the family, heartbeats, the link timeout, and redial with backoff.
 */

export function connected(node: RealmNodeState, peer: string, inbound: boolean): void {
  const link = node.links.get(peer);
  if (link === undefined || (inbound && link.dialer)) {
    // Not in the table: a wrong family in one of the two definitions, or a stranger.
    refuseConnection(node, peer, inbound ? `${node.self} does not accept connections from ${peer}${tableReason(node, peer)}` : `${node.self} did not dial ${peer}`);
    return;
  }
  assert(inbound || link.dialer, `realm: ${node.self} connected out to ${peer}, which it never dials`);
  if (link.state === "up") node.log("warn", `${node.self}: a new connection with ${peer} replaces the one that was up`);
  link.state = "connected";
  link.lastHeardMs = node.nowMs;
  link.peerState = null;
  link.pushInFlight = null;
  if (link.dialer) node.send(link, hello(node));
}

function tableReason(node: RealmNodeState, peer: string): string {
  if (!node.family.has(peer)) return ` (${peer} has no realm role in this server's definition)`;
  if (node.links.get(peer)?.dialer === true) return ` (${node.self} dials ${peer}, not the reverse)`;
  const dialers = node.family.dialers(node.self);
  return dialers.length === 0 ? ` (no server dials ${describeRole(node.role)})` : ` (only ${dialers.join(", ")} may)`;
}

function refuseConnection(node: RealmNodeState, peer: string, reason: string): void {
  node.log("warn", reason);
  node.emit({ type: "send", to: peer, message: { type: "refused", reason } });
  node.emit({ type: "close", peer, reason });
}

export function disconnected(node: RealmNodeState, peer: string): void {
  const link = node.links.get(peer);
  if (link === undefined || link.state === "down") return;
  linkDown(node, link, `connection with ${peer} closed`);
}

/** Called for every message on a link; false when the message must be ignored. */
export function heard(node: RealmNodeState, link: Link, message: RealmMessage): boolean {
  if (link.state === "down" || link.state === "dialing") return false;
  link.lastHeardMs = node.nowMs;
  if (link.state === "connected") {
    // The first message each way is the hello; anything else before it is a confused peer.
    if (message.type === "hello") return true;
    if (message.type === "refused") return true;
    node.log("warn", `${node.self}: ${link.peer} sent ${message.type} before its hello`);
    return false;
  }
  return true;
}

export function receiveHello(node: RealmNodeState, link: Link, message: Extract<RealmMessage, { type: "hello" }>): void {
  const expectedRole = link.peerRole;
  if (message.from !== link.peer || message.role !== expectedRole) {
    const reason = `${node.self}'s realm definition says ${link.peer} is ${describeRole(expectedRole)}; the peer says it is ${message.from}, ${describeRole(message.role)}`;
    refuseConnection(node, link.peer, reason);
    linkDown(node, link, reason);
    return;
  }
  if (!link.dialer) node.send(link, hello(node));
  link.state = "up";
  link.peerState = message.state;
  warnIfAhead(node, link, 0);
  link.redialDelayMs = node.options.reconnectDelayMinMs;
  // Seed 003: both warn when the link breaks, and say so when it is back.
  node.log("info", `${node.self}: link with ${link.peer} (${describeRole(link.peerRole)}) is up`);
}

export function receiveHeartbeat(node: RealmNodeState, link: Link, message: Extract<RealmMessage, { type: "heartbeat" }>): void {
  if (link.state !== "up") return;
  const before = link.peerState?.revision ?? 0;
  link.peerState = message.state;
  warnIfAhead(node, link, before);
}

/**
 * A server it gives revisions to holds a newer one than it does: its revision store is behind.
 * Said once, when the peer first shows it; deploys are refused meanwhile (revisions.ts).
 */
function warnIfAhead(node: RealmNodeState, link: Link, revisionBefore: number): void {
  const own = node.newest?.number ?? 0;
  const revision = link.peerState?.revision ?? 0;
  if (!link.downstream || revision <= own || revisionBefore > own) return;
  node.log("warn", `${node.self}: ${outOfSyncReason(node, link.peer, revision)}`);
}

export function receiveRefused(node: RealmNodeState, link: Link, reason: string): void {
  node.emit({ type: "close", peer: link.peer, reason });
  linkDown(node, link, `${link.peer} refused the connection: ${reason}`);
}

/** Redials, heartbeats, and timeouts of links that went silent. */
export function tickLinks(node: RealmNodeState): void {
  const { heartbeatIntervalMs, heartbeatTimeoutMs } = node.options;
  for (const link of node.links.values()) {
    if (link.state === "down" && link.dialer && node.nowMs >= link.redialAtMs) {
      link.state = "dialing";
      node.emit({ type: "dial", peer: link.peer });
      continue;
    }
    if (link.state !== "connected" && link.state !== "up") continue;
    if (node.nowMs - link.lastHeardMs >= heartbeatTimeoutMs) {
      const reason = `nothing heard from ${link.peer} for ${node.nowMs - link.lastHeardMs} ms (timeout ${heartbeatTimeoutMs} ms)`;
      node.emit({ type: "close", peer: link.peer, reason });
      linkDown(node, link, reason);
      continue;
    }
    if (link.state === "up" && node.nowMs - link.lastSentMs >= heartbeatIntervalMs) {
      node.send(link, { type: "heartbeat", state: node.serverState() });
    }
  }
}

/** Sends the server's state to every peer whose link is up, when it changed since last sent. */
export function announceState(node: RealmNodeState): void {
  const state = node.serverState();
  const before = node.announced;
  if (before !== null && before.revision === state.revision && before.serving === state.serving && before.accepting === state.accepting) return;
  node.announced = state;
  for (const link of node.links.values()) {
    if (link.state === "up") node.send(link, { type: "heartbeat", state });
  }
}

function linkDown(node: RealmNodeState, link: Link, reason: string): void {
  const wasUp = link.state === "up";
  link.state = "down";
  link.peerState = null;
  link.pushInFlight = null;
  if (wasUp) node.log("warn", `${node.self}: link with ${link.peer} (${describeRole(link.peerRole)}) is down: ${reason}`);
  testLinkDown(node, link.peer);
  if (!link.dialer) return;
  link.redialAtMs = node.nowMs + link.redialDelayMs;
  link.redialDelayMs = Math.min(node.options.reconnectDelayMaxMs, link.redialDelayMs * 2);
}

function hello(node: RealmNodeState): RealmMessage {
  return { type: "hello", from: node.self, role: node.role, state: node.serverState() };
}
