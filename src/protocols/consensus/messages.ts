import type { Entry, MemberId, Snapshot } from "./types.js";

/**
 * Messages between members. Every message carries the sender's term: a receiver with a higher
 * term rejects it (term fencing), a receiver with a lower term adopts it.
 */
export type Message =
  | PreVote
  | PreVoteResponse
  | Vote
  | VoteResponse
  | Append
  | AppendResponse
  | AppendReceived
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow;

interface Envelope {
  readonly from: MemberId;
  readonly to: MemberId;
  readonly term: number;
}

/** Asks "would you vote for me in `term`?" without anyone changing term (Raft §9.6). */
export interface PreVote extends Envelope {
  readonly type: "pre-vote";
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** The candidate has no trustworthy data: it may only win a first formation. */
  readonly empty: boolean;
}

export interface PreVoteResponse extends Envelope {
  readonly type: "pre-vote-response";
  readonly granted: boolean;
  readonly empty: boolean;
  /**
   * A grant from an empty member that holds nothing and took no part since it lost its data:
   * it cannot judge the candidate's log, so its grant completes only a unanimous election in
   * which the members that could judge are a majority (quorum.ts `tallyVotes`).
   */
  readonly blind: boolean;
}

export interface Vote extends Envelope {
  readonly type: "vote";
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly empty: boolean;
  /** Set by a leadership transfer: voters skip the "I heard a leader recently" check. */
  readonly transfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: "vote-response";
  readonly granted: boolean;
  readonly empty: boolean;
  /** As in PreVoteResponse. */
  readonly blind: boolean;
}

export interface Append extends Envelope {
  readonly type: "append";
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commitIndex: number;
  /** Leader's clock when sent; echoed back so the leader can extend its lease. */
  readonly sentAtMs: number;
  /**
   * The leader's commit index advanced while it knew this follower was empty: a majority
   * without the follower follows this leader's term now. Only then may an empty follower that
   * holds `commitIndex` count again; before, the leader may be stale (a wiped follower forgot
   * any newer term it voted in) or may still have counted the follower's acknowledgments from
   * before its data loss.
   */
  readonly commitWithoutFollower: boolean;
}

export interface AppendResponse extends Envelope {
  readonly type: "append-response";
  readonly success: boolean;
  /** On success: the last index the follower now holds matching the leader. */
  readonly matchIndex: number;
  /** On rejection: the follower's last index, so the leader can skip back quickly. */
  readonly rejectHint: number;
  readonly empty: boolean;
  readonly sentAtMs: number;
}

/**
 * Sent by a follower as soon as an append's entries are in its memory, before its fsync
 * (only with `applyBeforeCommit`). Promises nothing durable: it never counts toward commit,
 * only toward the `quorum-memory` ack point.
 */
export interface AppendReceived extends Envelope {
  readonly type: "append-received";
  /** The last index the follower holds in memory matching the leader. */
  readonly matchIndex: number;
}

/**
 * One chunk of a snapshot: `snapshot.data` holds its bytes from `offset` on, and `done` marks
 * the last. A snapshot travels in chunks of `snapshotChunkBytes`, one at a time, so a store of
 * any size reaches a lagging member without a frame of its size (etcd sends it whole).
 */
export interface InstallSnapshot extends Envelope {
  readonly type: "install-snapshot";
  readonly snapshot: Snapshot;
  readonly offset: number;
  readonly done: boolean;
  readonly sentAtMs: number;
}

export interface InstallSnapshotResponse extends Envelope {
  readonly type: "install-snapshot-response";
  /** Once `done`: the last index the follower holds. */
  readonly matchIndex: number;
  /** Bytes of the snapshot at `snapshotIndex` the follower holds so far: the next offset it wants. */
  readonly receivedBytes: number;
  readonly snapshotIndex: number;
  /** The whole snapshot is installed (or was not needed). */
  readonly done: boolean;
  readonly empty: boolean;
  readonly sentAtMs: number;
}

/** Leadership transfer: "campaign now, skipping pre-vote". */
export interface TimeoutNow extends Envelope {
  readonly type: "timeout-now";
}
