import type { RealmRole } from "../../protocols/realm/family.js";
import type { RevisionId } from "../../protocols/realm/messages.js";
import type { RealmDefinition } from "../../realm/schema.js";
import type { RealmService } from "../realm/realm-service.js";

/** One affiliated server as this server sees it (remote ones show their last known state). */
export interface AffiliatedServerView {
  readonly server: string;
  readonly role: RealmRole;
  readonly site: string;
  /** This server's link with it: up, connected (hello pending), dialing, down; `none` if they do not link. */
  readonly link: string;
  /** Its newest revision as it last told us (null unless the link is up). */
  readonly revision: number | null;
  readonly serving: boolean | null;
}

/** What `holdfast admin status` shows, from this server's view (issue 5). */
export interface RealmStatusView {
  readonly server: string;
  readonly role: RealmRole;
  readonly site: string;
  readonly primary: string;
  readonly revision: RevisionId | null;
  readonly serving: boolean;
  readonly accepting: boolean;
  /** Why the realm service stopped (a failed revision store), or null. */
  readonly stopped: string | null;
  readonly servers: readonly AffiliatedServerView[];
}

export function affiliatedStatus(realm: RealmDefinition, service: RealmService): RealmStatusView {
  const status = service.status();
  const siteOf = (server: string): string => realm.servers.find((candidate) => candidate.name === server)?.site ?? "?";
  const links = new Map(status.links.map((link) => [link.peer, link]));
  const servers: AffiliatedServerView[] = realm.servers.flatMap((server) => {
    const role = server.realmService?.role;
    if (role === undefined) return [];
    if (server.name === status.server) return [{ server: server.name, role, site: server.site, link: "self", revision: status.revision?.number ?? null, serving: status.serving }];
    const link = links.get(server.name);
    return [{ server: server.name, role, site: server.site, link: link?.state ?? "none", revision: link?.peerRevision ?? null, serving: link?.peerServing ?? null }];
  });
  return { server: status.server, role: status.role, site: siteOf(status.server), primary: status.primary, revision: status.revision, serving: status.serving, accepting: status.accepting, stopped: status.stopped, servers };
}

/**
 * The parts of a new revision a running server cannot take without a restart: its persistence
 * services, stores and links are built from them at start. Users, applications, endpoints and
 * permissions take effect at once (sessions check them on every request).
 */
export function restartNeeded(before: RealmDefinition, after: RealmDefinition): string[] {
  const parts = ["sites", "servers", "realmServices", "clusters", "stores", "durables"] as const;
  return parts.filter((part) => JSON.stringify(before[part]) !== JSON.stringify(after[part]));
}
