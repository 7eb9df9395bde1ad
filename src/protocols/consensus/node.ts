import { assert, unreachable } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { ForceQuorumReport, Notification, ProposalRejection, Ready } from "./effects.js";
import { electionTimeoutMs } from "./election-timeout.js";
import type { Input, MembershipChange, Proposal, RecoveredState } from "./inputs.js";
import { MemoryLog } from "./log.js";
import type {
  Append,
  AppendResponse,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  PreVote,
  PreVoteResponse,
  Vote,
  VoteResponse,
} from "./messages.js";
import type { ConsensusOptions } from "./options.js";
import { FollowerProgress } from "./progress.js";
import { isMember, isVoter, majorityOf, quorumMatchIndex, tallyVotes, type Ballot } from "./quorum.js";
import { ReadyBuilder } from "./ready-builder.js";
import type {
  Configuration,
  Entry,
  HardState,
  LogPosition,
  MemberDefinition,
  MemberId,
  MemberStatus,
  Role,
  Snapshot,
} from "./types.js";

interface PendingProposal {
  readonly index: number;
  readonly proposalId: number;
  readonly bytes: number;
}

/**
 * One member of a consensus group: Raft with pre-vote, check-quorum and leader leases, plus
 * FTL's quorum rules (weights, non-empty, first formation, force quorum). Pure and
 * synchronous: `step` takes time and one input, `takeReady` hands back effects as data.
 * See README.md beside this file for the state diagram and the rules in one page.
 */
export class ConsensusNode {
  private readonly options: ConsensusOptions;
  private readonly log: MemoryLog;
  private readonly ready = new ReadyBuilder();

  private hardState: HardState;
  /**
   * A vote of this member is durable (recovered, or persisted since). A member that lost its
   * data restarts with none; it votes again only in a first formation or once a leader reached
   * it, so this is evidence that it took part since (see wouldGrant).
   */
  private votedSinceDataLoss = false;
  private role: Role = "follower";
  private leaderId: MemberId | null = null;
  private nowMs: number;

  private commitIndex: number;
  /** Highest index handed to the application through `apply`. */
  private appliedIndex: number;
  /** Highest index known durable on this member's disk (reported by `persisted`). */
  private persistedIndex: number;

  private config: Configuration;

  private electionDeadlineMs = 0;
  /** When this member last heard from a leader of its current term (stickiness, lease safety). */
  private leaderContactMs = Number.NEGATIVE_INFINITY;
  private lastUpToDate: LogPosition;

  // Candidate state.
  private ballots = new Map<MemberId, Ballot>();

  // Leader state.
  private progress = new Map<MemberId, FollowerProgress>();
  private pending: PendingProposal[] = [];
  private pendingHead = 0;
  private uncommittedBytes = 0;
  private nextHeartbeatMs = 0;
  private nextCheckQuorumMs = 0;
  /** The leader won with empty grants (see wonWithEmptyGrants): empty followers count until its first entry commits. */
  private forming = false;
  private transfer: { readonly target: MemberId; readonly deadlineMs: number } | null = null;
  /** Index of this leader's first entry: reads and "caught up" need a commit at or past it. */
  private termStartIndex = 0;

  constructor(options: ConsensusOptions, recovered: RecoveredState, nowMs: number) {
    assert(options.definedMembers.length > 0, "a consensus group needs members");
    assert(options.electionTimeoutMinMs < options.electionTimeoutMaxMs, "election timeout range is empty");
    assert(options.leaderLeaseMs < options.electionTimeoutMinMs, "the lease must end before followers may vote again");
    this.options = options;
    this.nowMs = nowMs;
    this.hardState = recovered.hardState;
    this.votedSinceDataLoss = recovered.hardState.votedFor !== null;
    this.log = new MemoryLog(recovered.snapshot, recovered.entries);
    this.commitIndex = this.log.snapshotIndex();
    this.appliedIndex = this.log.snapshotIndex();
    this.persistedIndex = this.log.lastIndex();
    this.config = this.configFromLog();
    this.lastUpToDate = this.log.lastPosition();
    if (recovered.snapshot) this.ready.restore(recovered.snapshot);
    this.resetElectionDeadline();
  }

  // ---------------------------------------------------------------------------------------
  // Public surface
  // ---------------------------------------------------------------------------------------

  step(nowMs: number, input: Input): void {
    // Time never runs backwards inside the protocol, whatever the clock did.
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    switch (input.type) {
      case "tick":
        return this.tick();
      case "message":
        return this.receive(input.message);
      case "propose":
        return this.propose(input.proposals);
      case "read":
        return this.read(input.readId);
      case "persisted":
        return this.persisted(input.through, input.hardState ?? null);
      case "snapshot-taken":
        return this.snapshotTaken(input.snapshot);
      case "transfer-leadership":
        return this.startTransfer(input.to);
      case "change-membership":
        return this.changeMembership(input.change);
      case "force-quorum":
        return this.forceQuorum(input.reachable);
      default:
        return unreachable(input);
    }
  }

  hasReady(): boolean {
    return this.ready.hasAny();
  }

  takeReady(): Ready {
    return this.ready.take();
  }

