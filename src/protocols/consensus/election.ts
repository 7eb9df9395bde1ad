// Elections: pre-vote and vote, on both sides (asking and granting), with the non-empty rule.

import type { PreVote, PreVoteResponse, Vote, VoteResponse } from "./messages.js";
import type { NodeState } from "./node-state.js";
import { isVoter, tallyVotes } from "./quorum.js";
import { becomeFollower, becomeLeader } from "./roles.js";
import type { MemberId } from "./types.js";

/**
 * Start an election. Pre-vote asks without changing anyone's term, so a member cut off by a
 * partition cannot disrupt a working leader when it returns (Raft §9.6).
 */
export function campaign(node: NodeState, kind: "pre-vote" | "vote", transfer = false): void {
  if (!isVoter(node.config, node.options.id)) {
    node.resetElectionDeadline();
    return;
  }
  node.ballots.clear();
  node.leaderId = null;
  node.resetElectionDeadline();
  const term = node.hardState.term + 1;
  if (kind === "pre-vote") {
    node.role = "pre-candidate";
  } else {
    node.role = "candidate";
    node.setHardState({ term, votedFor: node.options.id });
    node.ready.notify({ type: "role-changed", role: "candidate", term, leaderId: null });
  }
  node.ballots.set(node.options.id, { granted: true, empty: node.hardState.empty, blind: false });
  const ask = { from: node.options.id, term, lastIndex: node.log.lastIndex(), lastTerm: node.log.lastTerm(), empty: node.hardState.empty };
  for (const voter of node.config.voters) {
    if (voter.id === node.options.id) continue;
    // A real vote waits for our own vote to be durable before asking for others'.
    if (kind === "pre-vote") node.ready.send({ ...ask, type: "pre-vote", to: voter.id });
    else node.ready.sendAfterPersist({ ...ask, type: "vote", to: voter.id, transfer });
  }
  evaluateElection(node);
}

function evaluateElection(node: NodeState): void {
  const outcome = tallyVotes(node.config, node.ballots, node.hardState.empty);
  if (outcome === "pending") return;
  if (outcome === "lost") {
    becomeFollower(node, node.hardState.term, null);
    return;
  }
  if (node.role === "pre-candidate") campaign(node, "vote");
  else if (node.role === "candidate") becomeLeader(node, wonWithEmptyGrants(node));
}

/**
 * A first formation, or a unanimous election completed by empty members: nobody with
 * history is left out, so until the leader's first entry commits every follower counts.
 */
function wonWithEmptyGrants(node: NodeState): boolean {
  for (const ballot of node.ballots.values()) if (ballot.granted && ballot.empty) return true;
  return false;
}

/** A voter's answer: refuse, grant, or grant blind (see PreVoteResponse in messages.ts). */
type Grant = "refuse" | "grant" | "blind";

/**
 * May `candidate` lead, as far as this member can tell? Shared by pre-vote and vote.
 * Non-empty rule: a non-empty member never helps an empty candidate without history (a wiped
 * one). An empty candidate with history (its WAL tail was cut, or it lost its data and caught
 * up only in part) wins only with every voter's grant (quorum.ts), so a non-empty member may
 * judge it by the log rule: it grants only if the candidate holds all it holds. An empty
 * member's grant never counts toward a majority (quorum.ts); it only completes a unanimous
 * election. For a candidate with history it judges by the log rule if it took part since it lost
 * its data (it holds durable entries or a durable term: it voted in the first formation, or a
 * leader or a candidate reached it); otherwise it cannot judge, and grants blind: a unanimous
 * election counts that only if the members that could judge are a majority. So a member that
 * lost its data and heard from nobody since never helps elect when a majority lost theirs
 * (only force quorum can), yet does not block a unanimous election of the others.
 */
function wouldGrant(node: NodeState, candidate: MemberId, lastTerm: number, lastIndex: number, candidateEmpty: boolean): Grant {
  if (!isVoter(node.config, candidate)) return "refuse";
  if (!node.log.isUpToDate(lastTerm, lastIndex)) return "refuse";
  // Durable entries or a durable term prove this member took part since it lost its data: it
  // restarts at term 0, and while empty without entries it takes no term from refused
  // pre-votes (receive.ts), only from leaders and from candidates that passed these rules.
  // An empty candidate without history asks for a first formation, where nobody can judge.
  const formation = candidateEmpty && lastIndex === 0;
  if (node.hardState.empty) return formation || node.persistedIndex > 0 || node.durableTerm > 0 ? "grant" : "blind";
  return !candidateEmpty || lastIndex > 0 ? "grant" : "refuse";
}

export function handlePreVote(node: NodeState, message: PreVote): void {
  const grant =
    message.term > node.hardState.term && !node.heardLeaderRecently()
      ? wouldGrant(node, message.from, message.lastTerm, message.lastIndex, message.empty)
      : "refuse";
  const granted = grant !== "refuse";
  node.ready.send({
    type: "pre-vote-response",
    from: node.options.id,
    to: message.from,
    term: granted ? message.term : node.hardState.term,
    granted,
    empty: node.hardState.empty,
    blind: grant === "blind",
  });
}

export function handlePreVoteResponse(node: NodeState, message: PreVoteResponse): void {
  if (node.role !== "pre-candidate" || message.term !== node.hardState.term + 1) return;
  node.ballots.set(message.from, { granted: message.granted, empty: message.empty, blind: message.blind });
  evaluateElection(node);
}

export function handleVote(node: NodeState, message: Vote): void {
  const free = node.hardState.votedFor === null || node.hardState.votedFor === message.from;
  const grant: Grant =
    free && node.role !== "leader" && (message.transfer || !node.heardLeaderRecently() || node.leaderId === null)
      ? wouldGrant(node, message.from, message.lastTerm, message.lastIndex, message.empty)
      : "refuse";
  const granted = grant !== "refuse";
  // A repeated request gets the answer the first one got: the term it brought is durable by
  // now, which would otherwise read as having taken part before it.
  const repeated = node.blindVote !== null && node.blindVote.term === message.term && node.blindVote.candidate === message.from;
  const blind = grant === "blind" || (granted && repeated);
  if (granted) {
    node.setHardState({ votedFor: message.from });
    node.resetElectionDeadline();
    if (blind) node.blindVote = { term: message.term, candidate: message.from };
  }
  // After persist: the vote must survive a crash before the candidate can count it.
  node.ready.sendAfterPersist({
    type: "vote-response",
    from: node.options.id,
    to: message.from,
    term: node.hardState.term,
    granted,
    empty: node.hardState.empty,
    blind,
  });
}

export function handleVoteResponse(node: NodeState, message: VoteResponse): void {
  if (node.role !== "candidate") return;
  node.ballots.set(message.from, { granted: message.granted, empty: message.empty, blind: message.blind });
  evaluateElection(node);
}
