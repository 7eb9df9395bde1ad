/**
 * What the chaos workload's clients saw, Jepsen style: each client process records an
 * `invoke` before it asks and an `ok`, `fail` (certainly did not happen) or `info` (unknown:
 * it may or may not have happened) when it learns the outcome. Deliveries arrive unasked and
 * are recorded as `ok` events. The checker (chaos-checker.ts) reads this as plain data.
 *
 * A message is named by its publisher and its number there (`orders-1:17`); each publisher
 * publishes to one store, numbers 1, 2, 3, ... in order.
 */
export type OperationType = "invoke" | "ok" | "fail" | "info";

export type Operation =
  | {
      readonly f: "publish";
      readonly type: OperationType;
      readonly timeMs: number;
      /** The publisher (a client process). */
      readonly process: string;
      readonly store: string;
      readonly messageId: string;
      readonly number: number;
      /** ok: where the store keeps it. */
      readonly storeSequence?: number;
      /** ok: the store already had it (a retry answered with the first outcome). */
      readonly duplicate?: boolean;
      readonly detail?: string;
    }
  | {
      readonly f: "deliver";
      readonly type: "ok";
      readonly timeMs: number;
      /** The subscriber (one connection). */
      readonly process: string;
      readonly store: string;
      readonly durable: string;
      readonly messageId: string;
      readonly storeSequence: number;
      readonly deliveryCount: number;
    }
  | {
      readonly f: "ack";
      readonly type: OperationType;
      readonly timeMs: number;
      readonly process: string;
      readonly store: string;
      readonly durable: string;
      readonly messageId: string;
      readonly storeSequence: number;
      readonly detail?: string;
    };

/** An operation as a client records it; the history stamps the time. */
export type NewOperation = Operation extends infer Each ? (Each extends Operation ? Omit<Each, "timeMs"> : never) : never;

/** An append-only history with a bound: past `operationsMax` the run is a harness error. */
export class ChaosHistory {
  readonly operations: Operation[] = [];
  private readonly startMs = Date.now();

  constructor(private readonly operationsMax: number) {}

  add(operation: NewOperation): void {
    if (this.operations.length >= this.operationsMax) throw new Error(`history bound reached: ${this.operationsMax} operations`);
    this.operations.push({ ...operation, timeMs: Date.now() - this.startMs } as Operation);
  }

  /** Operations a client asked for (publish and ack invokes) plus deliveries received. */
  get count(): number {
    return this.operations.filter((operation) => operation.type === "invoke" || operation.f === "deliver").length;
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const operation of this.operations) counts[`${operation.f}-${operation.type}`] = (counts[`${operation.f}-${operation.type}`] ?? 0) + 1;
    return counts;
  }
}
