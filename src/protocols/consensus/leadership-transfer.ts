// Leadership transfer: catch the target up, then tell it to campaign at once.

import { sendAppend } from "./leader-replication.js";
import type { NodeState } from "./node-state.js";
import type { FollowerProgress } from "./progress.js";
import { isVoter } from "./quorum.js";
import type { MemberId } from "./types.js";

export function startTransfer(node: NodeState, to: MemberId | null): void {
  if (node.role !== "leader") return;
  const target = to ?? bestTransferTarget(node);
  if (!target || target === node.options.id || !isVoter(node.config, target)) return;
  node.transfer = { target, deadlineMs: node.nowMs + node.options.electionTimeoutMinMs };
  const progress = node.progress.get(target);
  if (progress) {
    maybeFinishTransfer(node, progress);
    sendAppend(node, progress);
  }
}

export function bestTransferTarget(node: NodeState): MemberId | null {
  let best: FollowerProgress | null = null;
  for (const voter of node.config.voters) {
    const progress = node.progress.get(voter.id);
    if (!progress || progress.empty) continue;
    if (!best || progress.matchIndex > best.matchIndex) best = progress;
    else if (progress.matchIndex === best.matchIndex && node.weightOf(progress.id) > node.weightOf(best.id)) best = progress;
  }
  return best?.id ?? null;
}

export function maybeFinishTransfer(node: NodeState, progress: FollowerProgress): void {
  if (!node.transfer || node.transfer.target !== progress.id) return;
  if (progress.matchIndex < node.log.lastIndex()) return;
  node.timeoutNowTerm = node.hardState.term;
  node.ready.send({ type: "timeout-now", from: node.options.id, to: progress.id, term: node.hardState.term });
}
