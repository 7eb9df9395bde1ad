import type { Notification } from "../../protocols/consensus/effects.js";
import type { AckPoint, CommandResult } from "../../protocols/persistence/state-types.js";
import type { PersistenceApplication } from "./persistence-application.js";

/** Why a proposal did not produce a result. */
export type ProposeFailure =
  /** Not the leader (or lost leadership before appending): ask `leaderId`, or retry later. */
  | { readonly ok: false; readonly reason: "not-leader"; readonly leaderId: string | null }
  /** Too much uncommitted data or too many proposals: back off. */
  | { readonly ok: false; readonly reason: "overloaded" | "too-large"; readonly leaderId: string | null }
  /** Leadership was lost after appending: the command may or may not be applied. */
  | { readonly ok: false; readonly reason: "unknown"; readonly leaderId: string | null };

/** `ackPoint`: what the command had reached when it was answered (at least what was asked). */
export type ProposeOutcome = { readonly ok: true; readonly index: number; readonly result: CommandResult; readonly ackPoint: AckPoint } | ProposeFailure;

interface Waiter {
  readonly settle: (outcome: ProposeOutcome) => void;
  readonly ackPoint: AckPoint;
}

/**
 * Proposals waiting for consensus to settle them, by proposal id: each is answered at the ack
 * point it asks for with the result its command produced when applied here, or told why not.
 * Shared by the service and the simulator's copy of it.
 *
 *  - quorum-fsync: at `committed` (a quorum fsynced it; the replica notifies after applying).
 *  - leader-memory: at `appended` (the leader applies before commit, `applyBeforeCommit`).
 *  - quorum-memory: at the `quorum-received` that covers its index.
 * An early answer is given only while the leader holds its lease, as commits are: a leader
 * that may have been deposed answers nothing early, and its proposals wait for `committed` or
 * `proposal-unknown`.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<number, Waiter>();
  private nextProposalId = 1;
  /** quorum-memory proposals appended, by index, waiting for a quorum to hold them. */
  private memoryWaiting: { readonly index: number; readonly proposalId: number }[] = [];
  private quorumReceivedIndex = 0;

  constructor(
    private readonly application: PersistenceApplication,
    private readonly holdsLease: () => boolean = () => false,
  ) {}

  /** A new proposal id whose outcome goes to `settle` once it reached `ackPoint`. */
  add(settle: (outcome: ProposeOutcome) => void, ackPoint: AckPoint = "quorum-fsync"): number {
    const proposalId = this.nextProposalId++;
    this.waiting.set(proposalId, { settle, ackPoint });
    return proposalId;
  }

  /** Settle from a notification; false when it is not about proposals. */
  notified(notification: Notification, leaderId: string | null): boolean {
    switch (notification.type) {
      case "committed": {
        // Taken even with nobody waiting, so results of earlier terms do not pile up.
        const result = this.application.takeResult(notification.index);
        this.take(notification.proposalId)?.(result === undefined ? { ok: false, reason: "unknown", leaderId } : { ok: true, index: notification.index, result, ackPoint: "quorum-fsync" });
        while (this.memoryWaiting.length > 0 && (this.memoryWaiting[0]?.index ?? 0) <= notification.index) this.memoryWaiting.shift();
        return true;
      }
      case "appended":
        this.appended(notification.proposalId, notification.index);
        return true;
      case "quorum-received":
        this.quorumReceivedIndex = notification.index;
        this.settleQuorumReceived();
        return true;
      case "proposal-rejected": {
        const reason = notification.reason === "overloaded" || notification.reason === "too-large" ? notification.reason : "not-leader";
        this.take(notification.proposalId)?.({ ok: false, reason, leaderId: notification.leaderId });
        return true;
      }
      case "proposal-unknown":
        this.take(notification.proposalId)?.({ ok: false, reason: "unknown", leaderId: notification.leaderId });
        return true;
      case "role-changed":
        // A new term counts quorums afresh; what waited early now waits for its outcome.
        this.memoryWaiting = [];
        this.quorumReceivedIndex = 0;
        return false;
      default:
        return false;
    }
  }

  /** The process is gone: nobody will answer these. */
  clear(): void {
    this.waiting.clear();
    this.memoryWaiting = [];
  }

  private appended(proposalId: number, index: number): void {
    const waiter = this.waiting.get(proposalId);
    if (waiter === undefined) return;
    if (waiter.ackPoint === "leader-memory") {
      this.settleEarly(proposalId, index, "leader-memory");
    } else if (waiter.ackPoint === "quorum-memory") {
      this.memoryWaiting.push({ index, proposalId });
      if (index <= this.quorumReceivedIndex) this.settleQuorumReceived();
    }
  }

  private settleQuorumReceived(): void {
    while (this.memoryWaiting.length > 0) {
      const head = this.memoryWaiting[0] as { readonly index: number; readonly proposalId: number };
      if (head.index > this.quorumReceivedIndex) return;
      if (!this.settleEarly(head.proposalId, head.index, "quorum-memory")) return;
      this.memoryWaiting.shift();
    }
  }

  /** False when the lease does not allow an answer now (the commit path will give it). */
  private settleEarly(proposalId: number, index: number, ackPoint: AckPoint): boolean {
    if (!this.waiting.has(proposalId)) return true;
    if (!this.holdsLease()) return false;
    const result = this.application.takeResultAt(index);
    if (result === undefined) return true;
    this.take(proposalId)?.({ ok: true, index, result, ackPoint });
    return true;
  }

  private take(proposalId: number): ((outcome: ProposeOutcome) => void) | undefined {
    const waiter = this.waiting.get(proposalId);
    this.waiting.delete(proposalId);
    return waiter?.settle;
  }
}
