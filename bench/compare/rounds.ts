import type { Measurement } from "./measurement.js";

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function combine(values: readonly (number | null)[], better: Measurement["better"]): number | null {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0) return null;
  // Counts that must be zero (lost, duplicated): the worst round, never an average that hides one.
  return better === "none" ? Math.max(...known) : median(known);
}

/**
 * Several rounds of the same comparison as one row per figure: the median of each system's
 * values (the worst round for lost/duplicated counts), with every round's values kept for the
 * report. Rows are matched by name; the first round fixes the order.
 */
export function combineRounds(rounds: readonly (readonly Measurement[])[]): { readonly rows: Measurement[]; readonly spread: Map<string, { holdfast: (number | null)[]; nats: (number | null)[] }> } {
  const first = rounds[0] ?? [];
  const spread = new Map<string, { holdfast: (number | null)[]; nats: (number | null)[] }>();
  const rows = first.map((row) => {
    const same = rounds.map((round) => round.find((candidate) => candidate.name === row.name));
    const holdfast = same.map((candidate) => candidate?.holdfast ?? null);
    const nats = same.map((candidate) => candidate?.nats ?? null);
    spread.set(row.name, { holdfast, nats });
    const ackPoints = [...new Set(same.map((candidate) => candidate?.holdfastAckPoint).filter((point): point is string => point !== undefined))];
    const combined: Measurement = { ...row, holdfast: combine(holdfast, row.better), nats: combine(nats, row.better) };
    return ackPoints.length > 0 ? { ...combined, holdfastAckPoint: ackPoints.join(" / ") } : combined;
  });
  return { rows, spread };
}
