import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopChild } from "../../src/cli/spawn-member.js";
import { keepLogLines, killChild } from "../../testing/process/child-process.js";
import { freePort } from "../../testing/process/free-port.js";

export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
}

/** One nats-server's configuration: JetStream on file storage in `storeDirectory`, loopback only. */
export function natsServerConfig(node: NatsNode, all: readonly NatsNode[], storeDirectory: string): string {
  const routes = all.filter((other) => other.name !== node.name).map((other) => `nats-route://127.0.0.1:${other.routePort}`);
  return [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.clientPort}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(storeDirectory)}`,
    `  max_file_store: 8GB`,
    `  max_memory_store: 256MB`,
    `}`,
    `cluster {`,
    `  name: bench`,
    `  listen: 127.0.0.1:${node.routePort}`,
    `  routes: [${routes.join(", ")}]`,
    `}`,
    ``,
  ].join("\n");
}

/**
 * Three nats-server processes forming one JetStream cluster on loopback, data in a temp
 * directory. Only processes this fixture started are signalled, by their ChildProcess.
 */
export class NatsCluster {
  readonly children = new Map<string, ChildProcess>();
  readonly logLines: string[] = [];

  private constructor(
    readonly directory: string,
    readonly nodes: readonly NatsNode[],
  ) {}

  static async start(binary = "nats-server"): Promise<NatsCluster> {
    const directory = mkdtempSync(join(tmpdir(), "holdfast-nats-"));
    const nodes: NatsNode[] = [];
    for (const name of ["n1", "n2", "n3"]) nodes.push({ name, clientPort: await freePort(), routePort: await freePort() });
    const cluster = new NatsCluster(directory, nodes);
    for (const node of nodes) writeFileSync(cluster.configFile(node.name), natsServerConfig(node, nodes, join(directory, node.name)));
    for (const node of nodes) cluster.startServer(node.name, binary);
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => `nats://127.0.0.1:${node.clientPort}`);
  }

  private configFile(name: string): string {
    return join(this.directory, `${name}.conf`);
  }

  startServer(name: string, binary = "nats-server"): void {
    const child = spawn(binary, ["-c", this.configFile(name)], { stdio: ["ignore", "pipe", "pipe"] });
    keepLogLines(child, this.logLines, 200);
    this.children.set(name, child);
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
  }

  async kill(name: string): Promise<void> {
    await killChild(this.children.get(name));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.values()].map((child) => stopChild(child, 3000)));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
