import type { MemberId } from "./types.js";

/**
 * The leader's view of one follower (etcd's Progress). Modes:
 *  - probe: find where logs agree; one append at a time, retried each heartbeat;
 *  - replicate: logs agree up to matchIndex; stream appends optimistically (pipelining), at
 *    most inflightAppendsMax messages in flight;
 *  - snapshot: an install-snapshot is in flight; wait for its answer.
 */
export class FollowerProgress {
  matchIndex = 0;
  /** Highest index the follower said it holds in memory (`append-received`); may pass matchIndex. */
  receivedIndex = 0;
  nextIndex: number;
  mode: "probe" | "replicate" | "snapshot" = "probe";
  /** Last index carried by each append in flight, oldest first. */
  inflight: number[] = [];
  /** Follower reported it has no trustworthy data (FTL non-empty rule). */
  empty = true;
  /** Our commit index when we learned the follower is empty (null while it is not). */
  emptyAtCommitIndex: number | null = null;
  /** Heard from since the last check-quorum round. */
  recentlyActive = false;
  /** Leader clock at send time of the newest message this follower answered (lease). */
  ackedSentAtMs = Number.NEGATIVE_INFINITY;
  /** Leader clock of the last answer (liveness, shown in status). */
  lastResponseAtMs: number;
  /**
   * Leader clock when the match last advanced or the pipeline was empty. Heartbeat answers do
   * not count: they keep arriving while a lost append stalls the pipeline forever.
   */
  lastAdvanceAtMs: number;
  /** In snapshot mode: when the snapshot went out (resent if unanswered). */
  snapshotSentAtMs = Number.NEGATIVE_INFINITY;
  /** In snapshot mode: the snapshot being sent (its index) and the bytes the follower holds. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** In probe mode: when the last probe went out (one per heartbeat). */
  lastProbeAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: MemberId,
    lastIndex: number,
    nowMs: number,
  ) {
    this.nextIndex = lastIndex + 1;
    this.lastResponseAtMs = nowMs;
    this.lastAdvanceAtMs = nowMs;
  }

  becomeProbe(): void {
    this.mode = "probe";
    this.nextIndex = this.matchIndex + 1;
    // A follower that needs probing may have restarted and lost what it only had in memory.
    this.receivedIndex = this.matchIndex;
    this.inflight = [];
    this.lastProbeAtMs = Number.NEGATIVE_INFINITY;
  }

  becomeReplicate(): void {
    this.mode = "replicate";
    this.nextIndex = Math.max(this.nextIndex, this.matchIndex + 1);
  }

  /** True when appends are in flight and none was answered for `stallMs`. */
  isStalled(nowMs: number, stallMs: number): boolean {
    return this.inflight.length > 0 && nowMs - this.lastAdvanceAtMs >= stallMs;
  }

  /** Returns true when the match advanced. */
  maybeUpdate(matchIndex: number, nowMs: number): boolean {
    if (this.inflight.length === 0) this.lastAdvanceAtMs = nowMs;
    let updated = false;
    if (matchIndex > this.matchIndex) {
      this.matchIndex = matchIndex;
      this.lastAdvanceAtMs = nowMs;
      updated = true;
    }
    this.nextIndex = Math.max(this.nextIndex, matchIndex + 1);
    while (this.inflight.length > 0 && (this.inflight[0] ?? 0) <= matchIndex) this.inflight.shift();
    return updated;
  }
}
