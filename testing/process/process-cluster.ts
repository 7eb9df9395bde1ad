import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnMember, stopChild } from "../../src/cli/spawn-member.js";
import { withTimeout } from "../../src/cli/with-timeout.js";
import { ClusterClient } from "../../src/client/cluster-client.js";
import type { MemberStatus } from "../../src/protocols/consensus/types.js";
import type { ClusterFile } from "../../src/services/member/cluster-file.js";
import { keepLogLines, killChild } from "./child-process.js";
import { freePort } from "./free-port.js";

export interface ProcessClusterOptions {
  readonly memberCount?: number;
  readonly recordCommandsMax?: number;
  readonly timing?: ClusterFile["timing"];
  /** Keep members' log lines (for a failing test's report). */
  readonly keepLogLines?: number;
}

/**
 * Real member processes on loopback for tests and benchmarks: real TCP, real files with
 * fsync, kill -9 by PID. Only processes this fixture started are ever signalled.
 */
export class ProcessCluster {
  readonly children = new Map<string, ChildProcess>();
  readonly logLines: string[] = [];
  readonly client: ClusterClient;

  private constructor(
    readonly directory: string,
    readonly cluster: ClusterFile,
    readonly clusterFile: string,
    private readonly options: ProcessClusterOptions,
  ) {
    this.client = new ClusterClient({ members: cluster.members, secret: cluster.secret, requestTimeoutMs: 15_000 });
  }

  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const directory = mkdtempSync(join(tmpdir(), "holdfast-cluster-"));
    const ids = ["a", "b", "c", "d", "e"].slice(0, options.memberCount ?? 3);
    const members = [];
    for (const id of ids) members.push({ id, weight: 1, host: "127.0.0.1", peerPort: await freePort(), clientPort: await freePort() });
    const cluster: ClusterFile = { name: "test", secret: randomBytes(16).toString("hex"), members, timing: options.timing ?? {} };
    const clusterFile = join(directory, "cluster.json");
    writeFileSync(clusterFile, JSON.stringify(cluster));
    const processCluster = new ProcessCluster(directory, cluster, clusterFile, options);
    for (const id of ids) processCluster.startMember(id);
    return processCluster;
  }

  startMember(id: string): ChildProcess {
    const dataDirectory = join(this.directory, id);
    mkdirSync(dataDirectory, { recursive: true });
    const child = spawnMember({ clusterFile: this.clusterFile, id, dataDirectory, recordCommandsMax: this.options.recordCommandsMax ?? 0, stdio: "pipe" });
    keepLogLines(child, this.logLines, this.options.keepLogLines ?? 400);
    this.children.set(id, child);
    return child;
  }

  /** kill -9: the process gets no chance to flush or hand over. */
  async kill(id: string): Promise<void> {
    await killChild(this.children.get(id));
  }

  async status(id: string): Promise<MemberStatus | null> {
    try {
      return (await withTimeout(this.client.status(id), 1000)).status;
    } catch {
      return null;
    }
  }

  /** Wait until some member leads with a commit in its term; returns its id. */
  async waitForLeader(timeoutMs = 15_000, exclude: readonly string[] = []): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const member of this.cluster.members) {
        if (exclude.includes(member.id)) continue;
        const status = await this.status(member.id);
        if (status?.role === "leader" && status.commitIndex > 0 && status.consistency === "up-to-date") return member.id;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.logLines.slice(-40).join("\n")}`);
  }

  /** SIGTERM every member we started, SIGKILL stragglers, remove the data. */
  async stop(): Promise<void> {
    this.client.close();
    await Promise.all([...this.children.values()].map((child) => stopChild(child, 3000)));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
