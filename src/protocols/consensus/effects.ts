import type { Message } from "./messages.js";
import type { Entry, HardState, LogPosition, MemberId, Role, Snapshot } from "./types.js";

/**
 * What one or more steps of the state machine ask the driver to do, as data.
 *
 * Ordering contract (the driver must keep it; the simulator checks it):
 *  1. `messages` may leave at once, before `persist` is durable. They never depend on
 *     unpersisted state: a leader's appends (its term was persisted when it campaigned),
 *     heartbeats, pre-votes.
 *  2. `persist` must be durable (fsync) before any of `messagesAfterPersist` leave and before
 *     the driver reports `persisted` back. Votes, vote grants and append acknowledgments are
 *     here: a member never promises what it could forget in a crash.
 *  3. `apply` holds committed entries in log order; apply them after `persist` is durable.
 *     `applySnapshot`, when set, replaces application state first.
 *  4. `notify` goes to local clients after `persist` is durable, in order.
 *  5. `applyEarly`, then `notifyEarly` (a leader with `applyBeforeCommit` only): carried out
 *     without waiting for this batch's `persist`, but after the `applySnapshot` and `apply`
 *     of every earlier batch. They are the leader's own entries, applied before they commit
 *     so a memory ack point can answer with their results; if leadership ends before they
 *     commit, a later batch's `applySnapshot` (index 0: the initial state) and `apply` rebuild
 *     the state from what committed.
 * Effects of consecutive Ready batches must be carried out in batch order.
 */
export interface Ready {
  readonly messages: Message[];
  readonly persist: PersistBatch | null;
  readonly messagesAfterPersist: Message[];
  readonly applySnapshot: Snapshot | null;
  readonly apply: Entry[];
  readonly notify: Notification[];
  readonly applyEarly: Entry[];
  readonly notifyEarly: Notification[];
}

/**
 * Durable changes in one batch, applied in this order: snapshot (which discards every entry it
 * covers), truncation, appends, hard state.
 */
export interface PersistBatch {
  readonly snapshot: Snapshot | null;
  /** Discard every entry with index >= truncateFrom (a conflict with the leader). */
  readonly truncateFrom: number | null;
  readonly entries: Entry[];
  readonly hardState: HardState | null;
  /** Entries at or below this index are covered by a snapshot and may be deleted. */
  readonly compactThrough: number | null;
}

export type Notification =
  | { readonly type: "committed"; readonly proposalId: number; readonly index: number; readonly term: number }
  | {
      readonly type: "proposal-rejected";
      readonly proposalId: number;
      readonly reason: ProposalRejection;
      readonly leaderId: MemberId | null;
    }
  /** The leader lost leadership before the entry committed: it may or may not commit later. */
  | { readonly type: "proposal-unknown"; readonly proposalId: number; readonly leaderId: MemberId | null }
  /** Early (`applyBeforeCommit`): the proposal is in the leader's log, and applied, at `index`. */
  | { readonly type: "appended"; readonly proposalId: number; readonly index: number }
  /** Early (`applyBeforeCommit`): a quorum holds every entry through `index` in memory. */
  | { readonly type: "quorum-received"; readonly index: number }
  | { readonly type: "read-ready"; readonly readId: number; readonly index: number }
  | { readonly type: "read-rejected"; readonly readId: number; readonly reason: ReadRejection; readonly leaderId: MemberId | null }
  | { readonly type: "role-changed"; readonly role: Role; readonly term: number; readonly leaderId: MemberId | null }
  | { readonly type: "membership-rejected"; readonly reason: string }
  | { readonly type: "force-quorum"; readonly report: ForceQuorumReport };

export type ProposalRejection = "not-leader" | "overloaded" | "too-large" | "transferring";
export type ReadRejection = "not-leader" | "lease-expired" | "no-commit-in-term";

/**
 * What an operator learns from forcing a quorum: the history kept and exactly which entries
 * may be lost (entries after `kept.index` that only unreachable members might hold).
 */
export interface ForceQuorumReport {
  readonly leaderId: MemberId;
  readonly term: number;
  readonly voters: readonly MemberId[];
  readonly unreachable: readonly MemberId[];
  /** Last entry kept: every entry up to here survives. */
  readonly kept: LogPosition;
  /** Entries after `kept.index` may have been committed on unreachable members and are lost. */
  readonly mayBeLostAfterIndex: number;
  /** The highest commit index this member had heard of: entries up to here were committed. */
  readonly knownCommittedIndex: number;
}

export const emptyReady = (): Ready => ({
  messages: [],
  persist: null,
  messagesAfterPersist: [],
  applySnapshot: null,
  apply: [],
  notify: [],
  applyEarly: [],
  notifyEarly: [],
});
