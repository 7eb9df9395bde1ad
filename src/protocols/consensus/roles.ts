// Role transitions: becoming a follower or a leader, and what a leader gives up when it stops.

import { assert } from "../../kernel/assert.js";
import { maybeCommit } from "./commit.js";
import { rollBackEarlyApply } from "./early-apply.js";
import { appendOwn, sendAppend } from "./leader-replication.js";
import type { NodeState } from "./node-state.js";
import { FollowerProgress } from "./progress.js";
import type { MemberId } from "./types.js";

export function becomeFollower(node: NodeState, term: number, leaderId: MemberId | null): void {
  const wasLeader = node.role === "leader";
  // A failed pre-vote changes nothing anyone else can see: no notification.
  const changed =
    (node.role !== "follower" && node.role !== "pre-candidate") || node.leaderId !== leaderId || node.hardState.term !== term;
  if (term > node.hardState.term) node.setHardState({ term, votedFor: null });
  node.role = "follower";
  node.leaderId = leaderId;
  node.ballots.clear();
  if (wasLeader) abandonLeadership(node);
  node.resetElectionDeadline();
  if (changed) node.ready.notify({ type: "role-changed", role: "follower", term, leaderId });
}

/** A leader that stops leading cannot know the fate of its uncommitted proposals. */
export function abandonLeadership(node: NodeState): void {
  for (let at = node.pendingHead; at < node.pending.length; at += 1) {
    const proposal = node.pending[at];
    if (proposal) node.ready.notify({ type: "proposal-unknown", proposalId: proposal.proposalId, leaderId: null });
  }
  node.pending = [];
  node.pendingHead = 0;
  node.uncommittedBytes = 0;
  node.progress.clear();
  node.transfer = null;
  node.forming = false;
  rollBackEarlyApply(node);
}

export function becomeLeader(node: NodeState, forming: boolean): void {
  assert(node.role === "candidate" || forming, "only a candidate becomes leader");
  node.role = "leader";
  node.leaderId = node.options.id;
  node.ballots.clear();
  node.forming = forming;
  node.transfer = null;
  node.progress.clear();
  node.receivedQuorumIndex = 0;
  for (const member of [...node.config.voters, ...node.config.learners]) {
    if (member.id === node.options.id) continue;
    node.progress.set(member.id, new FollowerProgress(member.id, node.log.lastIndex(), node.nowMs));
  }
  // A formation leader stays empty until its first entry commits: if it crashes before,
  // everyone is still empty and the cluster forms again.
  node.nextCheckQuorumMs = node.nowMs + node.options.electionTimeoutMinMs;
  node.nextHeartbeatMs = node.nowMs;
  node.ready.notify({ type: "role-changed", role: "leader", term: node.hardState.term, leaderId: node.options.id });
  // A no-op of our own term: committing it commits everything before it (Raft §5.4.2).
  appendOwn(node, { kind: "noop", data: new Uint8Array(0) });
  node.termStartIndex = node.log.lastIndex();
  for (const progress of node.progress.values()) sendAppend(node, progress, true);
  node.nextHeartbeatMs = node.nowMs + node.options.heartbeatIntervalMs;
  maybeCommit(node);
}