  status(): MemberStatus {
    const upToDate = this.isUpToDateNow();
    const status: MemberStatus = {
      id: this.options.id,
      role: this.role,
      term: this.hardState.term,
      leaderId: this.leaderId,
      commitIndex: this.commitIndex,
      appliedIndex: this.appliedIndex,
      history: this.log.lastPosition(),
      consistency: upToDate ? "up-to-date" : { lastUpToDate: this.lastUpToDate },
      empty: this.hardState.empty,
      formed: !this.hardState.empty || this.log.lastIndex() > 0,
      voters: this.config.voters.map((member) => member.id),
      learners: this.config.learners.map((member) => member.id),
      weight: this.weightOf(this.options.id),
    };
    if (this.role !== "leader") return status;
    const followers = [...this.progress.values()].map((progress) => ({
      id: progress.id,
      matchIndex: progress.matchIndex,
      nextIndex: progress.nextIndex,
      empty: progress.empty,
      active: this.nowMs - progress.lastResponseAtMs < this.options.electionTimeoutMinMs,
      mode: progress.mode,
    }));
    return { ...status, followers };
  }

  // ---------------------------------------------------------------------------------------
  // Time
  // ---------------------------------------------------------------------------------------

  private tick(): void {
    if (this.isUpToDateNow()) this.lastUpToDate = this.log.lastPosition();
    if (this.role === "leader") {
      this.tickLeader();
      return;
    }
    if (this.nowMs >= this.electionDeadlineMs) this.campaign("pre-vote");
  }

  private tickLeader(): void {
    if (this.nowMs >= this.nextCheckQuorumMs) {
      this.nextCheckQuorumMs = this.nowMs + this.options.electionTimeoutMinMs;
      if (!this.hearsQuorum()) {
        // Check-quorum: a leader that cannot hear a majority steps down so clients go elsewhere.
        this.becomeFollower(this.hardState.term, null);
        return;
      }
      for (const progress of this.progress.values()) progress.recentlyActive = false;
    }
    if (this.transfer && this.nowMs >= this.transfer.deadlineMs) this.transfer = null;
    if (this.nowMs >= this.nextHeartbeatMs) {
      this.nextHeartbeatMs = this.nowMs + this.options.heartbeatIntervalMs;
      for (const progress of this.progress.values()) this.heartbeat(progress);
    }
    this.maybePromoteReturningMember();
  }

  private hearsQuorum(): boolean {
    let heard = 1;
    for (const voter of this.config.voters) {
      if (voter.id === this.options.id) continue;
      const progress = this.progress.get(voter.id);
      if (progress?.recentlyActive) heard += 1;
    }
    return heard >= majorityOf(this.config.voters.length);
  }

