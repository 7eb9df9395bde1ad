import type { RealmDefinition } from "../../src/realm/schema.js";
import { servicePeerPort } from "../../src/services/server/server.js";
import { LinkProxy, type LinkState } from "./link-proxy.js";

/**
 * One proxy per directed link between the servers of one cluster, and the realm definition
 * each server reads so that it dials its peers through them.
 *
 * No product change is needed: a server listens on its own peer port (servicePeerPort: its
 * `ports.peer` plus the cluster's position among the clusters it hosts) and dials each peer
 * at that peer's entry in the realm. In server A's copy every other server's `ports.peer` is
 * the port of proxy A -> that server, while A's own entry keeps its real port. Servers never
 * compare realm files; the client ports are untouched, so clients always reach every server.
 */
export class LinkMesh {
  private constructor(
    private readonly cluster: string,
    private readonly proxies: ReadonlyMap<string, LinkProxy>,
  ) {}

  static async start(realm: RealmDefinition, cluster: string): Promise<LinkMesh> {
    const servers = serversOf(realm, cluster);
    const proxies = new Map<string, LinkProxy>();
    for (const from of servers) {
      for (const to of servers) {
        if (from === to) continue;
        proxies.set(linkName(from, to), await LinkProxy.start(linkName(from, to), servicePeerPort(realm, to, cluster)));
      }
    }
    return new LinkMesh(cluster, proxies);
  }

  /** Server `server`'s copy of the realm: its peers' peer ports point at its outbound proxies. */
  realmFor(server: string, realm: RealmDefinition): RealmDefinition {
    const servers = realm.servers.map((entry) => {
      if (entry.name === server) return entry;
      const proxy = this.proxies.get(linkName(server, entry.name));
      if (!proxy) return entry;
      // The service dials ports.peer + offset; this cluster's offset must then land on the proxy.
      const offset = servicePeerPort(realm, entry.name, this.cluster) - entry.ports.peer;
      return { ...entry, ports: { ...entry.ports, peer: proxy.port - offset } };
    });
    return { ...realm, servers };
  }

  /** Cut `server` from every peer, both directions (its clients still reach it). */
  isolate(server: string): void {
    this.setAround(server, { kind: "down" });
  }

  /** Delay every message to and from `server`. */
  slow(server: string, delayMs: number): void {
    this.setAround(server, { kind: "slow", delayMs });
  }

  heal(): void {
    for (const proxy of this.proxies.values()) proxy.set({ kind: "up" });
  }

  /** Links not up, for the log ("s1->s2 down"). */
  describe(): string {
    const faulty = [...this.proxies.values()].filter((proxy) => proxy.current.kind !== "up");
    return faulty.map((proxy) => `${proxy.name} ${proxy.current.kind}`).join(", ") || "all links up";
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
  }

  private setAround(server: string, state: LinkState): void {
    for (const proxy of this.proxies.values()) {
      const [from, to] = proxy.name.split("->");
      if (from === server || to === server) proxy.set(state);
    }
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
