/**
 * After failover, every acknowledged message must be present exactly once. Messages whose
 * publish failed or timed out may be absent or present once (the outcome was unknown), never
 * twice: a retry must be deduplicated.
 */
export interface ExactlyOnceReport {
  readonly acknowledged: number;
  readonly present: number;
  /** Acknowledged ids absent from what was read back. */
  readonly lost: readonly number[];
  /** Ids read back more than once (acknowledged or not). */
  readonly duplicated: readonly number[];
  /** Ids read back that were never published: a harness bug or corruption. */
  readonly unknown: readonly number[];
}

/** How many ids each list keeps, so a broken run prints a sample, not megabytes. */
const sampleMax = 20;

export function checkExactlyOnce(acknowledged: Iterable<number>, published: ReadonlySet<number>, readBack: readonly number[]): ExactlyOnceReport {
  const counts = new Map<number, number>();
  for (const id of readBack) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost: number[] = [];
  let acknowledgedCount = 0;
  for (const id of acknowledged) {
    acknowledgedCount += 1;
    if (!counts.has(id)) lost.push(id);
  }
  const duplicated: number[] = [];
  const unknown: number[] = [];
  for (const [id, count] of counts) {
    if (count > 1) duplicated.push(id);
    if (!published.has(id)) unknown.push(id);
  }
  return { acknowledged: acknowledgedCount, present: counts.size, lost, duplicated, unknown };
}

/** One line for the log: counts and a sample of each kind of violation. */
export function describeExactlyOnce(report: ExactlyOnceReport): string {
  const sample = (ids: readonly number[]): string => (ids.length === 0 ? "0" : `${ids.length} (${ids.slice(0, sampleMax).join(", ")}${ids.length > sampleMax ? ", …" : ""})`);
  return `acknowledged ${report.acknowledged}, present ${report.present}, lost ${sample(report.lost)}, duplicated ${sample(report.duplicated)}, never published ${sample(report.unknown)}`;
}
