// Commit: counting the quorum, applying, acknowledging clients, and durability reports.

import { leaseValid } from "./lease.js";
import { maybeStepDownAfterRemoval } from "./membership.js";
import type { NodeState } from "./node-state.js";
import { quorumMatchIndex } from "./quorum.js";
import type { HardState, LogPosition } from "./types.js";

/** Advance the commit index to what a quorum of non-empty voters holds in this term. */
export function maybeCommit(node: NodeState): void {
  const quorumIndex = quorumMatchIndex(node.config, (id) => {
    if (id === node.options.id) return node.persistedIndex;
    const progress = node.progress.get(id);
    if (!progress) return null;
    // Non-empty rule; during a first formation nobody has history to lose, so all count.
    return progress.empty && !node.forming ? null : progress.matchIndex;
  });
  // Only entries of our own term commit by counting (Raft §5.4.2, figure 8).
  if (quorumIndex <= node.commitIndex || node.log.term(quorumIndex) !== node.hardState.term) return;
  advanceCommit(node, quorumIndex);
  if (node.forming && node.commitIndex >= node.termStartIndex) {
    node.forming = false;
    if (node.hardState.empty) node.setHardState({ empty: false });
  }
  flushCommitted(node);
  maybeStepDownAfterRemoval(node);
}

export function advanceCommit(node: NodeState, index: number): void {
  if (index <= node.commitIndex) return;
  node.commitIndex = index;
  if (index > node.appliedIndex) {
    node.ready.apply(node.log.slice(node.appliedIndex + 1, index, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    node.appliedIndex = index;
  }
}

/**
 * Tell clients their entries committed, but only while the lease holds: a leader that was
 * paused past its lease may find its entries committed yet must not acknowledge anything
 * once another leader may exist. They wait for the next heartbeat round to renew the lease.
 */
export function flushCommitted(node: NodeState): void {
  if (node.pendingHead >= node.pending.length || !leaseValid(node)) return;
  while (node.pendingHead < node.pending.length) {
    const proposal = node.pending[node.pendingHead];
    if (!proposal || proposal.index > node.commitIndex) break;
    node.ready.notify({ type: "committed", proposalId: proposal.proposalId, index: proposal.index, term: node.hardState.term });
    node.uncommittedBytes -= proposal.bytes;
    node.pendingHead += 1;
  }
  if (node.pendingHead > 1024 && node.pendingHead * 2 > node.pending.length) {
    node.pending = node.pending.slice(node.pendingHead);
    node.pendingHead = 0;
  }
}

export function persisted(node: NodeState, through: LogPosition | null, hardState: HardState | null): void {
  if (hardState) node.durableTerm = hardState.term;
  if (through === null || node.log.term(through.index) !== through.term) return;
  if (through.index <= node.persistedIndex) return;
  node.persistedIndex = Math.min(through.index, node.log.lastIndex());
  if (node.role === "leader") maybeCommit(node);
}
