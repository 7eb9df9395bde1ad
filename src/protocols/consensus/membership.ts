// Single-member membership changes, one at a time, and the automatic ones: promoting a
// returning member, a removed leader stepping down.

import { assert, unreachable } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import { maybeCommit } from "./commit.js";
import type { MembershipChange } from "./inputs.js";
import { appendOwn, sendAppend } from "./leader-replication.js";
import { bestTransferTarget } from "./leadership-transfer.js";
import type { NodeState } from "./node-state.js";
import { FollowerProgress } from "./progress.js";
import { isMember, isVoter } from "./quorum.js";
import { becomeFollower } from "./roles.js";
import type { Configuration } from "./types.js";

export function changeMembership(node: NodeState, change: MembershipChange): void {
  const rejection = membershipRejection(node, change);
  if (rejection) {
    node.ready.notify({ type: "membership-rejected", reason: rejection });
    return;
  }
  appendConfig(node, nextConfiguration(node.config, change));
}

function membershipRejection(node: NodeState, change: MembershipChange): string | null {
  if (node.role !== "leader") return `not the leader (leader: ${node.leaderId ?? "unknown"})`;
  if (hasUncommittedConfig(node)) return "another membership change is still being committed";
  switch (change.action) {
    case "add-learner":
      if (isMember(node.config, change.member.id)) return `${change.member.id} is already a member`;
      if (node.config.voters.length + node.config.learners.length >= limits.membersMax) return `too many members (at most ${limits.membersMax})`;
      return null;
    case "promote": {
      if (!node.config.learners.some((member) => member.id === change.memberId)) return `${change.memberId} is not a learner`;
      const progress = node.progress.get(change.memberId);
      if (!progress || progress.empty) return `${change.memberId} has not caught up yet (still empty)`;
      if (node.log.lastIndex() - progress.matchIndex > node.options.learnerCatchUpEntriesMax)
        return `${change.memberId} is ${node.log.lastIndex() - progress.matchIndex} entries behind`;
      return null;
    }
    case "remove":
      if (!isMember(node.config, change.memberId)) return `${change.memberId} is not a member`;
      if (isVoter(node.config, change.memberId) && node.config.voters.length === 1) return "cannot remove the last voter";
      return null;
    default:
      return unreachable(change);
  }
}

function hasUncommittedConfig(node: NodeState): boolean {
  const last = node.log.lastConfigEntry();
  return last !== undefined && last.index > node.commitIndex;
}

export function appendConfig(node: NodeState, config: Configuration): void {
  appendOwn(node, { kind: "config", data: new Uint8Array(0), config });
  for (const member of [...config.voters, ...config.learners]) {
    if (member.id !== node.options.id && !node.progress.has(member.id)) {
      node.progress.set(member.id, new FollowerProgress(member.id, node.log.lastIndex() - 1, node.nowMs));
    }
  }
  for (const id of [...node.progress.keys()]) if (!isMember(config, id)) node.progress.delete(id);
  for (const progress of node.progress.values()) sendAppend(node, progress);
  maybeCommit(node);
}

/** A leader removed from the configuration leaves once the removal committed. */
export function maybeStepDownAfterRemoval(node: NodeState): void {
  if (node.role !== "leader" || isVoter(node.config, node.options.id) || hasUncommittedConfig(node)) return;
  const target = bestTransferTarget(node);
  becomeFollower(node, node.hardState.term, null);
  if (target) {
    node.timeoutNowTerm = node.hardState.term;
    node.ready.send({ type: "timeout-now", from: node.options.id, to: target, term: node.hardState.term });
  }
}

/**
 * Members defined in the realm that returned after a force quorum come back as learners;
 * once caught up (and no longer empty) they are promoted, one at a time.
 */
export function maybePromoteReturningMember(node: NodeState): void {
  if (hasUncommittedConfig(node) || node.transfer) return;
  for (const learner of node.config.learners) {
    if (!node.options.definedMembers.some((member) => member.id === learner.id)) continue;
    const progress = node.progress.get(learner.id);
    if (!progress || progress.empty) continue;
    if (node.log.lastIndex() - progress.matchIndex > node.options.learnerCatchUpEntriesMax) continue;
    appendConfig(node, nextConfiguration(node.config, { action: "promote", memberId: learner.id }));
    return;
  }
}

/** The configuration after one single-member change (Raft dissertation §4.1). */
export function nextConfiguration(config: Configuration, change: MembershipChange): Configuration {
  switch (change.action) {
    case "add-learner":
      return { voters: config.voters, learners: [...config.learners, change.member] };
    case "promote": {
      const member = config.learners.find((learner) => learner.id === change.memberId);
      assert(member !== undefined, `${change.memberId} is not a learner`);
      return {
        voters: [...config.voters, member],
        learners: config.learners.filter((learner) => learner.id !== change.memberId),
      };
    }
    case "remove":
      return {
        voters: config.voters.filter((member) => member.id !== change.memberId),
        learners: config.learners.filter((member) => member.id !== change.memberId),
      };
    default:
      return unreachable(change);
  }
}