  private resetElectionDeadline(): void {
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

  // ---------------------------------------------------------------------------------------
  // Roles
  // ---------------------------------------------------------------------------------------

  private becomeFollower(term: number, leaderId: MemberId | null): void {
    const wasLeader = this.role === "leader";
    // A failed pre-vote changes nothing anyone else can see: no notification.
    const changed =
      (this.role !== "follower" && this.role !== "pre-candidate") || this.leaderId !== leaderId || this.hardState.term !== term;
    if (term > this.hardState.term) this.setHardState({ term, votedFor: null });
    this.role = "follower";
    this.leaderId = leaderId;
    this.ballots.clear();
    if (wasLeader) this.abandonLeadership();
    this.resetElectionDeadline();
    if (changed) this.ready.notify({ type: "role-changed", role: "follower", term, leaderId });
  }

  /** A leader that stops leading cannot know the fate of its uncommitted proposals. */
  private abandonLeadership(): void {
    for (let at = this.pendingHead; at < this.pending.length; at += 1) {
      const proposal = this.pending[at];
      if (proposal) this.ready.notify({ type: "proposal-unknown", proposalId: proposal.proposalId, leaderId: null });
    }
    this.pending = [];
    this.pendingHead = 0;
    this.uncommittedBytes = 0;
    this.progress.clear();
    this.transfer = null;
    this.forming = false;
  }

  /**
   * Start an election. Pre-vote asks without changing anyone's term, so a member cut off by a
   * partition cannot disrupt a working leader when it returns (Raft §9.6).
   */
  private campaign(kind: "pre-vote" | "vote", transfer = false): void {
    if (!isVoter(this.config, this.options.id)) {
      this.resetElectionDeadline();
      return;
    }
    this.ballots.clear();
    this.leaderId = null;
    this.resetElectionDeadline();
    const term = this.hardState.term + 1;
    if (kind === "pre-vote") {
      this.role = "pre-candidate";
    } else {
      this.role = "candidate";
      this.setHardState({ term, votedFor: this.options.id });
      this.ready.notify({ type: "role-changed", role: "candidate", term, leaderId: null });
    }
    this.ballots.set(this.options.id, { granted: true, empty: this.hardState.empty });
    const ask = { from: this.options.id, term, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm(), empty: this.hardState.empty };
    for (const voter of this.config.voters) {
      if (voter.id === this.options.id) continue;
      // A real vote waits for our own vote to be durable before asking for others'.
      if (kind === "pre-vote") this.ready.send({ ...ask, type: "pre-vote", to: voter.id });
      else this.ready.sendAfterPersist({ ...ask, type: "vote", to: voter.id, transfer });
    }
    this.evaluateElection();
  }

  private evaluateElection(): void {
    const outcome = tallyVotes(this.config, this.ballots, this.hardState.empty);
    if (outcome === "pending") return;
    if (outcome === "lost") {
      this.becomeFollower(this.hardState.term, null);
      return;
    }
    if (this.role === "pre-candidate") this.campaign("vote");
    else if (this.role === "candidate") this.becomeLeader(this.wonWithEmptyGrants());
  }

  /**
   * A first formation, or a unanimous election completed by empty members: nobody with
   * history is left out, so until the leader's first entry commits every follower counts.
   */
  private wonWithEmptyGrants(): boolean {
    for (const ballot of this.ballots.values()) if (ballot.granted && ballot.empty) return true;
    return false;
  }

  private becomeLeader(forming: boolean): void {
    assert(this.role === "candidate" || forming, "only a candidate becomes leader");
    this.role = "leader";
    this.leaderId = this.options.id;
    this.ballots.clear();
    this.forming = forming;
    this.transfer = null;
    this.progress.clear();
    for (const member of [...this.config.voters, ...this.config.learners]) {
      if (member.id === this.options.id) continue;
      this.progress.set(member.id, new FollowerProgress(member.id, this.log.lastIndex(), this.nowMs));
    }
    // A formation leader stays empty until its first entry commits: if it crashes before,
    // everyone is still empty and the cluster forms again.
    this.nextCheckQuorumMs = this.nowMs + this.options.electionTimeoutMinMs;
    this.nextHeartbeatMs = this.nowMs;
    this.ready.notify({ type: "role-changed", role: "leader", term: this.hardState.term, leaderId: this.options.id });
    // A no-op of our own term: committing it commits everything before it (Raft §5.4.2).
    this.appendOwn({ kind: "noop", data: new Uint8Array(0) });
    this.termStartIndex = this.log.lastIndex();
    for (const progress of this.progress.values()) this.sendAppend(progress, true);
    this.nextHeartbeatMs = this.nowMs + this.options.heartbeatIntervalMs;
    this.maybeCommit();
  }

  // ---------------------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------------------

  private receive(message: Message): void {
    if (message.to !== this.options.id) return;
    // Pre-vote requests carry a future term and must not move ours; answers to our pre-vote
    // carry the term we asked for.
    if (message.type === "pre-vote") return this.handlePreVote(message);
    if (message.type === "pre-vote-response") {
      if (message.term > this.hardState.term + 1 || (!message.granted && message.term > this.hardState.term)) {
        this.becomeFollower(message.term, null);
        return;
      }
      return this.handlePreVoteResponse(message);
    }
    if (message.term > this.hardState.term) {
      if (message.type === "vote" && !message.transfer && this.heardLeaderRecently()) {
        // Leader stickiness: a live leader's lease depends on us not voting yet. Ignore.
        return;
      }
      const leader = message.type === "append" || message.type === "install-snapshot" ? message.from : null;
      this.becomeFollower(message.term, leader);
    } else if (message.term < this.hardState.term) {
      this.rejectStale(message);
      return;
    }
    switch (message.type) {
      case "vote":
        return this.handleVote(message);
      case "vote-response":
        return this.handleVoteResponse(message);
      case "append":
        return this.handleAppend(message);
      case "append-response":
        return this.handleAppendResponse(message);
      case "install-snapshot":
        return this.handleInstallSnapshot(message);
      case "install-snapshot-response":
        return this.handleInstallSnapshotResponse(message);
      case "timeout-now":
        if (this.role !== "leader" && message.from === this.leaderId) this.campaign("vote", true);
        return;
      default:
        return unreachable(message);
    }
  }

  /** Tell a sender from an older term that it is behind (term fencing). */
  private rejectStale(message: Message): void {
    const base = { from: this.options.id, to: message.from, term: this.hardState.term };
    if (message.type === "append") {
      this.ready.sendAfterPersist({
        ...base,
        type: "append-response",
        success: false,
        matchIndex: 0,
        rejectHint: this.log.lastIndex(),
        empty: this.hardState.empty,
        sentAtMs: message.sentAtMs,
      });
    } else if (message.type === "vote") {
      this.ready.sendAfterPersist({ ...base, type: "vote-response", granted: false, empty: this.hardState.empty });
    }
  }

  private heardLeaderRecently(): boolean {
    if (this.role === "leader") return true;
    return this.leaderId !== null && this.nowMs - this.leaderContactMs < this.options.electionTimeoutMinMs;
  }

  /**
   * May `candidate` lead, as far as this member can tell? Shared by pre-vote and vote.
   * Non-empty rule: a non-empty member never helps an empty candidate. An empty member's grant
   * never counts toward a majority (quorum.ts); it only completes a unanimous election, and
   * for a non-empty candidate only if this member took part since it lost its data (it holds
   * durable entries or a durable vote: it voted in the first formation, or a leader reached it).
   * A member that lost its data and heard from nobody since refuses: then only a majority of
   * non-empty members, or an operator's force quorum, can elect.
   */
  private wouldGrant(candidate: MemberId, lastTerm: number, lastIndex: number, candidateEmpty: boolean): boolean {
    if (!isVoter(this.config, candidate)) return false;
    if (!this.log.isUpToDate(lastTerm, lastIndex)) return false;
    // Durable entries or a durable vote prove this member took part since it lost its data (it
    // voted in the first formation, or followed a leader). A term alone proves nothing: a
    // refused pre-vote hands any member a term.
    if (this.hardState.empty) return candidateEmpty || this.persistedIndex > 0 || this.votedSinceDataLoss;
    return !candidateEmpty;
  }

  private handlePreVote(message: PreVote): void {
    const granted =
      message.term > this.hardState.term &&
      !this.heardLeaderRecently() &&
      this.wouldGrant(message.from, message.lastTerm, message.lastIndex, message.empty);
    this.ready.send({
      type: "pre-vote-response",
      from: this.options.id,
      to: message.from,
      term: granted ? message.term : this.hardState.term,
      granted,
      empty: this.hardState.empty,
    });
  }

  private handlePreVoteResponse(message: PreVoteResponse): void {
    if (this.role !== "pre-candidate" || message.term !== this.hardState.term + 1) return;
    this.ballots.set(message.from, { granted: message.granted, empty: message.empty });
    this.evaluateElection();
  }

  private handleVote(message: Vote): void {
    const free = this.hardState.votedFor === null || this.hardState.votedFor === message.from;
    const granted =
      free &&
      this.role !== "leader" &&
      (message.transfer || !this.heardLeaderRecently() || this.leaderId === null) &&
      this.wouldGrant(message.from, message.lastTerm, message.lastIndex, message.empty);
    if (granted) {
      this.setHardState({ votedFor: message.from });
      this.resetElectionDeadline();
    }
    // After persist: the vote must survive a crash before the candidate can count it.
    this.ready.sendAfterPersist({
      type: "vote-response",
      from: this.options.id,
      to: message.from,
      term: this.hardState.term,
      granted,
      empty: this.hardState.empty,
    });
  }

  private handleVoteResponse(message: VoteResponse): void {
    if (this.role !== "candidate") return;
    this.ballots.set(message.from, { granted: message.granted, empty: message.empty });
    this.evaluateElection();
  }

  // ---------------------------------------------------------------------------------------
  // Follower side of replication
  // ---------------------------------------------------------------------------------------

  private acceptLeader(leaderId: MemberId): void {
    if (this.role !== "follower" || this.leaderId !== leaderId) this.becomeFollower(this.hardState.term, leaderId);
    this.leaderContactMs = this.nowMs;
    this.resetElectionDeadline();
    // Having followed this leader in this term, we must never vote for another in it, even if
    // our vote record was lost with a wiped disk.
    if (this.hardState.votedFor === null) this.setHardState({ votedFor: leaderId });
  }

  private handleAppend(message: Append): void {
    assert(this.role !== "leader", `two leaders in term ${message.term}: ${this.options.id} and ${message.from}`);
    this.acceptLeader(message.from);
    let prevIndex = message.prevIndex;
    let entries = message.entries;
    // Entries already covered by our snapshot are committed, hence identical: skip them.
    if (prevIndex < this.log.snapshotIndex()) {
      const skip = this.log.snapshotIndex() - prevIndex;
      if (skip >= entries.length) {
        this.respondAppend(message, true, this.log.snapshotIndex());
        return;
      }
      entries = entries.slice(skip);
      prevIndex = this.log.snapshotIndex();
    } else if (this.log.term(prevIndex) !== message.prevTerm) {
      this.respondAppend(message, false, 0);
      return;
    }
    const lastNewIndex = prevIndex + entries.length;
    for (const entry of entries) {
      const existing = this.log.term(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) {
        assert(entry.index > this.commitIndex, `leader ${message.from} overwrites committed entry ${entry.index}`);
        this.truncateFrom(entry.index);
      }
      this.log.append(entry);
      this.ready.persistEntry(entry);
      if (entry.kind === "config" && entry.config) this.config = entry.config;
    }
    this.advanceCommit(Math.min(message.commitIndex, lastNewIndex));
    this.maybeLeaveEmpty(message.commitIndex, message.term, lastNewIndex);
    if (lastNewIndex >= message.commitIndex) this.lastUpToDate = { term: message.term, index: lastNewIndex };
    this.respondAppend(message, true, lastNewIndex);
  }

  private truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    this.ready.persistTruncate(index);
    this.persistedIndex = Math.min(this.persistedIndex, index - 1);
    this.config = this.configFromLog();
  }

