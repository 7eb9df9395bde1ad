import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RealmDefinition } from "../../src/realm/schema.js";
import { servicePeerPort } from "../../src/services/server/server.js";
import type { LinkState } from "./link-proxy.js";

const proxyScript = join(dirname(fileURLToPath(import.meta.url)), "proxy-process.ts");
/** Starting the proxy process, and one command to it, must not take longer than this. */
const proxyAnswerMsMax = 20_000;

/**
 * One proxy per directed link between the servers of one cluster, and the realm definition
 * each server reads so that it dials its peers through them.
 *
 * No product change is needed: a server listens on its own peer port (servicePeerPort: its
 * `ports.peer` plus the cluster's position among the clusters it hosts) and dials each peer
 * at that peer's entry in the realm. In server A's copy every other server's `ports.peer` is
 * the port of proxy A -> that server, while A's own entry keeps its real port. Servers never
 * compare realm files; the client ports are untouched, so clients always reach every server.
 * The proxies run in a process of their own (proxy-process.ts), away from the workload.
 */
export class LinkMesh {
  private nextCommand = 1;
  private readonly waiting = new Map<number, () => void>();
  private readonly states = new Map<string, LinkState>();

  private constructor(
    private readonly cluster: string,
    private readonly child: ChildProcess,
    /** Each link's proxy port. */
    private readonly ports: ReadonlyMap<string, number>,
  ) {
    for (const name of ports.keys()) this.states.set(name, { kind: "up" });
    child.on("message", (message: { done?: number }) => {
      if (message.done === undefined) return;
      this.waiting.get(message.done)?.();
      this.waiting.delete(message.done);
    });
  }

  /** Starts the proxies in their own process (proxy-process.ts). */
  static async start(realm: RealmDefinition, cluster: string): Promise<LinkMesh> {
    const servers = serversOf(realm, cluster);
    const links: { name: string; targetPort: number }[] = [];
    for (const from of servers) {
      for (const to of servers) if (from !== to) links.push({ name: linkName(from, to), targetPort: servicePeerPort(realm, to, cluster) });
    }
    const child = spawn(process.execPath, ["--import", "tsx", proxyScript, JSON.stringify(links)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const ports = await new Promise<Map<string, number>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`link proxies not ready within ${proxyAnswerMsMax} ms`)), proxyAnswerMsMax);
      child.once("exit", (code) => reject(new Error(`link proxy process exited (${code ?? "signal"})`)));
      child.once("message", (message: { ready?: Record<string, number> }) => {
        clearTimeout(timer);
        if (message.ready) resolve(new Map(Object.entries(message.ready)));
      });
    }).catch((error: unknown) => {
      child.kill("SIGKILL");
      throw error;
    });
    return new LinkMesh(cluster, child, ports);
  }

  /** Server `server`'s copy of the realm: its peers' peer ports point at its outbound proxies. */
  realmFor(server: string, realm: RealmDefinition): RealmDefinition {
    const servers = realm.servers.map((entry) => {
      if (entry.name === server) return entry;
      const port = this.ports.get(linkName(server, entry.name));
      if (port === undefined) return entry;
      // The service dials ports.peer + offset; this cluster's offset must then land on the proxy.
      const offset = servicePeerPort(realm, entry.name, this.cluster) - entry.ports.peer;
      return { ...entry, ports: { ...entry.ports, peer: port - offset } };
    });
    return { ...realm, servers };
  }

  /** Cut `server` from every peer, both directions (its clients still reach it). */
  isolate(server: string): Promise<void> {
    return this.set(this.linksAround(server), { kind: "down" });
  }

  /** Delay every message to and from `server`. */
  slow(server: string, delayMs: number): Promise<void> {
    return this.set(this.linksAround(server), { kind: "slow", delayMs });
  }

  heal(): Promise<void> {
    return this.set([...this.ports.keys()], { kind: "up" });
  }

  /** Links not up, for the log ("s1->s2 down"). */
  describe(): string {
    const faulty = [...this.states].filter(([, state]) => state.kind !== "up");
    return faulty.map(([name, state]) => `${name} ${state.kind}`).join(", ") || "all links up";
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await exited;
  }

  private linksAround(server: string): string[] {
    return [...this.ports.keys()].filter((name) => name.split("->").includes(server));
  }

  private set(names: readonly string[], state: LinkState): Promise<void> {
    for (const name of names) this.states.set(name, state);
    const id = this.nextCommand++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`link proxy process did not answer within ${proxyAnswerMsMax} ms`)), proxyAnswerMsMax);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.send({ id, names, state });
    });
  }
}

function linkName(from: string, to: string): string {
  return `${from}->${to}`;
}

function serversOf(realm: RealmDefinition, cluster: string): string[] {
  const definition = realm.clusters.find((candidate) => candidate.name === cluster);
  if (!definition) throw new Error(`cluster "${cluster}" is not in the realm`);
  return definition.services.map((service) => service.server);
}
