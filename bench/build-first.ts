import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Compile the servers the benchmarks start (`npm run build`): production runs the build, and
 * the same code through tsx idles in about 40 MiB more per process, which is not the product's
 * memory. Runs once per benchmark command, before any server starts (about 6 s).
 */
export function buildFirst(): void {
  process.stderr.write("building (npm run build) so the servers run compiled, as in production…\n");
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
