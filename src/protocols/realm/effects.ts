import type { ClientTestAnswer, RealmMessage, Revision, RevisionId } from "./messages.js";

/**
 * What the realm service asks its driver to do, as data, in one list per step.
 *
 * Ordering contract: carry the effects out in list order, and let a `store-revision` be
 * durable (fsync) before any effect after it. An ack, a push to a backup and a deploy answer
 * come after the store they depend on: each promises that this server keeps the revision
 * through a crash. A test (`test-clients`, `test-answer`) stores nothing and promises nothing
 * about durability; it still runs in list order, so it may wait behind an earlier store.
 */
export type RealmEffect =
  | { readonly type: "dial"; readonly peer: string }
  | { readonly type: "close"; readonly peer: string; readonly reason: string }
  | { readonly type: "send"; readonly to: string; readonly message: RealmMessage }
  /** Keep this revision (with the history, for redeploy) as the server's newest. */
  | { readonly type: "store-revision"; readonly revision: Revision }
  /** Run this definition from now on; the server's clients pick it up. After its store. */
  | { readonly type: "activate"; readonly revision: Revision }
  | { readonly type: "deploy-answer"; readonly requestId: number; readonly answer: DeployAnswer }
  /**
   * Ask this server's own clients whether they could take `revision` (a deploy's test, sent
   * by `from`, its upstream). The driver answers with a `clients-tested` input, at most once;
   * none (the driver lost it) is seen upstream as this server timing out.
   */
  | { readonly type: "test-clients"; readonly from: string; readonly requestId: number; readonly revision: Revision }
  /** The answer to a `test` input: one entry per downstream server (those it dials, then those that dial it). */
  | { readonly type: "test-answer"; readonly requestId: number; readonly servers: readonly ServerTestAnswer[] }
  /**
   * A backup whose regular server serves again: tell each of its clients to reconnect to `to`
   * (seed 003: "when R is fully operative again, clients disconnect from B and reconnect to R").
   */
  | { readonly type: "hand-back-clients"; readonly to: string }
  /** For the operator: links breaking and coming back, failover, refusals. */
  | { readonly type: "log"; readonly level: "info" | "warn"; readonly text: string };

export type DeployAnswer =
  | { readonly ok: true; readonly revision: RevisionId; readonly unchanged: boolean }
  | { readonly ok: false; readonly code: DeployRefusal; readonly reason: string };

export type DeployRefusal =
  /** Deploys go to the primary only; the reason names it. */
  | "not-primary"
  /** The primary's backup is not connected: it must be, before a new revision is taken. */
  | "backup-link-down"
  /**
   * An affiliated server holds a newer revision than the primary (the primary's revision store
   * was lost or restored from an older copy): a new number would clash with one in use.
   */
  | "out-of-sync"
  | "too-large"
  /** The driver's own: the realm service stopped (its revision store failed). */
  | "stopped";

/** One downstream server's part of a deploy's test. */
export interface ServerTestAnswer {
  readonly server: string;
  /**
   * answered: its clients' answers are in `clients`; unreachable: its link was not up or went
   * down before it answered; timed-out: no answer within testTimeoutMs. Only `answered` has
   * clients.
   */
  readonly outcome: "answered" | "unreachable" | "timed-out";
  readonly clients: readonly ClientTestAnswer[];
}
