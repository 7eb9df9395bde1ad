/**
 * `npm run bench:compare [-- --quick] [--write] [--rounds N]`: Holdfast and NATS JetStream side
 * by side on this machine (issue 4); with several rounds, each figure is the median. Prints one
 * JSON line per figure
 * ({"name","holdfast","nats","ratio","unit"}; ratio above 1 means Holdfast is better), then a
 * readable table. The full run rewrites its section of docs/benchmarks.md; `--quick` only
 * with `--write`. Exit codes: 0 done, 1 failed, 2 usage or the peer cannot be installed.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { buildFirst } from "../build-first.js";
import { writeBenchmarksSection } from "./benchmarks-doc.js";
import { ensurePeer } from "./ensure-peer.js";
import { checkGoals, formatGoals } from "./goals.js";
import { loadAverage, machineInfo } from "./machine.js";
import { jsonLine } from "./measurement.js";
import { markdownSection, notes, roundDetails } from "./report.js";
import { measurements, type ComparisonResults } from "./results.js";
import { combineRounds } from "./rounds.js";
import { describeSizes, fullSizes, quickSizes } from "./sizes.js";
import { comparisonTable } from "./table.js";

const usage = "usage: npm run bench:compare [-- --quick] [--write] [--rounds N (1-9)]";
/** Each round runs every workload on both systems; more than a few would take too long to be used. */
const roundsMax = 9;
let values: { quick?: boolean; write?: boolean; rounds?: string };
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options: { quick: { type: "boolean" }, write: { type: "boolean" }, rounds: { type: "string" } } }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(2);
}
const rounds = Number(values.rounds ?? "1");
if (!Number.isInteger(rounds) || rounds < 1 || rounds > roundsMax) {
  process.stderr.write(`--rounds: expected an integer from 1 to ${roundsMax}, got ${String(values.rounds)}\n${usage}\n`);
  process.exit(2);
}
const sizes = values.quick ? quickSizes : fullSizes;
const flags = [values.quick ? "--quick" : "", rounds > 1 ? `--rounds ${rounds}` : ""].filter((flag) => flag !== "");
const command = `npm run bench:compare${flags.length > 0 ? ` -- ${flags.join(" ")}` : ""}`;

const peer = ensurePeer();
buildFirst();
const loadBefore = loadAverage();
/** Before the run, a 1-minute load above 1 means others compete for the 2 cores (after it, the load is our own). */
const noisy = (loadavg()[0] ?? 0) > 1;
process.stderr.write(`bench:compare: ${describeSizes(sizes)}; load average ${loadBefore}\n`);
// Imported only now: it loads the nats client, which ensurePeer may just have installed.
const { runComparison } = await import("./run-comparison.js");
const results: ComparisonResults[] = [];
/** The load when each round starts: from round 2 on it includes the previous round's processes. */
const roundLoads: string[] = [];
for (let round = 1; round <= rounds; round++) {
  roundLoads.push(loadAverage());
  if (rounds > 1) process.stderr.write(`bench:compare: round ${round} of ${rounds}; load average ${roundLoads.at(-1)}\n`);
  results.push(await runComparison(sizes));
}
const loadAfter = loadAverage();
const { rows, spread } = combineRounds(results.map(measurements));

for (const row of rows) process.stdout.write(`${jsonLine(row)}\n`);
process.stdout.write(`\n${comparisonTable(rows)}\n\n${notes}\n${roundDetails(results, rows, spread)}\n\nGoals of issue 4:\n${formatGoals(checkGoals(rows))}\n\nload average before ${loadBefore}, after ${loadAfter}${rounds > 1 ? `; at the start of each round ${roundLoads.map((load) => `(${load})`).join(", ")}` : ""}${noisy ? " (noisy: other processes competed for the cores)" : ""}\n`);

if (!values.quick || values.write) {
  const file = new URL("../../docs/benchmarks.md", import.meta.url).pathname;
  const context = { date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", command, machine: machineInfo(), natsServer: peer.natsServer, natsClient: peer.natsClient, loadBefore, loadAfter, noisy, sizes: describeSizes(sizes), rounds, roundLoads };
  writeBenchmarksSection(file, markdownSection(context, rows, results, spread));
  process.stderr.write(`bench:compare: wrote its section of ${file}\n`);
}
process.exit(0);
