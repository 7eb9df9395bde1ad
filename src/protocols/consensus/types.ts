/** Basic values of the consensus protocol. Words follow docs/glossary.md. */

/** A member of one consensus group (a persistence service in FTL's words). */
export type MemberId = string;

export type EntryKind = "command" | "noop" | "config";

/** One replicated log entry. Indexes start at 1; term 0 / index 0 is the empty log. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  /** Application payload for "command"; empty for "noop" and "config". */
  readonly data: Uint8Array;
  /** The new configuration, for kind "config" only. It takes effect when appended. */
  readonly config?: Configuration;
}

export interface MemberDefinition {
  readonly id: MemberId;
  /** Heavier up-to-date members are preferred when there is no leader (FTL weights). */
  readonly weight: number;
}

/** Who votes and who only receives the log. Changed one member at a time. */
export interface Configuration {
  readonly voters: readonly MemberDefinition[];
  /** Non-voters catching up before promotion, or returning after a force quorum. */
  readonly learners: readonly MemberDefinition[];
}

/**
 * What must survive a crash before a vote or reply leaves. `empty` is FTL's non-empty rule: a
 * member without trustworthy data may not vote or count toward quorum until it has caught up.
 */
export interface HardState {
  readonly term: number;
  readonly votedFor: MemberId | null;
  readonly empty: boolean;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: Configuration;
}

/** Application state through `index`, produced by the application, opaque to consensus. */
export interface Snapshot extends SnapshotMeta {
  readonly data: Uint8Array;
}

/** A point in the log history: FTL shows this as a service's history. */
export interface LogPosition {
  readonly term: number;
  readonly index: number;
}

export type Role = "follower" | "pre-candidate" | "candidate" | "leader";

/** Where a member stands, for operators (FTL: history and consistency). */
export interface MemberStatus {
  readonly id: MemberId;
  readonly role: Role;
  readonly term: number;
  readonly leaderId: MemberId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Last entry in the local log. */
  readonly history: LogPosition;
  /** "up-to-date" while following a live leader or leading; else where it last was. */
  readonly consistency: "up-to-date" | { readonly lastUpToDate: LogPosition };
  readonly empty: boolean;
  /** True once this member has seen the cluster form (a first quorum of every member). */
  readonly formed: boolean;
  readonly voters: readonly MemberId[];
  readonly learners: readonly MemberId[];
  readonly weight: number;
  /** Leader only: replication progress per follower. */
  readonly followers?: readonly FollowerStatus[];
}

export interface FollowerStatus {
  readonly id: MemberId;
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly empty: boolean;
  readonly active: boolean;
  readonly mode: "probe" | "replicate" | "snapshot";
}
