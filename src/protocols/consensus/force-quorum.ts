// FTL's force quorum (operator command).

import type { ForceQuorumReport } from "./effects.js";
import { appendConfig } from "./membership.js";
import type { NodeState } from "./node-state.js";
import { abandonLeadership, becomeLeader } from "./roles.js";
import type { Configuration, MemberId } from "./types.js";

/**
 * FTL's force quorum. Operators pick the most up-to-date reachable member (status shows each
 * member's history) and force it: it leads a new term with the reachable members as voters.
 * Every defined member left out becomes a learner and rejoins automatically when it returns.
 */
export function forceQuorum(node: NodeState, reachable: readonly MemberId[]): void {
  if (node.hardState.empty) {
    node.ready.notify({ type: "membership-rejected", reason: "force quorum refused: this member is empty (it has no trustworthy data)" });
    return;
  }
  const voterIdsForced = new Set([node.options.id, ...reachable]);
  const all = node.knownMembers();
  const voters = all.filter((member) => voterIdsForced.has(member.id));
  const learners = all.filter((member) => !voterIdsForced.has(member.id));
  const kept = node.log.lastPosition();
  const knownCommittedIndex = node.commitIndex;
  if (node.role === "leader") abandonLeadership(node);
  node.role = "candidate";
  node.setHardState({ term: node.hardState.term + 1, votedFor: node.options.id });
  const newConfig: Configuration = { voters, learners };
  node.config = newConfig;
  becomeLeader(node, false);
  appendConfig(node, newConfig);
  const report: ForceQuorumReport = {
    leaderId: node.options.id,
    term: node.hardState.term,
    voters: voters.map((member) => member.id),
    unreachable: learners.map((member) => member.id),
    kept,
    mayBeLostAfterIndex: kept.index,
    knownCommittedIndex,
  };
  node.ready.notify({ type: "force-quorum", report });
}
