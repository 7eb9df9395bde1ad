import type { Connection } from "../../src/client/client.js";

export interface PublishLoopResult {
  readonly confirmed: number;
  /** Every publish that failed, with why (a real publisher must see none during an attack). */
  readonly failures: readonly string[];
  /** Each confirmed publish's time from the call to its confirm, in order (for the benchmark). */
  readonly latenciesMs: readonly number[];
}

/**
 * A real publisher: confirm-mode publishes one after another until stopped, counting confirms
 * and keeping every failure. The loop is bounded by `stop()`, which the test always calls.
 */
export function keepPublishing(connection: Connection, endpoint = "orders-in"): { stop(): Promise<PublishLoopResult> } {
  const publisher = connection.publisher(endpoint);
  const failures: string[] = [];
  const latenciesMs: number[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let n = 0; !stopped; n += 1) {
      const invokedAt = performance.now();
      try {
        await publisher.publish({ subject: "ORDERS.EU.new", n: BigInt(n) });
        latenciesMs.push(performance.now() - invokedAt);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { confirmed: latenciesMs.length, failures, latenciesMs };
    },
  };
}

/** Resolves after `ms` (a pause between attack rounds, never a timing assertion). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
