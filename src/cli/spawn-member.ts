import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LogLevel } from "../adapters/node/logger.js";

const here = fileURLToPath(import.meta.url);
/** This command runs compiled (`npm run build`, or the `holdfast` launcher found a current build). */
const runningBuilt = here.endsWith(".js");
const mainScript = join(dirname(here), "main.ts");
/**
 * The compiled CLI (`npm run build`): beside this file when it runs compiled, else under dist/.
 * Production runs this; it idles in about 40 MiB less than the same code through tsx.
 */
const builtMainScript = runningBuilt ? join(dirname(here), "main.js") : join(dirname(here), "..", "..", "dist", "src", "cli", "main.js");

/**
 * Node flags for every server process. A young generation of at most 4 MiB per semi-space
 * (V8's default grows to 16): a server's short-lived garbage is small per message, and the
 * larger young generation held about 25 MiB of resident memory per server with 100,000
 * retained messages for no measurable throughput (bench publish, back-to-back runs).
 * Production runs `node --max-semi-space-size=4 dist/src/cli/main.js server …` (README).
 */
export const serverNodeFlags: readonly string[] = ["--max-semi-space-size=4"];

/** What a spawned server runs: the TypeScript sources through tsx (as `npm start`), or the build. */
export type ServerCode = "sources" | "build";

/** Children run the code this process runs: a built demo needs neither tsx nor the sources. */
function codeArgs(code: ServerCode): string[] {
  return code === "build" ? [builtMainScript] : ["--import", "tsx", mainScript];
}

const ownCode: ServerCode = runningBuilt ? "build" : "sources";

export interface SpawnMemberOptions {
  readonly clusterFile: string;
  readonly id: string;
  readonly dataDirectory: string;
  readonly recordCommandsMax?: number;
  /** Where the member's log lines go; default: inherit stderr. */
  readonly stdio?: "inherit" | "pipe" | "ignore";
  readonly extraNodeArgs?: readonly string[];
  readonly logLevel?: LogLevel;
}

/**
 * Start one member as its own OS process (real TCP, real files, killable with kill -9), from
 * the same code as this process (the sources through tsx, or the build).
 */
export function spawnMember(options: SpawnMemberOptions): ChildProcess {
  // HOLDFAST_PROFILE_DIR=dir writes a V8 CPU profile per member on exit (see docs/benchmarks.md).
  const profileDirectory = process.env.HOLDFAST_PROFILE_DIR;
  const profile = profileDirectory ? ["--cpu-prof", "--cpu-prof-dir", profileDirectory] : [];
  const args = [
    ...profile,
    ...(options.extraNodeArgs ?? []),
    ...codeArgs(ownCode),
    "member",
    "--cluster",
    options.clusterFile,
    "--id",
    options.id,
    "--data",
    options.dataDirectory,
    "--record-commands",
    String(options.recordCommandsMax ?? 0),
    ...(options.logLevel === undefined ? [] : ["--log-level", options.logLevel]),
  ];
  const stdio = options.stdio ?? "inherit";
  return spawn(process.execPath, args, { stdio: ["ignore", stdio, stdio] });
}

/**
 * Stop a member we started: SIGTERM (it hands over leadership and exits), SIGKILL if it is
 * still running after `graceMs`. Resolves once it exited.
 */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
  });
}

export interface SpawnServerOptions {
  readonly realmFile: string;
  readonly name: string;
  readonly dataDirectory: string;
  readonly stdio?: "inherit" | "pipe" | "ignore";
  readonly extraNodeArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Default: what this process runs (the sources through tsx, as `npm start`); "build" needs a current `npm run build`. */
  readonly code?: ServerCode;
  /** Default: the server's own (info, or HOLDFAST_LOG_LEVEL in `env`). */
  readonly logLevel?: LogLevel;
}

/** Start one `holdfast server` as its own OS process. */
export function spawnServer(options: SpawnServerOptions): ChildProcess {
  const profileDirectory = process.env.HOLDFAST_PROFILE_DIR;
  const profile = profileDirectory ? ["--cpu-prof", "--cpu-prof-dir", profileDirectory] : [];
  const code = codeArgs(options.code ?? ownCode);
  const logLevel = options.logLevel === undefined ? [] : ["--log-level", options.logLevel];
  const server = ["server", "--realm", options.realmFile, "--name", options.name, "--data", options.dataDirectory, ...logLevel];
  const args = [...profile, ...serverNodeFlags, ...(options.extraNodeArgs ?? []), ...code, ...server];
  const stdio = options.stdio ?? "inherit";
  return spawn(process.execPath, args, { stdio: ["ignore", stdio, stdio], env: options.env ?? process.env });
}
