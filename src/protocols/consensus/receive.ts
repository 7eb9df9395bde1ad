// Every message enters here: term fencing and leader stickiness, then dispatch by type.

import { unreachable } from "../../kernel/assert.js";
import { campaign, handlePreVote, handlePreVoteResponse, handleVote, handleVoteResponse } from "./election.js";
import { handleAppend, handleInstallSnapshot } from "./follower-replication.js";
import { handleAppendReceived, handleAppendResponse, handleInstallSnapshotResponse } from "./leader-replication.js";
import type { Message } from "./messages.js";
import type { NodeState } from "./node-state.js";
import { becomeFollower } from "./roles.js";

export function receive(node: NodeState, message: Message): void {
  if (message.to !== node.options.id) return;
  // Pre-vote requests carry a future term and must not move ours; answers to our pre-vote
  // carry the term we asked for.
  if (message.type === "pre-vote") return handlePreVote(node, message);
  if (message.type === "pre-vote-response") {
    if (message.term > node.hardState.term + 1 || (!message.granted && message.term > node.hardState.term)) {
      // An empty member without entries takes no term from a refusal: its term must stay
      // evidence that a leader or a candidate reached it since it lost its data (wouldGrant,
      // election.ts). One with entries needs no such evidence, and must learn the term: after
      // a cut WAL tail its term may be below the others' and below its own last entry's.
      if (!node.hardState.empty || node.persistedIndex > 0) becomeFollower(node, message.term, null);
      return;
    }
    return handlePreVoteResponse(node, message);
  }
  if (message.term > node.hardState.term) {
    if (message.type === "vote" && !message.transfer && node.heardLeaderRecently()) {
      // Leader stickiness: a live leader's lease depends on us not voting yet. Ignore.
      return;
    }
    const leader = message.type === "append" || message.type === "install-snapshot" ? message.from : null;
    becomeFollower(node, message.term, leader);
  } else if (message.term < node.hardState.term) {
    rejectStale(node, message);
    return;
  }
  switch (message.type) {
    case "vote":
      return handleVote(node, message);
    case "vote-response":
      return handleVoteResponse(node, message);
    case "append":
      return handleAppend(node, message);
    case "append-response":
      return handleAppendResponse(node, message);
    case "append-received":
      return handleAppendReceived(node, message);
    case "install-snapshot":
      return handleInstallSnapshot(node, message);
    case "install-snapshot-response":
      return handleInstallSnapshotResponse(node, message);
    case "timeout-now":
      if (node.role !== "leader" && message.from === node.leaderId) campaign(node, "vote", true);
      return;
    default:
      return unreachable(message);
  }
}

/** Tell a sender from an older term that it is behind (term fencing). */
function rejectStale(node: NodeState, message: Message): void {
  const base = { from: node.options.id, to: message.from, term: node.hardState.term };
  if (message.type === "append") {
    node.ready.sendAfterPersist({
      ...base,
      type: "append-response",
      success: false,
      matchIndex: 0,
      rejectHint: node.log.lastIndex(),
      empty: node.hardState.empty,
      sentAtMs: message.sentAtMs,
    });
  } else if (message.type === "vote") {
    node.ready.sendAfterPersist({ ...base, type: "vote-response", granted: false, empty: node.hardState.empty, blind: false });
  }
}
