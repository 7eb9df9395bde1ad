import { assert } from "../../kernel/assert.js";
import { electionTimeoutMs } from "./election-timeout.js";
import type { RecoveredState } from "./inputs.js";
import { MemoryLog } from "./log.js";
import type { ConsensusOptions } from "./options.js";
import type { FollowerProgress } from "./progress.js";
import type { Ballot } from "./quorum.js";
import { ReadyBuilder } from "./ready-builder.js";
import type { Configuration, HardState, LogPosition, MemberDefinition, MemberId, Role } from "./types.js";

export interface PendingProposal {
  readonly index: number;
  readonly proposalId: number;
  readonly bytes: number;
}

/**
 * The state of one consensus member, shared by the modules that change it (one per role and
 * concern: election.ts, follower-replication.ts, leader-replication.ts, commit.ts, ...). Those
 * are functions over this state; the helpers here only read it or make small, self-contained
 * changes (hard state, election deadline). `ConsensusNode` in node.ts is the public face.
 */
export class NodeState {
  readonly options: ConsensusOptions;
  readonly log: MemoryLog;
  readonly ready = new ReadyBuilder();

  hardState: HardState;
  /**
   * The term durable on disk (recovered, or reported by `persisted` since). A member that lost
   * its data restarts at term 0, and while empty it adopts terms only from a leader's messages
   * or a vote request, never from a refused pre-vote; so a durable term above 0 on an empty
   * member is evidence that it took part since (see wouldGrant in election.ts).
   */
  durableTerm = 0;
  role: Role = "follower";
  leaderId: MemberId | null = null;
  nowMs: number;

  commitIndex: number;
  /** Highest index handed to the application through `apply`. */
  appliedIndex: number;
  /** Highest index known durable on this member's disk (reported by `persisted`). */
  persistedIndex: number;

  config: Configuration;

  electionDeadlineMs = 0;
  /** When this member last heard from a leader of its current term (stickiness, lease safety). */
  leaderContactMs = Number.NEGATIVE_INFINITY;
  lastUpToDate: LogPosition;

  /** This member's vote in `term` was a blind grant (election.ts handleVote); in memory only. */
  blindVote: { readonly term: number; readonly candidate: MemberId } | null = null;

  // Candidate state.
  readonly ballots = new Map<MemberId, Ballot>();

  // Leader state.
  readonly progress = new Map<MemberId, FollowerProgress>();
  pending: PendingProposal[] = [];
  pendingHead = 0;
  uncommittedBytes = 0;
  nextHeartbeatMs = 0;
  nextCheckQuorumMs = 0;
  /** The leader won with empty grants (see wonWithEmptyGrants in election.ts): empty followers count until its first entry commits. */
  forming = false;
  transfer: { readonly target: MemberId; readonly deadlineMs: number } | null = null;
  /**
   * The term in which this leader told a follower to campaign at once (transfer, removal). A
   * transfer vote skips the wait-out-the-lease rule, so from then on our lease proves nothing:
   * no more lease reads in this term.
   */
  timeoutNowTerm = 0;
  /** Index of this leader's first entry: reads and "caught up" need a commit at or past it. */
  termStartIndex = 0;
  /** Follower: the chunks of a snapshot being received (messages.ts InstallSnapshot). */
  incomingSnapshot: { readonly from: MemberId; readonly index: number; readonly term: number; readonly chunks: Uint8Array[]; bytes: number } | null = null;
  /** Highest index of this term a quorum holds in memory (`applyBeforeCommit`; early-apply.ts). */
  receivedQuorumIndex = 0;

  constructor(options: ConsensusOptions, recovered: RecoveredState, nowMs: number) {
    assert(options.definedMembers.length > 0, "a consensus group needs members");
    assert(options.electionTimeoutMinMs < options.electionTimeoutMaxMs, "election timeout range is empty");
    assert(options.leaderLeaseMs < options.electionTimeoutMinMs, "the lease must end before followers may vote again");
    this.options = options;
    this.nowMs = nowMs;
    this.hardState = recovered.hardState;
    this.durableTerm = recovered.hardState.term;
    this.log = new MemoryLog(recovered.snapshot, recovered.entries);
    this.commitIndex = this.log.snapshotIndex();
    this.appliedIndex = this.log.snapshotIndex();
    this.persistedIndex = this.log.lastIndex();
    this.config = this.configFromLog();
    this.lastUpToDate = this.log.lastPosition();
    if (recovered.snapshot) this.ready.restore(recovered.snapshot);
    this.resetElectionDeadline();
  }

  resetElectionDeadline(): void {
    this.electionDeadlineMs =
      this.nowMs +
      electionTimeoutMs(
        this.config,
        this.options.id,
        this.weightOf(this.options.id),
        this.options.electionTimeoutMinMs,
        this.options.electionTimeoutMaxMs,
        this.options.random,
      );
  }

  heardLeaderRecently(): boolean {
    if (this.role === "leader") return true;
    return this.leaderId !== null && this.nowMs - this.leaderContactMs < this.options.electionTimeoutMinMs;
  }

  setHardState(change: Partial<HardState>): void {
    this.hardState = { ...this.hardState, ...change };
    this.ready.persistHardState(this.hardState);
  }

  configFromLog(): Configuration {
    const entry = this.log.lastConfigEntry();
    if (entry?.config) return entry.config;
    const snapshot = this.log.snapshot();
    if (snapshot) return snapshot.config;
    return { voters: [...this.options.definedMembers], learners: [] };
  }

  knownMembers(): MemberDefinition[] {
    const byId = new Map<MemberId, MemberDefinition>();
    for (const member of [...this.options.definedMembers, ...this.config.voters, ...this.config.learners]) byId.set(member.id, member);
    return [...byId.values()];
  }

  weightOf(id: MemberId): number {
    const member = [...this.config.voters, ...this.config.learners, ...this.options.definedMembers].find((m) => m.id === id);
    return member?.weight ?? 1;
  }
}
