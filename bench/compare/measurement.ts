/**
 * One figure measured on both systems. The ratio is oriented so that above 1 means Holdfast
 * is better: Holdfast / NATS for rates, NATS / Holdfast for latencies, gaps and memory.
 */
export interface Measurement {
  readonly name: string;
  readonly holdfast: number | null;
  readonly nats: number | null;
  readonly unit: string;
  /** Which direction is better; "none" for counts that must be zero (no ratio). */
  readonly better: "higher" | "lower" | "none";
  /** What Holdfast's confirms named (`confirm.ackPoint`), for publish figures. */
  readonly holdfastAckPoint?: string;
}

export function ratio(measurement: Measurement): number | null {
  const { holdfast, nats, better } = measurement;
  if (holdfast === null || nats === null || better === "none") return null;
  const [numerator, denominator] = better === "higher" ? [holdfast, nats] : [nats, holdfast];
  if (denominator === 0) return null;
  return numerator / denominator;
}

const round3 = (value: number | null): number | null => (value === null || !Number.isFinite(value) ? null : Number(value.toFixed(3)));

/** `{"name","holdfast","nats","ratio","unit"}` (and the ack point Holdfast's confirms named). */
export function jsonLine(measurement: Measurement): string {
  const line: Record<string, unknown> = {
    name: measurement.name,
    holdfast: round3(measurement.holdfast),
    nats: round3(measurement.nats),
    ratio: round3(ratio(measurement)),
    unit: measurement.unit,
  };
  if (measurement.holdfastAckPoint !== undefined) line.holdfastAckPoint = measurement.holdfastAckPoint;
  return JSON.stringify(line);
}
