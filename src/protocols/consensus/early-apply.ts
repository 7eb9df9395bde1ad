// Memory ack points (`applyBeforeCommit`): the leader applies its own log as it appends, learns
// when a quorum holds entries in memory, and rebuilds from what committed if it stops leading.

import type { NodeState } from "./node-state.js";
import { quorumMatchIndex } from "./quorum.js";
import type { Snapshot } from "./types.js";

const everything = Number.MAX_SAFE_INTEGER;

/**
 * Hand the application every entry in the leader's log past what it applied. While this
 * member leads, its log is never truncated, so every such entry commits unless leadership
 * ends first; then `rollBackEarlyApply` undoes them.
 */
export function applyEarly(node: NodeState): void {
  if (!node.options.applyBeforeCommit || node.role !== "leader") return;
  const last = node.log.lastIndex();
  if (node.appliedIndex >= last) return;
  for (const entry of node.log.slice(node.appliedIndex + 1, last, everything, everything)) node.ready.applyEarly(entry);
  node.appliedIndex = last;
}

/**
 * Leadership ended with entries applied that may never commit (another leader may overwrite
 * them): rebuild the application from the last snapshot (or the initial state, a snapshot at
 * index 0) and the committed entries after it. Leadership changes are rare; a rebuild costs
 * one replay of the entries since the last snapshot.
 */
export function rollBackEarlyApply(node: NodeState): void {
  if (node.appliedIndex <= node.commitIndex) return;
  const snapshot = node.log.snapshot() ?? initialState(node);
  node.ready.restore(snapshot);
  if (node.commitIndex > snapshot.index) node.ready.apply(node.log.slice(snapshot.index + 1, node.commitIndex, everything, everything));
  node.appliedIndex = node.commitIndex;
}

/** The application's state before any entry: restored as "start from nothing" (effects.ts). */
function initialState(node: NodeState): Snapshot {
  return { index: 0, term: 0, config: { voters: [...node.options.definedMembers], learners: [] }, data: new Uint8Array(0) };
}

/**
 * The highest entry of this term a quorum of counting voters holds in memory (the leader's
 * log, the followers' `append-received`), announced once per advance. It never commits
 * anything: commit still needs durable acknowledgments.
 */
export function maybeQuorumReceived(node: NodeState): void {
  if (!node.options.applyBeforeCommit || node.role !== "leader") return;
  const index = quorumMatchIndex(node.config, (id) => {
    if (id === node.options.id) return node.log.lastIndex();
    const progress = node.progress.get(id);
    if (!progress) return null;
    return progress.empty && !node.forming ? null : Math.max(progress.receivedIndex, progress.matchIndex);
  });
  if (index <= node.receivedQuorumIndex || node.log.term(index) !== node.hardState.term) return;
  node.receivedQuorumIndex = index;
  node.ready.notifyEarly({ type: "quorum-received", index });
}
