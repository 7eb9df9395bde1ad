/**
 * `npm run bench -- <name> [options]`. Each benchmark prints one JSON line per figure
 * ({"name", "value", "unit", ...}) and then a readable summary.
 */
import { buildFirst } from "./build-first.js";

const benchmarks: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  consensus: async () => (await import("./consensus.js")).run,
  publish: async () => (await import("./persistence.js")).publishBench,
  consume: async () => (await import("./persistence.js")).consumeBench,
  "persistence-state": async () => (await import("./persistence-state.js")).persistenceStateBench,
  "bus-match": async () => (await import("./bus-match.js")).busMatchBench,
  "realm-failover": async () => (await import("./realm-failover.js")).realmFailoverBench,
  adversarial: async () => (await import("./adversarial.js")).adversarialBench,
};

const [name, ...args] = process.argv.slice(2);
if (!name || !(name in benchmarks)) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}> [options]\n`);
  process.exit(2);
}
// The process benchmarks start servers from the build.
if (name === "publish" || name === "consume" || name === "adversarial") buildFirst();
const run = await benchmarks[name]!();
await run(args);
process.exit(0);
