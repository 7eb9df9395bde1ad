// Time: the election timer of a non-leader, and a leader's check-quorum, heartbeats and
// promotion of returning members.

import { campaign } from "./election.js";
import { heartbeat, maybeCommitForEmptyFollower } from "./leader-replication.js";
import { isUpToDateNow } from "./lease.js";
import { maybePromoteReturningMember } from "./membership.js";
import type { NodeState } from "./node-state.js";
import { majorityOf } from "./quorum.js";
import { becomeFollower } from "./roles.js";

export function tick(node: NodeState): void {
  if (isUpToDateNow(node)) node.lastUpToDate = node.log.lastPosition();
  if (node.role === "leader") {
    tickLeader(node);
    return;
  }
  if (node.nowMs >= node.electionDeadlineMs) campaign(node, "pre-vote");
}

function tickLeader(node: NodeState): void {
  if (node.nowMs >= node.nextCheckQuorumMs) {
    node.nextCheckQuorumMs = node.nowMs + node.options.electionTimeoutMinMs;
    if (!hearsQuorum(node)) {
      // Check-quorum: a leader that cannot hear a majority steps down so clients go elsewhere.
      becomeFollower(node, node.hardState.term, null);
      return;
    }
    if (cannotCountMajority(node)) {
      // Every voter answers, but too many are empty for any commit to count, and so none can
      // prove us current to an empty follower: nothing would ever commit again. A new,
      // unanimous election can (election.ts); its leader counts every follower until its
      // first entry commits, which clears their empty state.
      becomeFollower(node, node.hardState.term, null);
      return;
    }
    for (const progress of node.progress.values()) progress.recentlyActive = false;
  }
  if (node.transfer && node.nowMs >= node.transfer.deadlineMs) {
    node.transfer = null;
    if (node.timeoutNowTerm === node.hardState.term) {
      // The target was told to campaign but no new term reached us (the message or its
      // campaign was lost). Voters may still skip the lease wait for it, so our lease proves
      // nothing for the rest of this term: without stepping down we would lead on without ever
      // serving a lease read or a delivery again (persistence simulator, seed 5, 5 members,
      // quorum-memory). A new term, perhaps ours again, brings a lease back.
      becomeFollower(node, node.hardState.term, null);
      return;
    }
  }
  if (node.nowMs >= node.nextHeartbeatMs) {
    node.nextHeartbeatMs = node.nowMs + node.options.heartbeatIntervalMs;
    for (const progress of node.progress.values()) heartbeat(node, progress);
  }
  maybePromoteReturningMember(node);
  maybeCommitForEmptyFollower(node);
}

function hearsQuorum(node: NodeState): boolean {
  let heard = 1;
  for (const voter of node.config.voters) {
    if (voter.id === node.options.id) continue;
    const progress = node.progress.get(voter.id);
    if (progress?.recentlyActive) heard += 1;
  }
  return heard >= majorityOf(node.config.voters.length);
}

/**
 * A leader past its formation whose voters all answered, fewer than a majority of them
 * (itself included) non-empty: a wiped member and one whose WAL tail was cut, in three.
 */
function cannotCountMajority(node: NodeState): boolean {
  if (node.forming) return false;
  let counting = 1;
  for (const voter of node.config.voters) {
    if (voter.id === node.options.id) continue;
    const progress = node.progress.get(voter.id);
    if (!progress?.recentlyActive) return false;
    if (!progress.empty) counting += 1;
  }
  return counting < majorityOf(node.config.voters.length);
}
