import { join } from "node:path";
import type { ServerStatus, ServiceStatus } from "../../src/services/server/server-status.js";
import { RealmCluster, testCredentials, type RealmClusterOptions } from "../process/realm-cluster.js";
import { chaosRealmParts } from "./chaos-realm.js";
import { LinkMesh } from "./link-mesh.js";

export const chaosCluster = "c1";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The realm a chaos cluster runs and how its members are linked. */
export interface ChaosClusterSetup {
  readonly parts: Pick<RealmClusterOptions, "stores" | "durables" | "endpoints">;
  /**
   * "proxied": member links through a LinkMesh (partitions, slow links); "direct": no proxies,
   * with the demo realm's roles (RealmCluster's realmRoles) so that deploys work. A deploy
   * gives every server the same definition, which would undo the proxied per-server copies.
   */
  readonly links: "proxied" | "direct";
}

export const randomHistorySetup: ChaosClusterSetup = { parts: chaosRealmParts, links: "proxied" };

/**
 * Three `holdfast server` processes (RealmCluster, process mode) whose member links run through
 * a LinkMesh of proxies (or not, see ChaosClusterSetup), and the signals the nemesis sends them:
 * kill -9, SIGSTOP, SIGCONT, always to a process this harness started, by its PID.
 */
export class ChaosCluster {
  private readonly paused = new Set<string>();

  private constructor(
    readonly realmCluster: RealmCluster,
    private readonly links: LinkMesh | null,
  ) {}

  static async start(setup: ChaosClusterSetup = randomHistorySetup): Promise<ChaosCluster> {
    if (setup.links === "direct") {
      const realmCluster = await RealmCluster.start({ mode: "process", ...setup.parts, keepLogLines: 30_000, realmRoles: true });
      return new ChaosCluster(realmCluster, null);
    }
    let mesh: LinkMesh | undefined;
    const realmCluster = await RealmCluster.start({
      mode: "process",
      ...setup.parts,
      keepLogLines: 30_000,
      serverRealm: async (server, realm) => {
        mesh ??= await LinkMesh.start(realm, chaosCluster);
        return mesh.realmFor(server, realm);
      },
    });
    if (!mesh) throw new Error("the link mesh was not started");
    return new ChaosCluster(realmCluster, mesh);
  }

  /** The link proxies; only a "proxied" cluster has them. */
  get mesh(): LinkMesh {
    if (this.links === null) throw new Error("this chaos cluster's members are linked directly: no link faults");
    return this.links;
  }

  get servers(): string[] {
    return this.realmCluster.realm.servers.map((server) => server.name);
  }

  get client(): { servers: string[]; app: string; user: string; password: string } {
    return { servers: this.realmCluster.addresses, ...testCredentials };
  }

  /** The directory of `server`'s write-ahead log for the cluster's service. */
  walDirectory(server: string): string {
    return join(this.realmCluster.directory, server, `${chaosCluster}-${server}`);
  }

  pid(server: string): number | undefined {
    return this.realmCluster.children.get(server)?.pid;
  }

  isRunning(server: string): boolean {
    const child = this.realmCluster.children.get(server);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async kill(server: string): Promise<void> {
    this.paused.delete(server);
    await this.realmCluster.kill(server);
  }

  async restart(server: string): Promise<void> {
    if (this.isRunning(server)) return;
    await this.realmCluster.startServer(server);
  }

  pause(server: string): void {
    const child = this.realmCluster.children.get(server);
    if (!child || !this.isRunning(server)) return;
    child.kill("SIGSTOP");
    this.paused.add(server);
  }

  resume(server: string): void {
    const child = this.realmCluster.children.get(server);
    if (child && this.paused.delete(server) && this.isRunning(server)) child.kill("SIGCONT");
  }

  /** Every link up, every paused server continued, every stopped server started. */
  async healAll(): Promise<void> {
    await this.links?.heal();
    for (const server of [...this.paused]) this.resume(server);
    for (const server of this.servers) await this.restart(server);
  }

  async leader(timeoutMs: number): Promise<string> {
    return this.realmCluster.waitForLeader(timeoutMs);
  }

  async serviceStatus(server: string): Promise<ServiceStatus | null> {
    const status: ServerStatus | null = await this.realmCluster.status(server);
    return status?.services.find((service) => service.cluster === chaosCluster) ?? null;
  }

  async statuses(): Promise<Map<string, ServiceStatus | null>> {
    const entries = await Promise.all(this.servers.map(async (server) => [server, await this.serviceStatus(server)] as const));
    return new Map(entries);
  }

  /**
   * Healthy: one leader, every other service following it up to date, not empty, with the
   * leader's commit index in its log. Polls until then or the deadline; returns whether it was.
   */
  async waitHealthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const statuses = [...(await this.statuses()).values()];
      const leader = statuses.find((status) => status?.role === "leader");
      if (leader && statuses.every((status) => status !== null && !status.empty && status.consistency === "up-to-date" && status.term === leader.term && status.leader === leader.service && status.history.index >= leader.commitIndex)) return true;
      await sleep(100);
    }
    return false;
  }

  async stop(): Promise<void> {
    for (const server of [...this.paused]) this.resume(server);
    await this.realmCluster.stop();
    await this.links?.close();
  }
}
