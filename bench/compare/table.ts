import { ratio, type Measurement } from "./measurement.js";

/** Digits shown per unit: rates as whole numbers, times in hundredths of a millisecond. */
function formatValue(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return "—";
  if (unit === "ms") return value >= 100 ? value.toFixed(0) : value.toFixed(2);
  if (unit === "MiB") return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

function formatRatio(measurement: Measurement): string {
  const value = ratio(measurement);
  return value === null ? "—" : `${value.toFixed(2)}x`;
}

/** A Markdown table (readable in a terminal and in docs/benchmarks.md alike). */
export function comparisonTable(measurements: readonly Measurement[]): string {
  const rows = measurements.map((measurement) => [
    measurement.name,
    measurement.unit,
    formatValue(measurement.holdfast, measurement.unit),
    formatValue(measurement.nats, measurement.unit),
    formatRatio(measurement),
    measurement.holdfastAckPoint ?? "",
  ]);
  const header = ["figure", "unit", "Holdfast", "NATS", "ratio (>1: Holdfast better)", "Holdfast confirms named"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] as number)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Each figure's value in every round (when there were several), below the table of medians. */
export function spreadLines(rows: readonly Measurement[], spread: ReadonlyMap<string, { holdfast: readonly (number | null)[]; nats: readonly (number | null)[] }>): string {
  return rows
    .map((row) => {
      const values = spread.get(row.name);
      if (!values) return "";
      const list = (of: readonly (number | null)[]): string => of.map((value) => formatValue(value, row.unit)).join(" / ");
      return `- ${row.name} (${row.unit}): Holdfast ${list(values.holdfast)}; NATS ${list(values.nats)}`;
    })
    .filter((line) => line !== "")
    .join("\n");
}
