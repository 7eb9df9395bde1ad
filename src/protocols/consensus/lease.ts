// The leader lease, and whether this member's view is up to date now.

import type { NodeState } from "./node-state.js";
import { majorityOf } from "./quorum.js";

/** Leader lease: until when no other leader can exist (see limits.leaderLeaseMs). */
function leaseExpiresAtMs(node: NodeState, nowMs: number): number {
  const sentTimes: number[] = [];
  for (const voter of node.config.voters) {
    if (voter.id === node.options.id) sentTimes.push(nowMs);
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
  return leaseValidAt(node, node.nowMs);
}

/** The lease at a time of the caller's (never earlier than the node's own time). */
export function leaseValidAt(node: NodeState, nowMs: number): boolean {
  const at = Math.max(nowMs, node.nowMs);
  return node.role === "leader" && at < leaseExpiresAtMs(node, at);
}

/**
 * Whether this leader may act alone on its applied state at `nowMs`, as a lease read does: its
 * term's first entry has committed, its lease holds, and it has not handed leadership over.
 * A query: it changes nothing (the leader's delivery engine asks it before every delivery).
 */
export function leaseHeld(node: NodeState, nowMs: number): boolean {
  return node.role === "leader" && node.commitIndex >= node.termStartIndex && leaseValidAt(node, nowMs) && node.timeoutNowTerm !== node.hardState.term;
}

export function isUpToDateNow(node: NodeState): boolean {
  if (node.hardState.empty) return false;
  if (node.role === "leader") return leaseValid(node);
  return node.heardLeaderRecently() && node.lastUpToDate.index >= node.commitIndex;
}