  /**
   * Non-empty rule: an empty member counts again once its log holds everything the leader
   * knows committed. The leader's commit index proves that only once it covers an entry of the
   * leader's own term (before that it may lag what earlier leaders committed).
   */
  private maybeLeaveEmpty(leaderCommitIndex: number, leaderTerm: number, matchIndex: number): void {
    if (!this.hardState.empty) return;
    if (leaderCommitIndex < 1 || matchIndex < leaderCommitIndex) return;
    if (this.log.term(leaderCommitIndex) !== leaderTerm) return;
    this.setHardState({ empty: false });
  }

  private respondAppend(message: Append, success: boolean, matchIndex: number): void {
    const lastIndex = this.log.lastIndex();
    this.ready.sendAfterPersist({
      type: "append-response",
      from: this.options.id,
      to: message.from,
      term: this.hardState.term,
      success,
      matchIndex: success ? matchIndex : 0,
      rejectHint: success ? 0 : Math.min(lastIndex, message.prevIndex - 1),
      empty: this.hardState.empty,
      sentAtMs: message.sentAtMs,
    });
  }

  private handleInstallSnapshot(message: InstallSnapshot): void {
    this.acceptLeader(message.from);
    const snapshot = message.snapshot;
    if (snapshot.index > this.commitIndex && this.log.term(snapshot.index) === snapshot.term) {
      // Our log already holds the snapshot's last entry: keep what follows it (Raft §7).
      this.advanceCommit(snapshot.index);
    } else if (snapshot.index > this.commitIndex) {
      this.log.restore(snapshot);
      this.ready.persistSnapshot(snapshot, true);
      this.ready.restore(snapshot);
      this.commitIndex = snapshot.index;
      this.appliedIndex = snapshot.index;
      this.persistedIndex = snapshot.index;
      this.config = snapshot.config;
    }
    this.ready.sendAfterPersist({
      type: "install-snapshot-response",
      from: this.options.id,
      to: message.from,
      term: this.hardState.term,
      matchIndex: this.log.lastIndex(),
      empty: this.hardState.empty,
      sentAtMs: message.sentAtMs,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Leader side of replication
  // ---------------------------------------------------------------------------------------

  private appendOwn(body: { kind: Entry["kind"]; data: Uint8Array; config?: Configuration }): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.hardState.term, ...body };
    this.log.append(entry);
    this.ready.persistEntry(entry);
    if (entry.config) this.config = entry.config;
    return entry;
  }

  private heartbeat(progress: FollowerProgress): void {
    const stallMs = 2 * this.options.heartbeatIntervalMs;
    // A lost append would stall the pipeline forever: fall back to probing.
    if (progress.mode === "replicate" && progress.isStalled(this.nowMs, stallMs)) progress.becomeProbe();
    // A lost snapshot (or its answer) is sent again once a full election timeout passed.
    if (progress.mode === "snapshot" && this.nowMs - progress.snapshotSentAtMs >= this.options.electionTimeoutMinMs) progress.becomeProbe();
    this.sendAppend(progress, true);
  }

  /**
   * Send what `progress` needs: entries from nextIndex in batches, pipelined up to the
   * in-flight bound; a probe at most once per heartbeat; a snapshot when the entries it needs
   * were compacted away. With `heartbeat`, send at least an empty append.
   */
  private sendAppend(progress: FollowerProgress, heartbeat = false): void {
    if (progress.mode === "snapshot") {
      if (heartbeat) this.sendEmptyAppend(progress);
      return;
    }
    if (progress.nextIndex <= this.log.snapshotIndex()) {
      this.sendSnapshot(progress);
      return;
    }
    if (progress.mode === "probe") {
      if (!heartbeat && this.nowMs - progress.lastProbeAtMs < this.options.heartbeatIntervalMs) return;
      progress.lastProbeAtMs = this.nowMs;
      this.sendEntries(progress, progress.nextIndex, 1 + this.options.appendEntriesMax);
      return;
    }
    let sent = false;
    while (progress.inflight.length < this.options.inflightAppendsMax && progress.nextIndex <= this.log.lastIndex()) {
      const last = this.sendEntries(progress, progress.nextIndex, this.options.appendEntriesMax);
      progress.inflight.push(last);
      progress.nextIndex = last + 1;
      sent = true;
    }
    if (!sent && heartbeat) this.sendEmptyAppend(progress);
  }

  /** Returns the last index sent. */
  private sendEntries(progress: FollowerProgress, from: number, countMax: number): number {
    const prevIndex = from - 1;
    const prevTerm = this.log.term(prevIndex);
    assert(prevTerm !== undefined, `no term for ${prevIndex}`);
    const entries = this.log.slice(from, this.log.lastIndex(), countMax, this.options.appendBytesMax);
    this.ready.send({
      type: "append",
      from: this.options.id,
      to: progress.id,
      term: this.hardState.term,
      prevIndex,
      prevTerm,
      entries,
      commitIndex: this.commitIndex,
      sentAtMs: this.nowMs,
    });
    return prevIndex + entries.length;
  }

  /** A heartbeat that checks agreement at the follower's match point only. */
  private sendEmptyAppend(progress: FollowerProgress): void {
    const prevIndex = Math.max(progress.matchIndex, this.log.snapshotIndex());
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return;
    this.ready.send({
      type: "append",
      from: this.options.id,
      to: progress.id,
      term: this.hardState.term,
      prevIndex,
      prevTerm,
      entries: [],
      commitIndex: Math.min(this.commitIndex, prevIndex),
      sentAtMs: this.nowMs,
    });
  }

  private sendSnapshot(progress: FollowerProgress): void {
    const snapshot = this.log.snapshot();
    assert(snapshot !== null, "compacted log without a snapshot");
    progress.mode = "snapshot";
    progress.snapshotSentAtMs = this.nowMs;
    progress.inflight = [];
    this.ready.send({
      type: "install-snapshot",
      from: this.options.id,
      to: progress.id,
      term: this.hardState.term,
      snapshot,
      sentAtMs: this.nowMs,
    });
  }

  private noteResponse(progress: FollowerProgress, sentAtMs: number, empty: boolean): void {
    progress.recentlyActive = true;
    progress.lastResponseAtMs = this.nowMs;
    progress.empty = empty;
    if (sentAtMs > progress.ackedSentAtMs) progress.ackedSentAtMs = sentAtMs;
  }

  private handleAppendResponse(message: AppendResponse): void {
    if (this.role !== "leader") return;
    const progress = this.progress.get(message.from);
    if (!progress) return;
    this.noteResponse(progress, message.sentAtMs, message.empty);
    if (message.success) {
      const advanced = progress.maybeUpdate(message.matchIndex, this.nowMs);
      // Agreement proven: stream from here (also ends snapshot mode once the follower holds
      // what the snapshot covers, even if the install answer itself was lost).
      if (progress.mode === "probe" || (progress.mode === "snapshot" && progress.matchIndex >= this.log.snapshotIndex())) progress.becomeReplicate();
      if (advanced) this.maybeCommit();
      this.maybeFinishTransfer(progress);
    } else if (progress.mode !== "snapshot") {
      // A follower below its old match lost its data (a wiped disk comes back empty): forget
      // the match, or the leader would probe the same index forever.
      if (message.rejectHint < progress.matchIndex) progress.matchIndex = message.empty ? 0 : message.rejectHint;
      // Skip back to where the follower's log can possibly agree; probe again at once only
      // when that moved, else wait for the next heartbeat.
      const next = Math.max(progress.matchIndex + 1, Math.min(progress.nextIndex - 1, message.rejectHint + 1));
      const moved = next < progress.nextIndex || progress.mode === "replicate";
      const lastProbeAtMs = progress.lastProbeAtMs;
      progress.becomeProbe();
      progress.nextIndex = next;
      if (!moved) progress.lastProbeAtMs = lastProbeAtMs;
    }
    this.flushCommitted();
    if (this.role === "leader") this.sendAppend(progress);
  }

  private handleInstallSnapshotResponse(message: InstallSnapshotResponse): void {
    if (this.role !== "leader") return;
    const progress = this.progress.get(message.from);
    if (!progress) return;
    this.noteResponse(progress, message.sentAtMs, message.empty);
    progress.maybeUpdate(message.matchIndex, this.nowMs);
    progress.becomeProbe();
    this.sendAppend(progress, true);
  }

  /** Advance the commit index to what a quorum of non-empty voters holds in this term. */
  private maybeCommit(): void {
    const quorumIndex = quorumMatchIndex(this.config, (id) => {
      if (id === this.options.id) return this.persistedIndex;
      const progress = this.progress.get(id);
      if (!progress) return null;
      // Non-empty rule; during a first formation nobody has history to lose, so all count.
      return progress.empty && !this.forming ? null : progress.matchIndex;
    });
    // Only entries of our own term commit by counting (Raft §5.4.2, figure 8).
    if (quorumIndex <= this.commitIndex || this.log.term(quorumIndex) !== this.hardState.term) return;
    this.advanceCommit(quorumIndex);
    if (this.forming && this.commitIndex >= this.termStartIndex) {
      this.forming = false;
      if (this.hardState.empty) this.setHardState({ empty: false });
    }
    this.flushCommitted();
    this.maybeStepDownAfterRemoval();
  }

  private advanceCommit(index: number): void {
    if (index <= this.commitIndex) return;
    this.commitIndex = index;
    if (index > this.appliedIndex) {
      this.ready.apply(this.log.slice(this.appliedIndex + 1, index, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
      this.appliedIndex = index;
    }
  }

  /** Leader lease: until when no other leader can exist (see limits.leaderLeaseMs). */
  private leaseExpiresAtMs(): number {
    const sentTimes: number[] = [];
    for (const voter of this.config.voters) {
      if (voter.id === this.options.id) sentTimes.push(this.nowMs);
      else {
        const progress = this.progress.get(voter.id);
        if (progress && !progress.empty) sentTimes.push(progress.ackedSentAtMs);
      }
    }
    const needed = majorityOf(this.config.voters.length);
    if (sentTimes.length < needed) return Number.NEGATIVE_INFINITY;
    sentTimes.sort((a, b) => b - a);
    return (sentTimes[needed - 1] ?? Number.NEGATIVE_INFINITY) + this.options.leaderLeaseMs;
  }

  private leaseValid(): boolean {
    return this.role === "leader" && this.nowMs < this.leaseExpiresAtMs();
  }

  /**
   * Tell clients their entries committed, but only while the lease holds: a leader that was
   * paused past its lease may find its entries committed yet must not acknowledge anything
   * once another leader may exist. They wait for the next heartbeat round to renew the lease.
   */
  private flushCommitted(): void {
    if (this.pendingHead >= this.pending.length || !this.leaseValid()) return;
    while (this.pendingHead < this.pending.length) {
      const proposal = this.pending[this.pendingHead];
      if (!proposal || proposal.index > this.commitIndex) break;
      this.ready.notify({ type: "committed", proposalId: proposal.proposalId, index: proposal.index, term: this.hardState.term });
      this.uncommittedBytes -= proposal.bytes;
      this.pendingHead += 1;
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private persisted(through: LogPosition | null, hardState: HardState | null): void {
    if (hardState?.votedFor) this.votedSinceDataLoss = true;
    if (through === null || this.log.term(through.index) !== through.term) return;
    if (through.index <= this.persistedIndex) return;
    this.persistedIndex = Math.min(through.index, this.log.lastIndex());
    if (this.role === "leader") this.maybeCommit();
  }

  // ---------------------------------------------------------------------------------------
  // Client requests
  // ---------------------------------------------------------------------------------------

  private propose(proposals: readonly Proposal[]): void {
    for (const proposal of proposals) {
      const rejection = this.proposalRejection(proposal);
      if (rejection) {
        this.ready.notify({ type: "proposal-rejected", proposalId: proposal.proposalId, reason: rejection, leaderId: this.leaderId });
        continue;
      }
      const entry = this.appendOwn({ kind: "command", data: proposal.data });
      this.pending.push({ index: entry.index, proposalId: proposal.proposalId, bytes: proposal.data.length });
      this.uncommittedBytes += proposal.data.length;
    }
    if (this.role !== "leader") return;
    for (const progress of this.progress.values()) this.sendAppend(progress);
    this.maybeCommit();
  }

  private proposalRejection(proposal: Proposal): ProposalRejection | null {
    if (this.role !== "leader") return "not-leader";
    if (this.transfer) return "transferring";
    if (proposal.data.length > this.options.proposalBytesMax) return "too-large";
    const pendingCount = this.pending.length - this.pendingHead;
    if (pendingCount >= this.options.pendingProposalsMax) return "overloaded";
    if (this.uncommittedBytes + proposal.data.length > this.options.uncommittedBytesMax) return "overloaded";
    return null;
  }

  private read(readId: number): void {
    if (this.role !== "leader") {
      this.ready.notify({ type: "read-rejected", readId, reason: "not-leader", leaderId: this.leaderId });
    } else if (this.commitIndex < this.termStartIndex) {
      // Until our no-op commits we do not know the full commit index.
      this.ready.notify({ type: "read-rejected", readId, reason: "no-commit-in-term", leaderId: this.leaderId });
    } else if (!this.leaseValid()) {
      this.ready.notify({ type: "read-rejected", readId, reason: "lease-expired", leaderId: this.leaderId });
    } else {
      this.ready.notify({ type: "read-ready", readId, index: this.commitIndex });
    }
  }

  private snapshotTaken(snapshot: Snapshot): void {
    if (snapshot.index <= this.log.snapshotIndex()) return;
    assert(snapshot.index <= this.appliedIndex, "snapshot of state not yet applied");
    this.log.compact(snapshot);
    this.ready.persistSnapshot(snapshot, false);
  }

  // ---------------------------------------------------------------------------------------
  // Leadership transfer, membership, force quorum
  // ---------------------------------------------------------------------------------------

  private startTransfer(to: MemberId | null): void {
    if (this.role !== "leader") return;
    const target = to ?? this.bestTransferTarget();
    if (!target || target === this.options.id || !isVoter(this.config, target)) return;
    this.transfer = { target, deadlineMs: this.nowMs + this.options.electionTimeoutMinMs };
    const progress = this.progress.get(target);
    if (progress) {
      this.maybeFinishTransfer(progress);
      this.sendAppend(progress);
    }
  }

  private bestTransferTarget(): MemberId | null {
    let best: FollowerProgress | null = null;
    for (const voter of this.config.voters) {
      const progress = this.progress.get(voter.id);
      if (!progress || progress.empty) continue;
      if (!best || progress.matchIndex > best.matchIndex) best = progress;
      else if (progress.matchIndex === best.matchIndex && this.weightOf(progress.id) > this.weightOf(best.id)) best = progress;
    }
    return best?.id ?? null;
  }

  private maybeFinishTransfer(progress: FollowerProgress): void {
    if (!this.transfer || this.transfer.target !== progress.id) return;
    if (progress.matchIndex < this.log.lastIndex()) return;
    this.ready.send({ type: "timeout-now", from: this.options.id, to: progress.id, term: this.hardState.term });
  }

  private changeMembership(change: MembershipChange): void {
    const rejection = this.membershipRejection(change);
    if (rejection) {
      this.ready.notify({ type: "membership-rejected", reason: rejection });
      return;
    }
    this.appendConfig(nextConfiguration(this.config, change));
  }

  private membershipRejection(change: MembershipChange): string | null {
    if (this.role !== "leader") return `not the leader (leader: ${this.leaderId ?? "unknown"})`;
    if (this.hasUncommittedConfig()) return "another membership change is still being committed";
    switch (change.action) {
      case "add-learner":
        if (isMember(this.config, change.member.id)) return `${change.member.id} is already a member`;
        if (this.config.voters.length + this.config.learners.length >= limits.membersMax) return `too many members (at most ${limits.membersMax})`;
        return null;
      case "promote": {
        if (!this.config.learners.some((member) => member.id === change.memberId)) return `${change.memberId} is not a learner`;
        const progress = this.progress.get(change.memberId);
        if (!progress || progress.empty) return `${change.memberId} has not caught up yet (still empty)`;
        if (this.log.lastIndex() - progress.matchIndex > this.options.learnerCatchUpEntriesMax)
          return `${change.memberId} is ${this.log.lastIndex() - progress.matchIndex} entries behind`;
        return null;
      }
      case "remove":
        if (!isMember(this.config, change.memberId)) return `${change.memberId} is not a member`;
        if (isVoter(this.config, change.memberId) && this.config.voters.length === 1) return "cannot remove the last voter";
        return null;
      default:
        return unreachable(change);
    }
  }

  private hasUncommittedConfig(): boolean {
    const last = this.log.lastConfigEntry();
    return last !== undefined && last.index > this.commitIndex;
  }

  private appendConfig(config: Configuration): void {
    this.appendOwn({ kind: "config", data: new Uint8Array(0), config });
    for (const member of [...config.voters, ...config.learners]) {
      if (member.id !== this.options.id && !this.progress.has(member.id)) {
        this.progress.set(member.id, new FollowerProgress(member.id, this.log.lastIndex() - 1, this.nowMs));
      }
    }
    for (const id of [...this.progress.keys()]) if (!isMember(config, id)) this.progress.delete(id);
    for (const progress of this.progress.values()) this.sendAppend(progress);
    this.maybeCommit();
  }

  /** A leader removed from the configuration leaves once the removal committed. */
  private maybeStepDownAfterRemoval(): void {
    if (this.role !== "leader" || isVoter(this.config, this.options.id) || this.hasUncommittedConfig()) return;
    const target = this.bestTransferTarget();
    this.becomeFollower(this.hardState.term, null);
    if (target) this.ready.send({ type: "timeout-now", from: this.options.id, to: target, term: this.hardState.term });
  }

  /**
   * Members defined in the realm that returned after a force quorum come back as learners;
   * once caught up (and no longer empty) they are promoted, one at a time.
   */
  private maybePromoteReturningMember(): void {
    if (this.hasUncommittedConfig() || this.transfer) return;
    for (const learner of this.config.learners) {
      if (!this.options.definedMembers.some((member) => member.id === learner.id)) continue;
      const progress = this.progress.get(learner.id);
      if (!progress || progress.empty) continue;
      if (this.log.lastIndex() - progress.matchIndex > this.options.learnerCatchUpEntriesMax) continue;
      this.appendConfig(nextConfiguration(this.config, { action: "promote", memberId: learner.id }));
      return;
    }
  }

  /**
   * FTL's force quorum. Operators pick the most up-to-date reachable member (status shows each
   * member's history) and force it: it leads a new term with the reachable members as voters.
   * Every defined member left out becomes a learner and rejoins automatically when it returns.
   */
  private forceQuorum(reachable: readonly MemberId[]): void {
    if (this.hardState.empty) {
      this.ready.notify({ type: "membership-rejected", reason: "force quorum refused: this member is empty (it has no trustworthy data)" });
      return;
    }
    const voterIdsForced = new Set([this.options.id, ...reachable]);
    const all = this.knownMembers();
    const voters = all.filter((member) => voterIdsForced.has(member.id));
    const learners = all.filter((member) => !voterIdsForced.has(member.id));
    const kept = this.log.lastPosition();
    const knownCommittedIndex = this.commitIndex;
    if (this.role === "leader") this.abandonLeadership();
    this.role = "candidate";
    this.setHardState({ term: this.hardState.term + 1, votedFor: this.options.id });
    const newConfig: Configuration = { voters, learners };
    this.config = newConfig;
    this.becomeLeader(false);
    this.appendConfig(newConfig);
    const report: ForceQuorumReport = {
      leaderId: this.options.id,
      term: this.hardState.term,
      voters: voters.map((member) => member.id),
      unreachable: learners.map((member) => member.id),
      kept,
      mayBeLostAfterIndex: kept.index,
      knownCommittedIndex,
    };
    this.ready.notify({ type: "force-quorum", report });
  }

  // ---------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------

  private setHardState(change: Partial<HardState>): void {
    this.hardState = { ...this.hardState, ...change };
    this.ready.persistHardState(this.hardState);
  }

  private configFromLog(): Configuration {
    const entry = this.log.lastConfigEntry();
    if (entry?.config) return entry.config;
    const snapshot = this.log.snapshot();
    if (snapshot) return snapshot.config;
    return { voters: [...this.options.definedMembers], learners: [] };
  }

  private knownMembers(): MemberDefinition[] {
    const byId = new Map<MemberId, MemberDefinition>();
    for (const member of [...this.options.definedMembers, ...this.config.voters, ...this.config.learners]) byId.set(member.id, member);
    return [...byId.values()];
  }

  private weightOf(id: MemberId): number {
    const member = [...this.config.voters, ...this.config.learners, ...this.options.definedMembers].find((m) => m.id === id);
    return member?.weight ?? 1;
  }

  private isUpToDateNow(): boolean {
    if (this.hardState.empty) return false;
    if (this.role === "leader") return this.leaseValid();
    return this.heardLeaderRecently() && this.lastUpToDate.index >= this.commitIndex;
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

export type { Notification };
