import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { LogLevel } from "../adapters/node/logger.js";
import { ClusterClient } from "../client/cluster-client.js";
import type { ClusterFile } from "../services/member/cluster-file.js";
import { prettyLogLines } from "./log-lines.js";
import { showScreen, untilInterrupted } from "./terminal.js";
import { spawnMember, stopChild } from "./spawn-member.js";
import { collectStatus, statusTable } from "./status-table.js";

const memberIds = ["a", "b", "c"] as const;
const statusRefreshMs = 1000;
/** The sample workload: one command per interval, so the commit index visibly moves. */
const sampleProposalIntervalMs = 500;

/**
 * `npm start` until the persistence service exists: three member processes on loopback, a
 * trickle of sample commands, and a live status table (leader, term, commit index per
 * member). Ctrl-C stops every process we started, by PID, and waits for them.
 */
export async function startLocalCluster(options: { dir: string; basePort: number; fresh: boolean; logLevel: LogLevel }): Promise<void> {
  const directory = resolve(options.dir);
  if (options.fresh) rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const cluster: ClusterFile = {
    name: "demo",
    secret: randomBytes(16).toString("hex"),
    members: memberIds.map((id, at) => ({
      id,
      weight: 1,
      host: "127.0.0.1",
      peerPort: options.basePort + 1 + at,
      clientPort: options.basePort + 11 + at,
    })),
    timing: {},
  };
  const clusterFile = join(directory, "cluster.json");
  writeFileSync(clusterFile, `${JSON.stringify(cluster, null, 2)}\n`);

  const children = new Map<string, ChildProcess>();
  for (const id of memberIds) {
    const child = spawnMember({ clusterFile, id, dataDirectory: join(directory, id), recordCommandsMax: 10_000, stdio: "pipe", logLevel: options.logLevel });
    child.stderr?.on("data", (chunk: Buffer) => recentLog.push(...prettyLogLines(chunk.toString())));
    child.on("exit", (code, signal) => recentLog.push(`member ${id} exited (${signal ?? `code ${code}`})`));
    children.set(id, child);
  }
  const recentLog: string[] = [];
  const client = new ClusterClient({ members: cluster.members, secret: cluster.secret, requestTimeoutMs: 3000 });

  let proposals = 0;
  let lastCommit = "none yet";
  const sample = setInterval(() => {
    proposals += 1;
    client.propose(new TextEncoder().encode(`sample ${proposals} at ${new Date().toISOString()}`)).then(
      (committed) => (lastCommit = `index ${committed.index}, term ${committed.term}`),
      (error: Error) => (lastCommit = `failed: ${error.message}`),
    );
  }, sampleProposalIntervalMs);

  const render = async (): Promise<void> => {
    const rows = await collectStatus(client, memberIds, 800);
    const screen = [
      `Holdfast local cluster "${cluster.name}": 3 member processes on 127.0.0.1 (data in ${directory})`,
      `cluster file: ${clusterFile}   pids: ${[...children.entries()].map(([id, child]) => `${id}=${child.pid}`).join(" ")}`,
      "",
      statusTable(rows),
      "",
      `sample commands proposed: ${proposals}; last committed: ${lastCommit}`,
      "",
      "recent log:",
      ...recentLog.splice(0, Math.max(0, recentLog.length - 8)).slice(0, 0),
      ...recentLog.slice(-8),
      "",
      "Ctrl-C stops the cluster. Try: kill -9 the leader's pid and watch a new leader take over.",
    ];
    showScreen(screen);
  };
  const refresh = setInterval(() => void render(), statusRefreshMs);

  await untilInterrupted();
  clearInterval(sample);
  clearInterval(refresh);
  client.close();
  process.stdout.write("\nstopping members...\n");
  await Promise.all([...children.values()].map((child) => stopChild(child, 5000)));
  process.stdout.write("stopped.\n");
  process.exit(0);
}
