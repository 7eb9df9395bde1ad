import type { Message } from "./messages.js";
import type { Entry, HardState, LogPosition, MemberDefinition, MemberId, Snapshot } from "./types.js";

/** Everything that can happen to a member. Time arrives separately as `nowMs` on each step. */
export type Input =
  /** Time passed; the driver calls this at least every heartbeat interval. */
  | { readonly type: "tick" }
  | { readonly type: "message"; readonly message: Message }
  /** Client commands. Only a leader accepts them; each gets exactly one notification. */
  | { readonly type: "propose"; readonly proposals: readonly Proposal[] }
  /** A linearizable read: answered while the leader's lease holds. */
  | { readonly type: "read"; readonly readId: number }
  /**
   * The driver made a `persist` batch durable: the log through `through` (null when the batch
   * held no entries or snapshot) and `hardState` (null when the batch held none).
   */
  | { readonly type: "persisted"; readonly through: LogPosition | null; readonly hardState?: HardState | null }
  /** The application snapshotted its state at an applied index; the log may be compacted. */
  | { readonly type: "snapshot-taken"; readonly snapshot: Snapshot }
  /** Hand leadership to `to` (or the best follower when null), e.g. for a graceful shutdown. */
  | { readonly type: "transfer-leadership"; readonly to: MemberId | null }
  | { readonly type: "change-membership"; readonly change: MembershipChange }
  /**
   * Operator command (FTL force quorum): lead with `reachable` as the voters, keeping this
   * member's log. Unsafe by design; the report says which entries may be lost.
   */
  | { readonly type: "force-quorum"; readonly reachable: readonly MemberId[] };

export interface Proposal {
  readonly proposalId: number;
  readonly data: Uint8Array;
}

export type MembershipChange =
  | { readonly action: "add-learner"; readonly member: MemberDefinition }
  | { readonly action: "promote"; readonly memberId: MemberId }
  | { readonly action: "remove"; readonly memberId: MemberId };

/** What durable storage hands back at start. */
export interface RecoveredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}
