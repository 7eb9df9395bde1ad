// The leader side of replication: what to send each follower, and what its answers mean.

import { assert } from "../../kernel/assert.js";
import { flushCommitted, maybeCommit } from "./commit.js";
import { applyEarly, maybeQuorumReceived } from "./early-apply.js";
import { maybeFinishTransfer } from "./leadership-transfer.js";
import type { AppendReceived, AppendResponse, InstallSnapshotResponse } from "./messages.js";
import type { NodeState } from "./node-state.js";
import type { FollowerProgress } from "./progress.js";
import type { Configuration, Entry, Snapshot } from "./types.js";

export function appendOwn(node: NodeState, body: { kind: Entry["kind"]; data: Uint8Array; config?: Configuration }): Entry {
  const entry: Entry = { index: node.log.lastIndex() + 1, term: node.hardState.term, ...body };
  node.log.append(entry);
  node.ready.persistEntry(entry);
  if (entry.config) node.config = entry.config;
  applyEarly(node);
  return entry;
}

export function heartbeat(node: NodeState, progress: FollowerProgress): void {
  const stallMs = 2 * node.options.heartbeatIntervalMs;
  // A lost append would stall the pipeline forever: fall back to probing.
  if (progress.mode === "replicate" && progress.isStalled(node.nowMs, stallMs)) progress.becomeProbe();
  // A lost snapshot (or its answer) is sent again once a full election timeout passed.
  if (progress.mode === "snapshot" && node.nowMs - progress.snapshotSentAtMs >= node.options.electionTimeoutMinMs) progress.becomeProbe();
  sendAppend(node, progress, true);
}

/**
 * Send what `progress` needs: entries from nextIndex in batches, pipelined up to the
 * in-flight bound; a probe at most once per heartbeat; a snapshot when the entries it needs
 * were compacted away. With `heartbeat`, send at least an empty append.
 */
export function sendAppend(node: NodeState, progress: FollowerProgress, heartbeat = false): void {
  if (progress.mode === "snapshot") {
    if (heartbeat) sendEmptyAppend(node, progress);
    return;
  }
  if (progress.nextIndex <= node.log.snapshotIndex()) {
    sendSnapshot(node, progress);
    return;
  }
  if (progress.mode === "probe") {
    if (!heartbeat && node.nowMs - progress.lastProbeAtMs < node.options.heartbeatIntervalMs) return;
    progress.lastProbeAtMs = node.nowMs;
    sendEntries(node, progress, progress.nextIndex, 1 + node.options.appendEntriesMax);
    return;
  }
  let sent = false;
  while (progress.inflight.length < node.options.inflightAppendsMax && progress.nextIndex <= node.log.lastIndex()) {
    const last = sendEntries(node, progress, progress.nextIndex, node.options.appendEntriesMax);
    progress.inflight.push(last);
    progress.nextIndex = last + 1;
    sent = true;
  }
  if (!sent && heartbeat) sendEmptyAppend(node, progress);
}

/** Returns the last index sent. */
function sendEntries(node: NodeState, progress: FollowerProgress, from: number, countMax: number): number {
  const prevIndex = from - 1;
  const prevTerm = node.log.term(prevIndex);
  assert(prevTerm !== undefined, `no term for ${prevIndex}`);
  const entries = node.log.slice(from, node.log.lastIndex(), countMax, node.options.appendBytesMax);
  sendAppendMessage(node, progress, prevIndex, prevTerm, entries);
  return prevIndex + entries.length;
}

/** A heartbeat that checks agreement at the follower's match point only. */
function sendEmptyAppend(node: NodeState, progress: FollowerProgress): void {
  const prevIndex = Math.max(progress.matchIndex, node.log.snapshotIndex());
  const prevTerm = node.log.term(prevIndex);
  if (prevTerm === undefined) return;
  sendAppendMessage(node, progress, prevIndex, prevTerm, []);
}

function sendAppendMessage(node: NodeState, progress: FollowerProgress, prevIndex: number, prevTerm: number, entries: Entry[]): void {
  node.ready.send({
    type: "append",
    from: node.options.id,
    to: progress.id,
    term: node.hardState.term,
    prevIndex,
    prevTerm,
    entries,
    // Always the true commit index, even on a heartbeat (the follower caps what it applies at
    // what it holds): an empty follower must not mistake a capped value for what we know.
    commitIndex: node.commitIndex,
    sentAtMs: node.nowMs,
    commitWithoutFollower: commitWithoutFollower(node, progress),
  });
}

function sendSnapshot(node: NodeState, progress: FollowerProgress): void {
  const snapshot = node.log.snapshot();
  assert(snapshot !== null, "compacted log without a snapshot");
  // A newer snapshot replaced the one in transfer: start it over. Else resume where the
  // follower is (it keeps what it received across a resend).
  if (progress.snapshotIndex !== snapshot.index) {
    progress.snapshotIndex = snapshot.index;
    progress.snapshotOffset = 0;
  }
  progress.mode = "snapshot";
  progress.inflight = [];
  sendSnapshotChunk(node, progress, snapshot);
}

