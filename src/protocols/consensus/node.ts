import { unreachable } from "../../kernel/assert.js";
import { propose, read, snapshotTaken } from "./client-requests.js";
import { persisted } from "./commit.js";
import type { Notification, Ready } from "./effects.js";
import { forceQuorum } from "./force-quorum.js";
import type { Input, RecoveredState } from "./inputs.js";
import { startTransfer } from "./leadership-transfer.js";
import { isUpToDateNow, leaseHeld } from "./lease.js";
import { changeMembership } from "./membership.js";
import { NodeState } from "./node-state.js";
import type { ConsensusOptions } from "./options.js";
import { receive } from "./receive.js";
import { tick } from "./tick.js";
import type { MemberStatus } from "./types.js";

/**
 * One member of a consensus group: Raft with pre-vote, check-quorum and leader leases, plus
 * FTL's quorum rules (weights, non-empty, first formation, force quorum). Pure and
 * synchronous: `step` takes time and one input, `takeReady` hands back effects as data.
 * See README.md beside this file for the state diagram and the rules in one page, and its
 * Files table for where each role and concern lives.
 */
export class ConsensusNode {
  private readonly state: NodeState;

  constructor(options: ConsensusOptions, recovered: RecoveredState, nowMs: number) {
    this.state = new NodeState(options, recovered, nowMs);
  }

  step(nowMs: number, input: Input): void {
    const node = this.state;
    // Time never runs backwards inside the protocol, whatever the clock did.
    if (nowMs > node.nowMs) node.nowMs = nowMs;
    switch (input.type) {
      case "tick":
        return tick(node);
      case "message":
        return receive(node, input.message);
      case "propose":
        return propose(node, input.proposals);
      case "read":
        return read(node, input.readId);
      case "persisted":
        return persisted(node, input.through, input.hardState ?? null);
      case "snapshot-taken":
        return snapshotTaken(node, input.snapshot);
      case "transfer-leadership":
        return startTransfer(node, input.to);
      case "change-membership":
        return changeMembership(node, input.change);
      case "force-quorum":
        return forceQuorum(node, input.reachable);
      default:
        return unreachable(input);
    }
  }

  hasReady(): boolean {
    return this.state.ready.hasAny();
  }

  takeReady(): Ready {
    return this.state.ready.take();
  }

  get commitIndex(): number {
    return this.state.commitIndex;
  }

  /** Leader with `applyBeforeCommit`: the highest entry a quorum holds in memory. */
  get quorumReceivedIndex(): number {
    return this.state.role === "leader" ? this.state.receivedQuorumIndex : 0;
  }

  /** See lease.ts `leaseHeld`: may this leader act alone at `nowMs`? A pure query. */
  leaseHeld(nowMs: number): boolean {
    return leaseHeld(this.state, nowMs);
  }

  status(): MemberStatus {
    const node = this.state;
    const upToDate = isUpToDateNow(node);
    const status: MemberStatus = {
      id: node.options.id,
      role: node.role,
      term: node.hardState.term,
      leaderId: node.leaderId,
      commitIndex: node.commitIndex,
      appliedIndex: node.appliedIndex,
      history: node.log.lastPosition(),
      consistency: upToDate ? "up-to-date" : { lastUpToDate: node.lastUpToDate },
      empty: node.hardState.empty,
      formed: !node.hardState.empty || node.log.lastIndex() > 0,
      voters: node.config.voters.map((member) => member.id),
      learners: node.config.learners.map((member) => member.id),
      weight: node.weightOf(node.options.id),
    };
    if (node.role !== "leader") return status;
    const followers = [...node.progress.values()].map((progress) => ({
      id: progress.id,
      matchIndex: progress.matchIndex,
      nextIndex: progress.nextIndex,
      empty: progress.empty,
      active: node.nowMs - progress.lastResponseAtMs < node.options.electionTimeoutMinMs,
      mode: progress.mode,
    }));
    return { ...status, followers };
  }
}

export { nextConfiguration } from "./membership.js";
export type { Notification };
