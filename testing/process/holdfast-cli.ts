import { execFile } from "node:child_process";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** Runs the `holdfast` command line as a script would (through tsx), with its exit code and output. */
export function holdfast(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", main, ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
