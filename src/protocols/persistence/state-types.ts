/**
 * The contract of the persistence state machine: the commands the consensus log carries, what
 * applying each one answers, the configuration every service of a cluster starts from, and the
 * read-only view the leader's delivery engine and the status pages use.
 *
 * Everything here is data. Time enters only as `atMs` inside commands (stamped by the leader
 * that proposed them), so every service applies the same log to the same state.
 */
import type { MatcherSpec } from "./matcher.js";

// --- configuration (from the realm definition; identical on every service) -----------------

export type DurableType = "standard" | "shared" | "last-value" | "map";
export type FullPolicy = "discard-old" | "reject-new";
export type PublisherMode = "confirm" | "no-confirm";
/** What a confirm promises (see docs/client.md): stated in every publish reply. */
export type AckPoint = "quorum-fsync" | "quorum-memory" | "leader-memory";

export interface StoreLimits {
  /** Retained message bytes (encoded message size); absent: no limit. */
  readonly bytes?: number;
  /** Retained messages; absent: no limit. */
  readonly messages?: number;
  /** Messages older than this (by the log time they were stored at) are removed. */
  readonly ageMs?: number;
  /** One message's encoded size. */
  readonly messageBytesMax?: number;
  /** Dynamic durables that may exist at once. */
  readonly dynamicDurablesMax?: number;
}

/** Settings shared by static durables and templates. */
export interface DurableSettings {
  readonly type: DurableType;
  /** last-value and map: the field whose value keys the entry. */
  readonly keyField?: string;
  /** Acked types: a delivered message unacked this long is delivered again. */
  readonly ackWaitMs?: number;
  /** Acked types: deliveries after which the message leaves the durable. */
  readonly deliveryLimit?: number;
  /** Where it goes then (a store of the same cluster); absent: it is dropped. */
  readonly deadLetterStore?: string;
}

export interface DurableConfig extends DurableSettings {
  readonly name: string;
  /** Absent or empty: interested in every message of the store. */
  readonly matcher?: MatcherSpec;
}

export interface DurableTemplateConfig extends DurableSettings {
  readonly name: string;
}

export interface StoreConfig {
  readonly name: string;
  readonly limits: StoreLimits;
  readonly full: FullPolicy;
  readonly publisherMode: PublisherMode;
  readonly ackPoint: AckPoint;
  readonly durables: readonly DurableConfig[];
  readonly templates: readonly DurableTemplateConfig[];
}

export interface ClusterStoresConfig {
  readonly stores: readonly StoreConfig[];
}

// --- commands (one consensus entry carries one command) -------------------------------------

export interface PublishItem {
  /** The publisher's own sequence (1, 2, …): with publisherId, the deduplication key. */
  readonly sequence: number;
  /** The message in its canonical binary form (message-codec.ts); validated before proposing. */
  readonly message: Uint8Array;
}

export type Command =
  /** Messages of one publisher to one store, in order. */
  | { readonly type: "publish"; readonly atMs: number; readonly store: string; readonly publisherId: string; readonly items: readonly PublishItem[] }
  /** A subscriber acknowledged these store sequences of one durable (standard or shared). */
  | { readonly type: "ack"; readonly atMs: number; readonly store: string; readonly durable: string; readonly sequences: readonly number[] }
  /** A subscriber named a durable that does not exist: make it from a template. */
  | {
      readonly type: "create-durable";
      readonly atMs: number;
      readonly store: string;
      readonly durable: string;
      readonly template: string;
      readonly matcher?: MatcherSpec;
    }
  /** Messages that reached their delivery limit leave the durable (to its dead-letter store). */
  | { readonly type: "dead-letter"; readonly atMs: number; readonly store: string; readonly durable: string; readonly sequences: readonly number[] }
  /** A map durable: set a key to a message (the key is the caller's, not read from a field). */
  | { readonly type: "map-set"; readonly atMs: number; readonly store: string; readonly durable: string; readonly key: string; readonly message: Uint8Array }
  | { readonly type: "map-remove"; readonly atMs: number; readonly store: string; readonly durable: string; readonly key: string }
  /** Only advances log time (age limits) when nothing else is written. */
  | { readonly type: "tick"; readonly atMs: number };

// --- results (what applying a command answers; the proposer relays it to its client) -------

export type RejectReason =
  | "unknown-store"
  | "unknown-durable"
  | "unknown-template"
  | "store-full"
  | "too-large"
  | "invalid-message"
  | "invalid-matcher"
  | "too-many-durables"
  | "wrong-durable-type"
  | "duplicate-outside-window";

