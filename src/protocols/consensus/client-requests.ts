// Client requests: proposals with their admission limits, linearizable reads, snapshots taken.

import { assert } from "../../kernel/assert.js";
import { maybeCommit } from "./commit.js";
import type { ProposalRejection } from "./effects.js";
import type { Proposal } from "./inputs.js";
import { appendOwn, sendAppend } from "./leader-replication.js";
import { maybeQuorumReceived } from "./early-apply.js";
import { leaseValid } from "./lease.js";
import type { NodeState } from "./node-state.js";
import type { Snapshot } from "./types.js";

export function propose(node: NodeState, proposals: readonly Proposal[]): void {
  for (const proposal of proposals) {
    const rejection = proposalRejection(node, proposal);
    if (rejection) {
      node.ready.notify({ type: "proposal-rejected", proposalId: proposal.proposalId, reason: rejection, leaderId: node.leaderId });
      continue;
    }
    const entry = appendOwn(node, { kind: "command", data: proposal.data });
    node.pending.push({ index: entry.index, proposalId: proposal.proposalId, bytes: proposal.data.length });
    node.uncommittedBytes += proposal.data.length;
    if (node.options.applyBeforeCommit) node.ready.notifyEarly({ type: "appended", proposalId: proposal.proposalId, index: entry.index });
  }
  if (node.role !== "leader") return;
  for (const progress of node.progress.values()) sendAppend(node, progress);
  maybeQuorumReceived(node);
  maybeCommit(node);
}

function proposalRejection(node: NodeState, proposal: Proposal): ProposalRejection | null {
  if (node.role !== "leader") return "not-leader";
  if (node.transfer) return "transferring";
  if (proposal.data.length > node.options.proposalBytesMax) return "too-large";
  const pendingCount = node.pending.length - node.pendingHead;
  if (pendingCount >= node.options.pendingProposalsMax) return "overloaded";
  if (node.uncommittedBytes + proposal.data.length > node.options.uncommittedBytesMax) return "overloaded";
  return null;
}

export function read(node: NodeState, readId: number): void {
  if (node.role !== "leader") {
    node.ready.notify({ type: "read-rejected", readId, reason: "not-leader", leaderId: node.leaderId });
  } else if (node.commitIndex < node.termStartIndex) {
    // Until our no-op commits we do not know the full commit index.
    node.ready.notify({ type: "read-rejected", readId, reason: "no-commit-in-term", leaderId: node.leaderId });
  } else if (!leaseValid(node) || node.timeoutNowTerm === node.hardState.term) {
    node.ready.notify({ type: "read-rejected", readId, reason: "lease-expired", leaderId: node.leaderId });
  } else {
    node.ready.notify({ type: "read-ready", readId, index: node.commitIndex });
  }
}

export function snapshotTaken(node: NodeState, snapshot: Snapshot): void {
  if (snapshot.index <= node.log.snapshotIndex()) return;
  assert(snapshot.index <= node.appliedIndex, "snapshot of state not yet applied");
  // A leader applying before commit may hold state that never commits: never keep it.
  assert(snapshot.index <= node.commitIndex, `snapshot at ${snapshot.index} past the commit index ${node.commitIndex}`);
  node.log.compact(snapshot);
  node.ready.persistSnapshot(snapshot, false);
}
