/**
 * A client history against a real-process cluster, Jepsen style, and a pure checker of it
 * against what the members finally applied. Each operation is one proposal with a unique
 * payload; it is invoked, then completes as:
 *   ok   - acknowledged as committed at (index, term);
 *   fail - certainly not in the log and never will be (refused before reaching a log);
 *   info - unknown: the leader vanished mid-flight, or we stopped waiting. May or may not be
 *          in the log; both are correct.
 * An operation never completed stays "pending" and is treated like info.
 *
 * No clocks and no I/O here: callers pass times in, so the checks can be shown failing on
 * hand-made bad histories (history.test.ts).
 */
import type { Completion, Outcome } from "../operation.js";

export type { Outcome } from "../operation.js";

export interface Operation extends Completion {
  readonly worker: number;
  readonly payload: string;
  readonly invokedAtMs: number;
}

/** One command a member applied, with its log index. */
export interface AppliedCommand {
  readonly index: number;
  readonly payload: string;
}

export interface Violation {
  readonly check: "acknowledged-applied" | "ack-index-unique" | "no-duplicates" | "not-invented" | "failed-absent" | "members-agree";
  readonly detail: string;
}

export class History {
  readonly operations: Operation[] = [];

  invoke(worker: number, payload: string, nowMs: number): Operation {
    const operation: Operation = { worker, payload, invokedAtMs: nowMs, outcome: "pending", completedAtMs: null, index: null, term: null, detail: "" };
    this.operations.push(operation);
    return operation;
  }

  /** Acknowledged. Also after an earlier info (we gave up waiting, then the answer came). */
  ok(operation: Operation, index: number, term: number, nowMs: number): void {
    operation.outcome = "ok";
    operation.index = index;
    operation.term = term;
    operation.completedAtMs = nowMs;
  }

  fail(operation: Operation, detail: string, nowMs: number): void {
    if (operation.outcome === "ok") return;
    operation.outcome = "fail";
    operation.detail = detail;
    operation.completedAtMs = nowMs;
  }

  info(operation: Operation, detail: string, nowMs: number): void {
    if (operation.outcome === "ok") return;
    operation.outcome = "info";
    operation.detail = detail;
    operation.completedAtMs = nowMs;
  }

  /** First acknowledgment of an operation invoked at or after `sinceMs`, if any. */
  firstOkInvokedSince(sinceMs: number): Operation | null {
    let first: Operation | null = null;
    for (const operation of this.operations) {
      if (operation.outcome !== "ok" || operation.invokedAtMs < sinceMs) continue;
      if (first === null || (operation.completedAtMs ?? Infinity) < (first.completedAtMs ?? Infinity)) first = operation;
    }
    return first;
  }

  summary(): HistorySummary {
    return summarize(this.operations);
  }
}

export interface HistorySummary {
  readonly operations: number;
  readonly ok: number;
  readonly info: number;
  readonly failed: number;
  readonly pending: number;
  /** Distinct terms seen in acknowledgments. */
  readonly ackTerms: number;
  /** Longest time between consecutive acknowledgments (by completion time). */
  readonly longestAckGapMs: number;
}

export function summarize(operations: readonly Operation[]): HistorySummary {
  const count = (outcome: Outcome): number => operations.filter((operation) => operation.outcome === outcome).length;
  const acked = operations.filter((operation) => operation.outcome === "ok");
  const times = acked.map((operation) => operation.completedAtMs ?? 0).sort((a, b) => a - b);
  let longestAckGapMs = 0;
  for (let at = 1; at < times.length; at += 1) longestAckGapMs = Math.max(longestAckGapMs, (times[at] ?? 0) - (times[at - 1] ?? 0));
  return {
    operations: operations.length,
    ok: acked.length,
    info: count("info"),
    failed: count("fail"),
    pending: count("pending"),
    ackTerms: new Set(acked.map((operation) => operation.term)).size,
    longestAckGapMs,
  };
}

/**
 * Check a finished history against every member's applied commands (each member's full list,
 * in index order, after all members caught up to the same commit index):
 * - acknowledged-applied: every ok payload is present on every member at exactly the index it
 *   was acknowledged at (and, with no-duplicates, exactly once);
 * - ack-index-unique: no two acknowledgments name the same index;
 * - no-duplicates: no payload appears twice in one member's log;
 * - not-invented: every payload present was invoked by some client;
 * - failed-absent: no payload whose proposal definitely failed is present;
 * - members-agree: the members hold the same payload at the same index, entry by entry, and
 *   the same set of indexes.
 * info and pending operations may or may not be present.
 */
export function checkHistory(operations: readonly Operation[], applied: ReadonlyMap<string, readonly AppliedCommand[]>, violationsMax = 20): Violation[] {
  const violations: Violation[] = [];
  const report = (check: Violation["check"], detail: string): void => {
    if (violations.length < violationsMax) violations.push({ check, detail });
  };
  const invoked = new Map<string, Operation>();
  for (const operation of operations) invoked.set(operation.payload, operation);

  const ackByIndex = new Map<number, Operation>();
  for (const operation of operations) {
    if (operation.outcome !== "ok" || operation.index === null) continue;
    const earlier = ackByIndex.get(operation.index);
    if (earlier) report("ack-index-unique", `index ${operation.index} acknowledged for both ${earlier.payload} and ${operation.payload}`);
    else ackByIndex.set(operation.index, operation);
  }

  for (const [member, commands] of applied) {
    const atIndex = new Map<number, string>();
    const indexesOf = new Map<string, number[]>();
    for (const command of commands) {
      atIndex.set(command.index, command.payload);
      const indexes = indexesOf.get(command.payload) ?? [];
      indexes.push(command.index);
      indexesOf.set(command.payload, indexes);
    }
    for (const [payload, indexes] of indexesOf) {
      if (indexes.length > 1) report("no-duplicates", `member ${member}: ${payload} applied ${indexes.length} times, at ${indexes.join(", ")}`);
      const operation = invoked.get(payload);
      if (!operation) report("not-invented", `member ${member}: ${payload} at ${indexes.join(", ")} was never invoked`);
      else if (operation.outcome === "fail") report("failed-absent", `member ${member}: ${payload} at ${indexes.join(", ")} failed definitely (${operation.detail})`);
    }
    for (const operation of operations) {
      if (operation.outcome !== "ok") continue;
      const found = atIndex.get(operation.index ?? -1);
      if (found === operation.payload) continue;
      const elsewhere = indexesOf.get(operation.payload);
      report(
        "acknowledged-applied",
        `member ${member}: ${operation.payload} acknowledged at ${operation.index} (term ${operation.term}) but ` +
          (elsewhere ? `applied at ${elsewhere.join(", ")}` : "absent") +
          (found === undefined ? `; nothing at ${operation.index}` : `; ${found} at ${operation.index}`),
      );
    }
  }

  const members = [...applied.keys()];
  const reference = members[0];
  if (reference !== undefined) {
    const referenceAt = new Map((applied.get(reference) ?? []).map((command) => [command.index, command.payload]));
    for (const member of members.slice(1)) {
      const otherAt = new Map((applied.get(member) ?? []).map((command) => [command.index, command.payload]));
      for (const index of new Set([...referenceAt.keys(), ...otherAt.keys()])) {
        const mine = referenceAt.get(index);
        const theirs = otherAt.get(index);
        if (mine !== theirs) report("members-agree", `index ${index}: ${reference} has ${mine ?? "nothing"}, ${member} has ${theirs ?? "nothing"}`);
      }
    }
  }
  return violations;
}
