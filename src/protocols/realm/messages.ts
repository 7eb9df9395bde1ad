import type { RealmRole } from "./family.js";

/**
 * One deployed realm definition. Numbers grow by one with each deploy on the primary and never
 * go back (a rollback deploys an earlier text as a new number), so "newer" is one comparison.
 * The hash (of `text`, computed at the edge) tells two revisions' contents apart cheaply.
 */
export interface Revision {
  readonly number: number;
  readonly hash: string;
  readonly text: string;
}

export interface RevisionId {
  readonly number: number;
  readonly hash: string;
}

/**
 * What a server tells its affiliated servers about itself in every hello and heartbeat. Sent
 * whole each time (not as changes), so a lost or late message is repaired by the next one.
 */
export interface ServerState {
  /** Its newest revision's number; 0 before it has any. */
  readonly revision: number;
  /** It accepts clients now (a backup only while its regular server is not serving). */
  readonly serving: boolean;
  /**
   * It would take a new revision now: false for a regular server whose backup link is down
   * (seed 003: R cannot accept an update while R and B are disconnected).
   */
  readonly accepting: boolean;
}

/** How one client answered a deploy's test (the statuses of `holdfast admin clients`). */
export type ClientTestStatus = "running" | "needs-restart" | "exception" | "timed-out" | "out-of-sync";

/**
 * One client's answer to a deploy's test, as data between servers. Counts and lengths are
 * bounded (kernel/limits.ts: realmTestClientsMax, realmReasonLengthMax for `detail`).
 */
export interface ClientTestAnswer {
  readonly clientId: string;
  readonly client: string;
  readonly user: string;
  readonly app: string;
  readonly status: ClientTestStatus;
  readonly detail: string;
}

/** Messages between affiliated realm servers, over one connection per pair (FIFO). */
export type RealmMessage =
  /** First message each way: who I am (checked against the receiver's family) and my state. */
  | { readonly type: "hello"; readonly from: string; readonly role: RealmRole; readonly state: ServerState }
  | { readonly type: "heartbeat"; readonly state: ServerState }
  /** From the server a peer takes its definition from (its upstream). */
  | { readonly type: "revision"; readonly revision: Revision }
  /** The receiver holds revision `number` durably (or a newer one). */
  | { readonly type: "revision-ack"; readonly number: number }
  | { readonly type: "revision-refused"; readonly number: number; readonly reason: string }
  /**
   * From upstream: could your clients take this revision? Nothing is stored or activated; the
   * receiver asks its own clients and answers with `revision-test-answer` of the same id.
   */
  | { readonly type: "revision-test"; readonly requestId: number; readonly revision: Revision }
  | { readonly type: "revision-test-answer"; readonly requestId: number; readonly clients: readonly ClientTestAnswer[] }
  /** The connection itself is refused (not in the family's table); the sender closes it. */
  | { readonly type: "refused"; readonly reason: string };
