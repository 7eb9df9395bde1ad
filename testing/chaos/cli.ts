/**
 * npm run chaos [-- --quick] [-- --seed N] [-- --schedule random|backlog]: the fault suite on
 * real server processes (see README.md). `random` (the default): the nemesis's seeded mix of
 * faults; `backlog`: the wedged cluster's schedule (run-backlog.ts). `--log FILE`
 * writes the servers' last log lines there. The seed is the first line; the last line is
 * `faults: F, operations: O, lost: L, duplicated: D, violations: V`; exit code 1 on any violation.
 */
import { randomInt } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ChaosCluster } from "./chaos-cluster.js";
import { backlogOptions, chaosOptions } from "./chaos-options.js";
import { runBacklog } from "./run-backlog.js";
import { runChaos, type ChaosResult } from "./run-chaos.js";

const schedules = ["random", "backlog"] as const;
const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, seed: { type: "string" }, log: { type: "string" }, schedule: { type: "string", default: "random" } },
  strict: true,
});
const seed = values.seed === undefined ? randomInt(1, 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error(`--seed: expected a non-negative integer, got ${values.seed ?? ""}`);
  process.exit(2);
}
const schedule = schedules.find((name) => name === values.schedule);
if (schedule === undefined) {
  console.error(`--schedule: expected one of ${schedules.join(", ")}, got ${values.schedule ?? ""}`);
  process.exit(2);
}
const options = schedule === "backlog" ? backlogOptions(seed, values.quick) : chaosOptions(seed, values.quick);
const replay = `npm run chaos -- --seed ${seed}${options.quick ? " --quick" : ""}${schedule === "random" ? "" : ` --schedule ${schedule}`}`;
console.log(`seed: ${seed} (replay the schedule: ${replay})`);

const startedMs = Date.now();
const log = (line: string): void => console.log(`[${((Date.now() - startedMs) / 1000).toFixed(1).padStart(6)} s] ${line}`);
let cluster: ChaosCluster | undefined;

/** Stops the servers this run started (by PID, through the fixture) and exits. */
async function abort(reason: string, code: number): Promise<never> {
  console.error(reason);
  await cluster?.stop().catch(() => undefined);
  console.log(`faults: 0, operations: 0, lost: 0, duplicated: 0, violations: 1`);
  process.exit(code);
}

process.once("SIGINT", () => void abort("interrupted", 130));
process.once("SIGTERM", () => void abort("terminated", 143));
const watchdog = setTimeout(() => void abort(`the run took longer than ${options.runMsMax} ms: stopping (seed ${seed})`, 1), options.runMsMax);

let result: ChaosResult;
try {
  const register = (started: ChaosCluster): void => {
    cluster = started;
  };
  result = "faultRounds" in options ? await runChaos(options, log, register) : await runBacklog(options, log, register);
} catch (error) {
  await abort(`chaos harness failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1);
  throw error;
}
clearTimeout(watchdog);

if (values.log !== undefined) writeFileSync(values.log, `${result.serverLog.join("\n")}\n`);
const violations = [...result.check.violations, ...result.violations];
const violationCount = result.check.violationCount + result.violations.length;
if (violationCount > 0) {
  const report = join(tmpdir(), `holdfast-chaos-${seed}.json`);
  writeFileSync(report, JSON.stringify({ seed, quick: options.quick, schedule, violations, serverLog: result.serverLog, history: result.history.operations }));
  console.log(`\nviolations (first ${violations.length} of ${violationCount}):`);
  for (const violation of violations) console.log(`  ${violation.check}: ${violation.detail}`);
  console.log(`\nlast server log lines:\n${result.serverLog.slice(-40).join("\n")}`);
  console.log(`\nhistory and the last server log lines: ${report}; replay: ${replay}`);
}
log(`done in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
console.log(`faults: ${result.faults}, operations: ${result.operations}, lost: ${result.check.lost}, duplicated: ${result.check.duplicated}, violations: ${violationCount}`);
process.exit(violationCount > 0 ? 1 : 0);
