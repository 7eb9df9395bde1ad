import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
/** The checkout: where `npx holdfast` finds the package's own `bin`. */
export const checkout = fileURLToPath(new URL("../..", import.meta.url));
/** The launcher `npx holdfast` runs (package.json `bin`). */
export const launcher = fileURLToPath(new URL("../../bin/holdfast.js", import.meta.url));

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: checkout, timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the `holdfast` command line as a script would (through tsx), with its exit code and output. */
export function holdfast(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run(process.execPath, ["--import", "tsx", main, ...args], env);
}

/**
 * Runs `npx holdfast …` in the checkout, as a new user would. `--no-install`: should the
 * package's own bin not be found, fail rather than fetch some other "holdfast" from a registry.
 */
export function npxHoldfast(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run("npx", ["--no-install", "holdfast", ...args], env);
}

/** Runs the launcher directly (what `npx holdfast` ends up running, without npm's start-up). */
export function launchHoldfast(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run(process.execPath, [launcher, ...args], env);
}

/** Starts a long-running `holdfast …` (a server) through the launcher, stderr piped. */
export function spawnHoldfast(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [launcher, ...args], { cwd: checkout, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
}