export interface Rejection {
  readonly reason: RejectReason;
  /** A sentence naming what is wrong and what was expected, for the client. */
  readonly detail: string;
}

export type PublishOutcome =
  /** Stored under this store sequence (retained by `retainedBy` durables, possibly 0). */
  | { readonly status: "stored"; readonly storeSequence: number; readonly retainedBy: number }
  /** This publisher id + sequence was stored before (a retry): nothing stored again. */
  | { readonly status: "duplicate"; readonly storeSequence: number }
  | ({ readonly status: "rejected" } & Rejection);

export type CommandResult =
  | { readonly type: "publish"; readonly outcomes: readonly PublishOutcome[] }
  /** Sequences that were pending and are now acked; unknown or already-acked ones are ignored. */
  | { readonly type: "ack"; readonly acked: number }
  | { readonly type: "create-durable"; readonly created: boolean }
  | { readonly type: "dead-letter"; readonly moved: number; readonly dropped: number }
  | { readonly type: "map-set"; readonly storeSequence: number }
  | { readonly type: "map-remove"; readonly removed: boolean }
  | { readonly type: "tick" }
  | ({ readonly type: "rejected" } & Rejection);

// --- the read-only view -------------------------------------------------------------------

export interface StoredMessage {
  readonly storeSequence: number;
  /** Log time it was stored at. */
  readonly atMs: number;
  readonly message: Uint8Array;
}

export interface DurableInfo {
  readonly store: string;
  readonly name: string;
  readonly dynamic: boolean;
  readonly settings: DurableSettings;
  /** Standard/shared: messages not yet acked. Last-value/map: entries (keys). */
  readonly backlog: number;
}

export interface StoreInfo {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly lastSequence: number;
  readonly config: StoreConfig;
}

/**
 * What the leader's delivery engine and status reads may see. Sequences are store sequences,
 * ascending; iteration never includes acked, expired or discarded messages.
 */
export interface PersistenceView {
  /** Index of the last applied log entry. */
  readonly appliedIndex: number;
  /** Log time of the last applied command (monotonic). */
  readonly logTimeMs: number;
  stores(): readonly StoreInfo[];
  store(name: string): StoreInfo | undefined;
  durables(store: string): readonly DurableInfo[];
  durable(store: string, name: string): DurableInfo | undefined;
  /** Standard/shared: pending (unacked) sequences > afterSequence, ascending, at most countMax. */
  pendingAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly number[];
  /** Standard/shared: whether this sequence is still pending in the durable. */
  isPending(store: string, durable: string, sequence: number): boolean;
  /** A retained message of the store, or undefined once nothing retains it. */
  message(store: string, sequence: number): StoredMessage | undefined;
  /** Last-value/map: [key, message] in key order, keys > afterKey ("" for the start). */
  entriesAfter(store: string, durable: string, afterKey: string, countMax: number): readonly (readonly [string, StoredMessage])[];
  /**
   * Last-value/map: entries whose current message has storeSequence > afterSequence, ascending
   * by storeSequence (how live updates reach a last-value subscriber after its first snapshot).
   */
  updatesAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly (readonly [string, StoredMessage])[];
  /** Last-value/map: one key. */
  entry(store: string, durable: string, key: string): StoredMessage | undefined;
}

/**
 * The state machine itself: applied in log order on every service, snapshot-able as bytes so
 * a new or lagging service (and later a disaster-recovery site) can take the whole state.
 */
export interface PersistenceState extends PersistenceView {
  /** Apply one committed command at log index `index` (strictly increasing). */
  apply(index: number, command: Command): CommandResult;
  /** A log index that carries no command (noop, configuration): only the applied index moves. */
  skip(index: number): void;
  snapshot(): Uint8Array;
  /** Replaces the whole state; the bytes come from `snapshot()` of the same configuration. */
  restore(bytes: Uint8Array): void;
  /**
   * Capture the state now and encode it in slices (state-snapshot-encoder.ts): `step(more)`
   * returns the bytes `snapshot()` would have given at the capture, once complete.
   */
  captureSnapshot(): SlicedStep<Uint8Array>;
  /** `restore` in slices: the state is replaced when `step` returns true, not before. */
  beginRestore(bytes: Uint8Array): SlicedStep<true>;
}

/** Work done a unit at a time while `more()` holds; null until finished. */
export interface SlicedStep<T> {
  step(more: () => boolean): T | null;
  /** Bytes processed so far (the simulator charges the work by it). */
  readonly progressBytes: number;
}
