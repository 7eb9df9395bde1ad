/**
 * The `holdfast` command as a new user meets it: `npx holdfast` in a checkout without a build
 * (the sources through tsx), help for every subcommand, the documented exit code for a usage
 * error, and a server's log as JSON lines with the fields that say where each came from.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepLogLines, logEntries } from "./child-process.js";
import { launchHoldfast, npxHoldfast, spawnHoldfast } from "./holdfast-cli.js";
import { RealmCluster } from "./realm-cluster.js";
import { waitFor } from "./wait-for.js";

/** As right after `npm ci` in a clean clone: no build, so the launcher runs the sources. */
const withoutBuild = { HOLDFAST_USE_BUILD: "0" };
/** README: 0 ok, 1 failure, 2 usage or invalid file, 3 no leader, 4 disk failure, 5 refused. */
const usageExitCode = 2;

const subcommands = [
  ["demo"],
  ["server"],
  ["pub"],
  ["sub"],
  ["status"],
  ["admin"],
  ["admin", "deploy"],
  ["admin", "status"],
  ["admin", "clients"],
  ["admin", "revisions"],
  ["consensus-demo"],
  ["member"],
  ["propose"],
  ["force-quorum"],
];

describe("npx holdfast", () => {
  it("prints its help, listing every command and the exit codes", async () => {
    const help = await npxHoldfast(["--help"], withoutBuild);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: holdfast /);
    for (const command of new Set(subcommands.map((words) => words[0]))) expect(help.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 failure, 2 usage or invalid file");
  });

  it("gives a subcommand's help, and exits 2 for a usage error", async () => {
    const help = await npxHoldfast(["server", "--help"], withoutBuild);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: holdfast server \[options\]\n\nrun one holdfast server/);
    expect(help.stdout).toContain("--log-level <level>");
    const missing = await npxHoldfast(["server", "--name", "s1"], withoutBuild);
    expect(missing.code).toBe(usageExitCode);
    expect(missing.stderr).toContain("required option '--realm <file>' not specified");
    const unknown = await npxHoldfast(["publish"], withoutBuild);
    expect(unknown.code).toBe(usageExitCode);
    expect(unknown.stderr).toContain("unknown command 'publish'");
  });

  it("describes every subcommand in its --help", async () => {
    for (const words of subcommands) {
      const help = await launchHoldfast([...words, "--help"], withoutBuild);
      expect(help.code, `${words.join(" ")}: ${help.stderr}`).toBe(0);
      // The usage line, then a description of at least a few words.
      expect(help.stdout, words.join(" ")).toMatch(new RegExp(`^Usage: holdfast ${words.join(" ")} .*\\n\\n\\S+( \\S+){3,}`));
    }
  }, 60_000);

  it("refuses a log level it does not know, from the option or the environment", async () => {
    const option = await launchHoldfast(["server", "--realm", "r.yaml", "--name", "s1", "--log-level", "loud"], withoutBuild);
    expect(option.code).toBe(usageExitCode);
    expect(option.stderr).toContain("Allowed choices are info, warn, error, silent");
    const environment = await launchHoldfast(["server", "--realm", "r.yaml", "--name", "s1"], { ...withoutBuild, HOLDFAST_LOG_LEVEL: "loud" });
    expect(environment.code).toBe(usageExitCode);
    expect(environment.stderr).toContain("from env 'HOLDFAST_LOG_LEVEL' is invalid");
  });
});

describe("holdfast server's log", () => {
  let realm: RealmCluster;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    // Only for its realm file (free loopback ports, one server): its own server is stopped.
    realm = await RealmCluster.start({ mode: "process", serverCount: 1 });
    await realm.kill("s1");
  }, 60_000);

  afterAll(async () => {
    server?.kill("SIGKILL");
    await realm?.stop();
  });

  /** Start s1 through the launcher, wait for its admin port and `ready`, SIGTERM it; its log lines and exit code. */
  async function runUntilStopped(
    data: string,
    env: NodeJS.ProcessEnv,
    ready: (lines: readonly string[]) => boolean,
  ): Promise<{ lines: string[]; code: number | null }> {
    const child = spawnHoldfast(["server", "--realm", realm.realmFile, "--name", "s1", "--data", join(realm.directory, data)], { ...withoutBuild, ...env });
    server = child;
    const lines: string[] = [];
    keepLogLines(child, lines, 1000);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let up = false;
    const deadline = Date.now() + 30_000;
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = (await realm.status("s1")) !== null;
      if (!up) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(up, lines.join("\n")).toBe(true);
    await waitFor(() => ready(lines), 20_000);
    child.kill("SIGTERM");
    return { lines, code: await exited };
  }

  it("is JSON lines on stderr, each saying which server, cluster and service it is about", async () => {
    const { lines, code } = await runUntilStopped("info", {}, (lines) => logEntries(lines).some((entry) => entry.role === "leader"));
    expect(code).toBe(0);
    const entries = logEntries(lines);
    expect(entries).toHaveLength(lines.filter((line) => line !== "").length);
    expect(entries.every((entry) => entry.server === "s1" && typeof entry.time === "string")).toBe(true);
    expect(entries).toContainEqual(expect.objectContaining({ level: "info", msg: expect.stringMatching(/^server s1: clients on 127\.0\.0\.1:\d+/) }));
    expect(entries).toContainEqual(expect.objectContaining({ level: "warn", cluster: "c1", service: "c1-s1", msg: expect.stringContaining("starting empty") }));
    expect(entries).toContainEqual(expect.objectContaining({ level: "info", cluster: "c1", service: "c1-s1", role: "leader", term: expect.any(Number) }));
    expect(entries).toContainEqual(expect.objectContaining({ level: "info", msg: "SIGTERM: handing over leadership and stopping" }));
  }, 60_000);

  it("keeps only the levels HOLDFAST_LOG_LEVEL asks for", async () => {
    const { lines, code } = await runUntilStopped("warn", { HOLDFAST_LOG_LEVEL: "warn" }, () => true);
    expect(code).toBe(0);
    const entries = logEntries(lines);
    expect(entries.map((entry) => entry.level)).toContain("warn");
    expect(entries.filter((entry) => entry.level === "info")).toEqual([]);
  }, 60_000);
});
