import type { DeployRefusal } from "./effects.js";
import { describeRole } from "./family.js";
import type { RealmInput } from "./inputs.js";
import type { Revision } from "./messages.js";
import type { Link, RealmNodeState } from "./node-state.js";

/**
 * Revisions: deployed on the primary, pushed down the family (primary → satellites, backup and
 * disaster-recovery server; satellite → its backup), stored before they are acknowledged.
 */

export function deploy(node: RealmNodeState, input: Extract<RealmInput, { type: "deploy" }>): void {
  const refuse = (code: DeployRefusal, reason: string): void => {
    node.log("warn", `${node.self}: deploy refused: ${reason}`);
    node.emit({ type: "deploy-answer", requestId: input.requestId, answer: { ok: false, code, reason } });
  };
  if (node.role !== "primary") {
    refuse("not-primary", writeRefusal(node));
    return;
  }
  const backup = node.backupLink();
  if (backup !== undefined && backup.state !== "up") {
    // Seed 003: R and B disconnected: R cannot accept the update until they reconnect.
    refuse("backup-link-down", `${node.self}'s backup ${backup.peer} is not connected, so ${node.self} cannot take a new revision: reconnect them, then deploy again`);
    return;
  }
  const ahead = newerPeer(node);
  if (ahead !== null) {
    refuse("out-of-sync", outOfSyncReason(node, ahead.peer, ahead.revision));
    return;
  }
  if (input.text.length > node.options.definitionCharactersMax) {
    refuse("too-large", `a definition of at most ${node.options.definitionCharactersMax} characters, not ${input.text.length}`);
    return;
  }
  const newest = node.newest;
  if (newest !== null && newest.hash === input.hash && newest.text === input.text) {
    // The same definition again (a retried request): no new revision.
    node.emit({ type: "deploy-answer", requestId: input.requestId, answer: { ok: true, revision: { number: newest.number, hash: newest.hash }, unchanged: true } });
    return;
  }
  const revision: Revision = { number: (newest?.number ?? 0) + 1, hash: input.hash, text: input.text };
  take(node, revision);
  node.log("info", `${node.self}: deployed revision ${revision.number} (${revision.hash})`);
  node.emit({ type: "deploy-answer", requestId: input.requestId, answer: { ok: true, revision: { number: revision.number, hash: revision.hash }, unchanged: false } });
}

/** Why anything but a deploy on the primary is refused: names the primary. */
export function writeRefusal(node: RealmNodeState): string {
  return `${node.self} is ${describeRole(node.role)}: deploys, edits and admin writes go to the primary ${node.family.primary}`;
}

export function receiveRevision(node: RealmNodeState, link: Link, revision: Revision): void {
  if (!link.upstream) {
    node.log("warn", `${node.self}: ignored revision ${revision.number} from ${link.peer}, which it does not take its definition from`);
    return;
  }
  const newest = node.newest;
  if (newest !== null && revision.number <= newest.number) {
    if (revision.number === newest.number && revision.hash !== newest.hash) {
      // Two contents under one number: the upstream lost history. Keep ours and say so.
      const reason = `${node.self} holds revision ${newest.number} with hash ${newest.hash}, not ${revision.hash}`;
      node.log("warn", `${node.self}: refused revision from ${link.peer}: ${reason}`);
      node.send(link, { type: "revision-refused", number: revision.number, reason });
      return;
    }
    node.send(link, { type: "revision-ack", number: newest.number });
    return;
  }
  if (!node.accepting) {
    const backup = node.backupLink();
    const reason = `${node.self}'s backup ${backup?.peer ?? "?"} is not connected; ${node.self} takes the revision once it is`;
    node.log("warn", `${node.self}: refused revision ${revision.number}: ${reason}`);
    node.send(link, { type: "revision-refused", number: revision.number, reason });
    return;
  }
  take(node, revision);
  node.log("info", `${node.self}: took revision ${revision.number} (${revision.hash}) from ${link.peer}`);
  node.send(link, { type: "revision-ack", number: revision.number });
}

function take(node: RealmNodeState, revision: Revision): void {
  node.newest = revision;
  node.emit({ type: "store-revision", revision });
  node.emit({ type: "activate", revision });
}

export function receiveAck(node: RealmNodeState, link: Link, number: number): void {
  if (!link.downstream || link.peerState === null) return;
  link.peerState = { ...link.peerState, revision: Math.max(link.peerState.revision, number) };
  if (link.pushInFlight !== null && number >= link.pushInFlight) link.pushInFlight = null;
}

export function receiveRevisionRefused(node: RealmNodeState, link: Link, number: number, reason: string): void {
  if (!link.downstream || link.peerState === null) return;
  node.log("warn", `${node.self}: ${link.peer} refused revision ${number}: ${reason}`);
  // Not pushed again until the peer says it accepts (its next heartbeat after its backup is back).
  link.peerState = { ...link.peerState, accepting: false };
  if (link.pushInFlight === number) link.pushInFlight = null;
}

/**
 * Pushes the newest revision to each downstream peer that is up, behind, and accepting: on
 * (re)connect (its hello says what it has), after a deploy or a revision taken, and when it
 * accepts again. One push per revision per connection.
 */
export function pushRevisions(node: RealmNodeState): void {
  const newest = node.newest;
  if (newest === null) return;
  for (const link of node.links.values()) {
    if (!link.downstream || link.state !== "up" || link.peerState === null) continue;
    if (!link.peerState.accepting || link.peerState.revision >= newest.number) continue;
    if (link.pushInFlight === newest.number) continue;
    link.pushInFlight = newest.number;
    node.send(link, { type: "revision", revision: newest });
  }
}

/** A peer that says it holds a newer revision than this server, if any. */
export function newerPeer(node: RealmNodeState): { peer: string; revision: number } | null {
  const own = node.newest?.number ?? 0;
  for (const link of node.links.values()) {
    const revision = link.state === "up" ? (link.peerState?.revision ?? 0) : 0;
    if (revision > own) return { peer: link.peer, revision };
  }
  return null;
}

export function outOfSyncReason(node: RealmNodeState, peer: string, revision: number): string {
  const own = node.newest?.number ?? 0;
  return `${peer} holds revision ${revision}, newer than ${node.self}'s ${own === 0 ? "none" : own}: ${node.self}'s revision store is behind (lost or restored from an older copy); restore it before deploying`;
}
