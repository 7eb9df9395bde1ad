/**
 * `npm run bench:compare [-- --quick] [-- --write]`: Holdfast and NATS JetStream side by side
 * on this machine (issue 4). Prints one JSON line per figure
 * ({"name","holdfast","nats","ratio","unit"}; ratio above 1 means Holdfast is better), then a
 * readable table. The full run rewrites its section of docs/benchmarks.md; `--quick` only
 * with `--write`. Exit codes: 0 done, 1 failed, 2 usage or the peer cannot be installed.
 */
import { parseArgs } from "node:util";
import { writeBenchmarksSection } from "./benchmarks-doc.js";
import { ensurePeer } from "./ensure-peer.js";
import { checkGoals, formatGoals } from "./goals.js";
import { loadavg } from "node:os";
import { loadAverage, machineInfo } from "./machine.js";
import { jsonLine } from "./measurement.js";
import { details, markdownSection, notes } from "./report.js";
import { measurements } from "./results.js";
import { describeSizes, fullSizes, quickSizes } from "./sizes.js";
import { comparisonTable } from "./table.js";

let values: { quick?: boolean; write?: boolean };
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options: { quick: { type: "boolean" }, write: { type: "boolean" } } }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nusage: npm run bench:compare [-- --quick] [--write]\n`);
  process.exit(2);
}
const sizes = values.quick ? quickSizes : fullSizes;
const command = `npm run bench:compare${values.quick ? " -- --quick" : ""}`;

const peer = ensurePeer();
const loadBefore = loadAverage();
/** Before the run, a 1-minute load above 1 means others compete for the 2 cores (after it, the load is our own). */
const noisy = (loadavg()[0] ?? 0) > 1;
process.stderr.write(`bench:compare: ${describeSizes(sizes)}; load average ${loadBefore}\n`);
// Imported only now: it loads the nats client, which ensurePeer may just have installed.
const { runComparison } = await import("./run-comparison.js");
const results = await runComparison(sizes);
const loadAfter = loadAverage();
const rows = measurements(results);

for (const row of rows) process.stdout.write(`${jsonLine(row)}\n`);
process.stdout.write(`\n${comparisonTable(rows)}\n\n${notes}\n${details(results)}\n\nGoals of issue 4:\n${formatGoals(checkGoals(rows))}\n\nload average before ${loadBefore}, after ${loadAfter}${noisy ? " (noisy: other processes competed for the cores)" : ""}\n`);

if (!values.quick || values.write) {
  const file = new URL("../../docs/benchmarks.md", import.meta.url).pathname;
  const context = { date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", command, machine: machineInfo(), natsServer: peer.natsServer, natsClient: peer.natsClient, loadBefore, loadAfter, noisy, sizes: describeSizes(sizes) };
  writeBenchmarksSection(file, markdownSection(context, rows, results));
  process.stderr.write(`bench:compare: wrote its section of ${file}\n`);
}
process.exit(0);
