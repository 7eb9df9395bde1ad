/**
 * `npm run bench -- <name> [options]`. Each benchmark prints one JSON line per figure
 * ({"name", "value", "unit", ...}) and then a readable summary.
 */
const benchmarks: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  consensus: () => import("./consensus.js"),
};

const [name, ...args] = process.argv.slice(2);
if (!name || !(name in benchmarks)) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}> [options]\n`);
  process.exit(2);
}
const benchmark = await benchmarks[name]!();
await benchmark.run(args);
process.exit(0);