/** The chunk at the follower's offset: one in flight, the next sent when it is answered. */
function sendSnapshotChunk(node: NodeState, progress: FollowerProgress, snapshot: Snapshot): void {
  const offset = Math.min(progress.snapshotOffset, snapshot.data.length);
  const end = Math.min(snapshot.data.length, offset + node.options.snapshotChunkBytes);
  progress.snapshotSentAtMs = node.nowMs;
  node.ready.send({
    type: "install-snapshot",
    from: node.options.id,
    to: progress.id,
    term: node.hardState.term,
    snapshot: { ...snapshot, data: snapshot.data.subarray(offset, end) },
    offset,
    done: end === snapshot.data.length,
    sentAtMs: node.nowMs,
  });
}

function noteResponse(node: NodeState, progress: FollowerProgress, sentAtMs: number, empty: boolean): void {
  progress.recentlyActive = true;
  progress.lastResponseAtMs = node.nowMs;
  progress.empty = empty;
  if (sentAtMs > progress.ackedSentAtMs) progress.ackedSentAtMs = sentAtMs;
  if (!empty) progress.emptyAtCommitIndex = null;
  else if (progress.emptyAtCommitIndex === null) progress.emptyAtCommitIndex = node.commitIndex;
}

export function handleAppendResponse(node: NodeState, message: AppendResponse): void {
  if (node.role !== "leader") return;
  const progress = node.progress.get(message.from);
  if (!progress) return;
  noteResponse(node, progress, message.sentAtMs, message.empty);
  if (message.success) {
    const advanced = progress.maybeUpdate(message.matchIndex, node.nowMs);
    // Agreement proven: stream from here (also ends snapshot mode once the follower holds
    // what the snapshot covers, even if the install answer itself was lost).
    if (progress.mode === "probe" || (progress.mode === "snapshot" && progress.matchIndex >= node.log.snapshotIndex())) progress.becomeReplicate();
    if (advanced) {
      maybeQuorumReceived(node);
      maybeCommit(node);
    }
    maybeFinishTransfer(node, progress);
  } else if (progress.mode !== "snapshot") {
    // A follower below its old match lost its data (a wiped disk comes back empty): forget
    // the match, or the leader would probe the same index forever.
    if (message.rejectHint < progress.matchIndex) progress.matchIndex = message.empty ? 0 : message.rejectHint;
    // Skip back to where the follower's log can possibly agree; probe again at once only
    // when that moved, else wait for the next heartbeat.
    const next = Math.max(progress.matchIndex + 1, Math.min(progress.nextIndex - 1, message.rejectHint + 1));
    const moved = next < progress.nextIndex || progress.mode === "replicate";
    const lastProbeAtMs = progress.lastProbeAtMs;
    progress.becomeProbe();
    progress.nextIndex = next;
    if (!moved) progress.lastProbeAtMs = lastProbeAtMs;
  }
  flushCommitted(node);
  if (node.role === "leader") sendAppend(node, progress);
}

/** A follower holds entries in memory (not yet durable): counts for `quorum-received` only. */
export function handleAppendReceived(node: NodeState, message: AppendReceived): void {
  if (node.role !== "leader") return;
  const progress = node.progress.get(message.from);
  if (!progress || message.matchIndex <= progress.receivedIndex) return;
  progress.receivedIndex = message.matchIndex;
  maybeQuorumReceived(node);
}

export function handleInstallSnapshotResponse(node: NodeState, message: InstallSnapshotResponse): void {
  if (node.role !== "leader") return;
  const progress = node.progress.get(message.from);
  if (!progress) return;
  noteResponse(node, progress, message.sentAtMs, message.empty);
  if (message.done) {
    progress.maybeUpdate(message.matchIndex, node.nowMs);
    progress.snapshotOffset = 0;
    progress.becomeProbe();
    sendAppend(node, progress, true);
    return;
  }
  if (progress.mode !== "snapshot") return;
  const snapshot = node.log.snapshot();
  if (snapshot === null) return;
  // The follower says which snapshot and how much of it it holds: go on from there, or from
  // the start when it holds another one (ours was replaced, or it lost what it had).
  if (message.snapshotIndex !== snapshot.index) {
    progress.snapshotIndex = snapshot.index;
    progress.snapshotOffset = 0;
  } else {
    progress.snapshotOffset = message.receivedBytes;
  }
  sendSnapshotChunk(node, progress, snapshot);
}

/** See Append.commitWithoutFollower. */
function commitWithoutFollower(node: NodeState, progress: FollowerProgress): boolean {
  return progress.empty && progress.emptyAtCommitIndex !== null && node.commitIndex > progress.emptyAtCommitIndex;
}

/**
 * An empty follower that caught up can only count again after our commit index advances
 * without it; in an idle cluster nothing would advance it, so commit a no-op. If no majority
 * without the follower is reachable the no-op stays uncommitted, and so does the follower's
 * vote: exactly FTL's rule.
 */
export function maybeCommitForEmptyFollower(node: NodeState): void {
  if (node.log.lastIndex() !== node.commitIndex) return;
  // Learners too: one returning after a force quorum is promoted only once it is non-empty.
  for (const progress of node.progress.values()) {
    if (!progress.empty || progress.emptyAtCommitIndex === null) continue;
    if (progress.matchIndex < node.commitIndex || commitWithoutFollower(node, progress)) continue;
    appendOwn(node, { kind: "noop", data: new Uint8Array(0) });
    for (const each of node.progress.values()) sendAppend(node, each);
    maybeCommit(node);
    return;
  }
}
