// The follower side of replication: appends, install-snapshot, leaving the empty state.

import { assert } from "../../kernel/assert.js";
import { advanceCommit } from "./commit.js";
import type { Append, InstallSnapshot } from "./messages.js";
import type { NodeState } from "./node-state.js";
import { becomeFollower } from "./roles.js";
import type { MemberId, Snapshot } from "./types.js";

function acceptLeader(node: NodeState, leaderId: MemberId): void {
  if (node.role !== "follower" || node.leaderId !== leaderId) becomeFollower(node, node.hardState.term, leaderId);
  node.leaderContactMs = node.nowMs;
  node.resetElectionDeadline();
  // Having followed this leader in this term, we must never vote for another in it, even if
  // our vote record was lost with a wiped disk.
  if (node.hardState.votedFor === null) node.setHardState({ votedFor: leaderId });
}

export function handleAppend(node: NodeState, message: Append): void {
  assert(node.role !== "leader", `two leaders in term ${message.term}: ${node.options.id} and ${message.from}`);
  acceptLeader(node, message.from);
  let prevIndex = message.prevIndex;
  let entries = message.entries;
  // Entries already covered by our snapshot are committed, hence identical: skip them.
  if (prevIndex < node.log.snapshotIndex()) {
    const skip = node.log.snapshotIndex() - prevIndex;
    if (skip >= entries.length) {
      respondAppend(node, message, true, node.log.snapshotIndex());
      return;
    }
    entries = entries.slice(skip);
    prevIndex = node.log.snapshotIndex();
  } else if (node.log.term(prevIndex) !== message.prevTerm) {
    respondAppend(node, message, false, 0);
    return;
  }
  const lastNewIndex = prevIndex + entries.length;
  for (const entry of entries) {
    const existing = node.log.term(entry.index);
    if (existing === entry.term) continue;
    if (existing !== undefined) {
      assert(entry.index > node.commitIndex, `leader ${message.from} overwrites committed entry ${entry.index}`);
      truncateFrom(node, entry.index);
    }
    node.log.append(entry);
    node.ready.persistEntry(entry);
    if (entry.kind === "config" && entry.config) node.config = entry.config;
  }
  advanceCommit(node, Math.min(message.commitIndex, lastNewIndex));
  maybeLeaveEmpty(node, message, lastNewIndex);
  if (lastNewIndex >= message.commitIndex) node.lastUpToDate = { term: message.term, index: lastNewIndex };
  if (node.options.applyBeforeCommit && entries.length > 0) {
    // At once, before the fsync the append-response waits for: memory ack points only.
    node.ready.send({ type: "append-received", from: node.options.id, to: message.from, term: node.hardState.term, matchIndex: lastNewIndex });
  }
  respondAppend(node, message, true, lastNewIndex);
}

function truncateFrom(node: NodeState, index: number): void {
  node.log.truncateFrom(index);
  node.ready.persistTruncate(index);
  node.persistedIndex = Math.min(node.persistedIndex, index - 1);
  node.config = node.configFromLog();
}

/**
 * Non-empty rule: an empty member counts again once its log holds everything the leader
 * knows committed, and the leader is proven current. The commit index proves the first only
 * when it covers an entry of the leader's own term (before that it may lag what earlier
 * leaders committed); `commitWithoutFollower` proves the second: it advanced while the leader
 * knew us empty, so a majority without us follows this term now. Without that proof a stale
 * leader (paused, then back) could catch us up and count us, though we may have voted in a
 * newer term before our disk was wiped.
 */
function maybeLeaveEmpty(node: NodeState, message: Append, matchIndex: number): void {
  if (!node.hardState.empty || !message.commitWithoutFollower) return;
  const leaderCommitIndex = message.commitIndex;
  if (leaderCommitIndex < 1 || matchIndex < leaderCommitIndex) return;
  if (node.log.term(leaderCommitIndex) !== message.term) return;
  node.setHardState({ empty: false });
}

function respondAppend(node: NodeState, message: Append, success: boolean, matchIndex: number): void {
  const lastIndex = node.log.lastIndex();
  node.ready.sendAfterPersist({
    type: "append-response",
    from: node.options.id,
    to: message.from,
    term: node.hardState.term,
    success,
    matchIndex: success ? matchIndex : 0,
    rejectHint: success ? 0 : Math.min(lastIndex, message.prevIndex - 1),
    empty: node.hardState.empty,
    sentAtMs: message.sentAtMs,
  });
}

export function handleInstallSnapshot(node: NodeState, message: InstallSnapshot): void {
  acceptLeader(node, message.from);
  const chunk = message.snapshot;
  // Nothing to receive when we hold what it covers: committed already, or its last entry is
  // in our log (Raft §7: keep what follows it).
  const needed = chunk.index > node.commitIndex && node.log.term(chunk.index) !== chunk.term;
  if (!needed) {
    node.incomingSnapshot = null;
    installSnapshot(node, message, chunk);
    return;
  }
  let incoming = node.incomingSnapshot;
  if (message.offset === 0) {
    incoming = { from: message.from, index: chunk.index, term: chunk.term, chunks: [], bytes: 0 };
    node.incomingSnapshot = incoming;
  }
  if (incoming === null || incoming.from !== message.from || incoming.index !== chunk.index || incoming.term !== chunk.term || incoming.bytes !== message.offset) {
    // Another snapshot, or a chunk out of order (one was lost): say what we hold.
    const holds = incoming !== null && incoming.from === message.from && incoming.index === chunk.index && incoming.term === chunk.term ? incoming : null;
    respondSnapshotChunk(node, message, holds?.bytes ?? 0, holds?.index ?? 0);
    return;
  }
  incoming.chunks.push(chunk.data);
  incoming.bytes += chunk.data.length;
  if (!message.done) {
    respondSnapshotChunk(node, message, incoming.bytes, incoming.index);
    return;
  }
  node.incomingSnapshot = null;
  installSnapshot(node, message, { ...chunk, data: concatenate(incoming.chunks, incoming.bytes) });
}

/** Chunks are held in memory only: the answer needs no fsync. */
function respondSnapshotChunk(node: NodeState, message: InstallSnapshot, receivedBytes: number, snapshotIndex: number): void {
  node.ready.send({
    type: "install-snapshot-response",
    from: node.options.id,
    to: message.from,
    term: node.hardState.term,
    matchIndex: 0,
    receivedBytes,
    snapshotIndex,
    done: false,
    empty: node.hardState.empty,
    sentAtMs: message.sentAtMs,
  });
}

function concatenate(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return data;
}

function installSnapshot(node: NodeState, message: InstallSnapshot, snapshot: Snapshot): void {
  if (snapshot.index > node.commitIndex && node.log.term(snapshot.index) === snapshot.term) {
    // Our log already holds the snapshot's last entry: keep what follows it (Raft §7).
    advanceCommit(node, snapshot.index);
  } else if (snapshot.index > node.commitIndex) {
    node.log.restore(snapshot);
    node.ready.persistSnapshot(snapshot, true);
    node.ready.restore(snapshot);
    node.commitIndex = snapshot.index;
    node.appliedIndex = snapshot.index;
    node.persistedIndex = snapshot.index;
    node.config = snapshot.config;
  }
  node.ready.sendAfterPersist({
    type: "install-snapshot-response",
    from: node.options.id,
    to: message.from,
    term: node.hardState.term,
    matchIndex: node.log.lastIndex(),
    receivedBytes: snapshot.data.length,
    snapshotIndex: snapshot.index,
    done: true,
    empty: node.hardState.empty,
    sentAtMs: message.sentAtMs,
  });
}
