/**
 * The clients' history, Jepsen style: each operation is invoked, then completes as ok (the
 * command committed at index/term), fail (it certainly did not and will not happen) or info
 * (unknown: timed out, or the member went away).
 */
export type Outcome = "pending" | "ok" | "fail" | "info";

export interface Operation {
  readonly proposalId: number;
  readonly client: number;
  readonly payload: string;
  readonly member: string;
  readonly invokedAtMs: number;
  outcome: Outcome;
  completedAtMs: number | null;
  index: number | null;
  term: number | null;
  detail: string;
}

export class History {
  private readonly operations: Operation[] = [];
  private readonly byProposal = new Map<number, Operation>();
  private readonly acknowledgedOperations: Operation[] = [];
  private readonly okByIndex = new Map<number, Operation>();
  private readonly failedByPayload = new Map<string, Operation>();
  private readonly listeners: Array<(operation: Operation) => void> = [];

  /** Called after each acknowledgment is recorded. */
  onAcknowledged(listener: (operation: Operation) => void): void {
    this.listeners.push(listener);
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
    const counts: Record<Outcome, number> = { pending: 0, ok: 0, fail: 0, info: 0 };
    for (const operation of this.operations) counts[operation.outcome]++;
    return counts;
  }
}
