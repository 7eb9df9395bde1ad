/** How much each workload does: the issue's figures, and `--quick`'s smaller ones. */
export interface Sizes {
  readonly warmUp: number;
  readonly publish: number;
  readonly window: number;
  readonly sync: number;
  readonly failoverMs: number;
  readonly killAtMs: number;
  /** Upper bounds on each timed workload, so a stuck system cannot hang the run. */
  readonly publishTimeLimitMs: number;
  readonly consumeTimeLimitMs: number;
}

export const fullSizes: Sizes = { warmUp: 2000, publish: 100_000, window: 256, sync: 5000, failoverMs: 15_000, killAtMs: 5000, publishTimeLimitMs: 120_000, consumeTimeLimitMs: 120_000 };
export const quickSizes: Sizes = { warmUp: 1000, publish: 10_000, window: 256, sync: 500, failoverMs: 8000, killAtMs: 3000, publishTimeLimitMs: 60_000, consumeTimeLimitMs: 60_000 };

export function describeSizes(sizes: Sizes): string {
  return `publish-r3 ${sizes.publish} x 128 B with ${sizes.window} outstanding, publish-r3-sync ${sizes.sync}, consume-r3 ${sizes.publish}, failover-r3 ${sizes.failoverMs / 1000} s with the kill at ${sizes.killAtMs / 1000} s`;
}
