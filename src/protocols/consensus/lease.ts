// The leader lease, and whether this member's view is up to date now.

import type { NodeState } from "./node-state.js";
import { majorityOf } from "./quorum.js";

/** Leader lease: until when no other leader can exist (see limits.leaderLeaseMs). */
function leaseExpiresAtMs(node: NodeState): number {
  const sentTimes: number[] = [];
  for (const voter of node.config.voters) {
    if (voter.id === node.options.id) sentTimes.push(node.nowMs);
    else {
      const progress = node.progress.get(voter.id);
      if (progress && !progress.empty) sentTimes.push(progress.ackedSentAtMs);
    }
  }
  const needed = majorityOf(node.config.voters.length);
  if (sentTimes.length < needed) return Number.NEGATIVE_INFINITY;
  sentTimes.sort((a, b) => b - a);
  return (sentTimes[needed - 1] ?? Number.NEGATIVE_INFINITY) + node.options.leaderLeaseMs;
}

export function leaseValid(node: NodeState): boolean {
  return node.role === "leader" && node.nowMs < leaseExpiresAtMs(node);
}

export function isUpToDateNow(node: NodeState): boolean {
  if (node.hardState.empty) return false;
  if (node.role === "leader") return leaseValid(node);
  return node.heardLeaderRecently() && node.lastUpToDate.index >= node.commitIndex;
}
