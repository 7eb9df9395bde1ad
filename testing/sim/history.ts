/**
 * The clients' history, Jepsen style: each operation is invoked, then completes as ok (the
 * command committed at index/term), fail (it certainly did not and will not happen) or info
 * (unknown: timed out, or the member went away). Reads are kept apart from writes (commands):
 * they change nothing, and the liveness phase counts acknowledged writes only.
 */
import type { Completion, Outcome } from "../operation.js";

export type { Outcome } from "../operation.js";

export interface Operation extends Completion {
  readonly proposalId: number;
  readonly client: number;
  readonly payload: string;
  readonly member: string;
  readonly invokedAtMs: number;
}

/**
 * A linearizable read: ok means the member answered `read-ready` at `index`, a promise that the
 * state at `index` includes every write acknowledged before the read was invoked. `term` is the
 * term the member led when it answered, as its role notifications told (null: not leading).
 */
export interface ReadOperation extends Completion {
  readonly readId: number;
  /** The client that asked, or null for a probe (a read sent on purpose to a member as it resumes). */
  readonly client: number | null;
  readonly member: string;
  readonly invokedAtMs: number;
}

export class History {
  private readonly operations: Operation[] = [];
  private readonly byProposal = new Map<number, Operation>();
  private readonly acknowledgedOperations: Operation[] = [];
  private readonly okByIndex = new Map<number, Operation>();
  private readonly failedByPayload = new Map<string, Operation>();
  private readonly listeners: Array<(operation: Operation) => void> = [];
  private readonly readOperations: ReadOperation[] = [];
  private readonly byReadId = new Map<number, ReadOperation>();
  private readonly readListeners: Array<{ invoked: (read: ReadOperation) => void; answered: (read: ReadOperation) => void }> = [];

  /** Called after each acknowledgment is recorded. */
  onAcknowledged(listener: (operation: Operation) => void): void {
    this.listeners.push(listener);
  }

  /** `invoked` runs as each read is invoked, `answered` after each ok read is recorded. */
  onRead(invoked: (read: ReadOperation) => void, answered: (read: ReadOperation) => void): void {
    this.readListeners.push({ invoked, answered });
  }

  invoke(proposalId: number, client: number, payload: string, member: string, nowMs: number): Operation {
    const operation: Operation = {
      proposalId, client, payload, member, invokedAtMs: nowMs,
      outcome: "pending", completedAtMs: null, index: null, term: null, detail: "",
    };
    this.operations.push(operation);
    this.byProposal.set(proposalId, operation);
    return operation;
  }

  get(proposalId: number): Operation | undefined {
    return this.byProposal.get(proposalId);
  }

  /**
   * The command committed. Also after an earlier `info` (the client gave up waiting, then the
   * answer came): the system did acknowledge it, so it counts.
   */
  ok(operation: Operation, index: number, term: number, nowMs: number): void {
    operation.outcome = "ok";
    operation.index = index;
    operation.term = term;
    operation.completedAtMs = nowMs;
    this.acknowledgedOperations.push(operation);
    if (!this.okByIndex.has(index)) this.okByIndex.set(index, operation);
    for (const listener of this.listeners) listener(operation);
  }

  fail(operation: Operation, detail: string, nowMs: number): void {
    operation.outcome = "fail";
    operation.detail = detail;
    operation.completedAtMs = nowMs;
    this.failedByPayload.set(operation.payload, operation);
  }

  info(operation: Operation, detail: string, nowMs: number): void {
    if (operation.outcome !== "pending") return;
    operation.outcome = "info";
    operation.detail = detail;
    operation.completedAtMs = nowMs;
  }

  invokeRead(readId: number, client: number | null, member: string, nowMs: number): ReadOperation {
    const read: ReadOperation = {
      readId, client, member, invokedAtMs: nowMs, outcome: "pending", completedAtMs: null, index: null, term: null, detail: "",
    };
    this.readOperations.push(read);
    this.byReadId.set(readId, read);
    for (const listener of this.readListeners) listener.invoked(read);
    return read;
  }

  getRead(readId: number): ReadOperation | undefined {
    return this.byReadId.get(readId);
  }

  /** The member answered at `index` while leading `term` (null: it was not leading). Also after an `info`. */
  readOk(read: ReadOperation, index: number, term: number | null, nowMs: number): void {
    read.outcome = "ok";
    read.index = index;
    read.term = term;
    read.completedAtMs = nowMs;
    for (const listener of this.readListeners) listener.answered(read);
  }

  readFail(read: ReadOperation, detail: string, nowMs: number): void {
    read.outcome = "fail";
    read.detail = detail;
    read.completedAtMs = nowMs;
  }

  readInfo(read: ReadOperation, detail: string, nowMs: number): void {
    if (read.outcome !== "pending") return;
    read.outcome = "info";
    read.detail = detail;
    read.completedAtMs = nowMs;
  }

  reads(): readonly ReadOperation[] {
    return this.readOperations;
  }

  readCounts(): Record<Outcome, number> {
    return countOutcomes(this.readOperations);
  }

  acknowledged(): readonly Operation[] {
    return this.acknowledgedOperations;
  }

  acknowledgedAt(index: number): Operation | undefined {
    return this.okByIndex.get(index);
  }

  failedPayload(payload: string): Operation | undefined {
    return this.failedByPayload.get(payload);
  }

  all(): readonly Operation[] {
    return this.operations;
  }

  counts(): Record<Outcome, number> {
    return countOutcomes(this.operations);
  }
}

function countOutcomes(operations: readonly { readonly outcome: Outcome }[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { pending: 0, ok: 0, fail: 0, info: 0 };
  for (const operation of operations) counts[operation.outcome]++;
  return counts;
}
