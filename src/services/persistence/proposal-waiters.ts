import type { Notification } from "../../protocols/consensus/effects.js";
import type { CommandResult } from "../../protocols/persistence/state-types.js";
import type { PersistenceApplication } from "./persistence-application.js";

/** Why a proposal did not produce a result. */
export type ProposeFailure =
  /** Not the leader (or lost leadership before appending): ask `leaderId`, or retry later. */
  | { readonly ok: false; readonly reason: "not-leader"; readonly leaderId: string | null }
  /** Too much uncommitted data or too many proposals: back off. */
  | { readonly ok: false; readonly reason: "overloaded" | "too-large"; readonly leaderId: string | null }
  /** Leadership was lost after appending: the command may or may not be applied. */
  | { readonly ok: false; readonly reason: "unknown"; readonly leaderId: string | null };

export type ProposeOutcome = { readonly ok: true; readonly index: number; readonly result: CommandResult } | ProposeFailure;

/**
 * Proposals waiting for consensus to settle them, by proposal id: a committed one gets the
 * result its command produced when applied here (the replica notifies after applying), the
 * others why not. Shared by the service and the simulator's copy of it.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<number, (outcome: ProposeOutcome) => void>();
  private nextProposalId = 1;

  constructor(private readonly application: PersistenceApplication) {}

  /** A new proposal id whose outcome goes to `settle`. */
  add(settle: (outcome: ProposeOutcome) => void): number {
    const proposalId = this.nextProposalId++;
    this.waiting.set(proposalId, settle);
    return proposalId;
  }

  /** Settle from a notification; false when it is not about proposals. */
  notified(notification: Notification, leaderId: string | null): boolean {
    switch (notification.type) {
      case "committed": {
        // Taken even with nobody waiting, so results of earlier terms do not pile up.
        const result = this.application.takeResult(notification.index);
        this.take(notification.proposalId)?.(result === undefined ? { ok: false, reason: "unknown", leaderId } : { ok: true, index: notification.index, result });
        return true;
      }
      case "proposal-rejected": {
        const reason = notification.reason === "overloaded" || notification.reason === "too-large" ? notification.reason : "not-leader";
        this.take(notification.proposalId)?.({ ok: false, reason, leaderId: notification.leaderId });
        return true;
      }
      case "proposal-unknown":
        this.take(notification.proposalId)?.({ ok: false, reason: "unknown", leaderId: notification.leaderId });
        return true;
      default:
        return false;
    }
  }

  /** The process is gone: nobody will answer these. */
  clear(): void {
    this.waiting.clear();
  }

  private take(proposalId: number): ((outcome: ProposeOutcome) => void) | undefined {
    const settle = this.waiting.get(proposalId);
    this.waiting.delete(proposalId);
    return settle;
  }
}
