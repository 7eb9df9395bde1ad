import type { RealmDefinition } from "../realm/schema.js";
import type { ServerStatus } from "../services/server/server-status.js";

export type ServerStatusRow = { readonly server: string; readonly status: ServerStatus | null; readonly error: string | null };

/** Ask every server's admin port for its status (unreachable ones become rows with the error). */
export async function collectRealmStatus(realm: RealmDefinition, timeoutMs: number): Promise<ServerStatusRow[]> {
  return Promise.all(
    realm.servers.map(async (server) => {
      try {
        const response = await fetch(`http://${server.host}:${server.ports.admin}/api/v1/status`, { signal: AbortSignal.timeout(timeoutMs) });
        return { server: server.name, status: (await response.json()) as ServerStatus, error: null };
      } catch (error) {
        return { server: server.name, status: null, error: (error as Error).message };
      }
    }),
  );
}

const pad = (text: string, width: number): string => (text.length >= width ? text : text + " ".repeat(width - text.length));

/** Columns padded to their widest cell, under a header and a dashed rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => pad(cell, widths[column] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/**
 * Per cluster: each service's role, term, history, consistency and leader (offline when its
 * server does not answer); per store: messages and bytes; per durable: backlog. Store figures
 * come from the leader's view (followers apply the same log, a moment later).
 */
export function realmStatusText(realm: RealmDefinition, rows: readonly ServerStatusRow[]): string {
  const sections: string[] = [];
  const withRoles = realm.servers.some((server) => server.realmService !== undefined);
  const serverRows = rows.map((row) => {
    const view = row.status?.realm ?? null;
    const roleCells = !withRoles
      ? []
      : view === null
        ? [realm.servers.find((server) => server.name === row.server)?.realmService?.role ?? "-", "-", "-", "-"]
        : [view.role, String(view.revision?.number ?? "none"), view.serving ? "yes" : "no", view.servers.filter((server) => server.link !== "self" && server.link !== "none").map((server) => `${server.server} ${server.link}`).join(", ") || "-"];
    return [
      row.server,
      row.status ? String(row.status.pid) : "-",
      row.status ? "up" : `offline (${row.error ?? "?"})`,
      row.status ? String(row.status.sessions) : "-",
      row.status ? `${Math.round(row.status.process.rssBytes / 1048576)} MiB` : "-",
      ...roleCells,
    ];
  });
  sections.push(table(["server", "pid", "state", "sessions", "rss", ...(withRoles ? ["realm role", "revision", "serves clients", "realm links"] : [])], serverRows));
  for (const cluster of realm.clusters) {
    const services = cluster.services.map((service) => {
      const row = rows.find((candidate) => candidate.server === service.server);
      const status = row?.status?.services.find((candidate) => candidate.service === service.name);
      if (!status) return [service.name, service.server, "offline", "-", "-", "-", "-", "-"];
      const consistency = status.consistency === "up-to-date" ? "up to date" : `last up to date at ${status.consistency.lastUpToDate.term}:${status.consistency.lastUpToDate.index}`;
      // A service catching up (after a restart on a long log) applies in the background.
      const applied = status.applyLag > 0 ? `${status.appliedIndex} (${status.applyLag} to apply)` : String(status.appliedIndex);
      return [service.name, service.server, status.empty ? `${status.role} (empty)` : status.role, String(status.term), `${status.history.term}:${status.history.index}`, applied, consistency, status.leader ?? "none"];
    });
    // Why a service does not count or vote yet: an operator's first question.
    const reasons = cluster.services.flatMap((service) => {
      const status = rows.find((candidate) => candidate.server === service.server)?.status?.services.find((candidate) => candidate.service === service.name);
      return status?.empty && status.emptyReason ? [`${service.name} is empty: ${status.emptyReason}`] : [];
    });
    sections.push(`cluster ${cluster.name}\n${table(["service", "server", "role", "term", "history", "applied", "consistency", "leader"], services)}${reasons.map((reason) => `\n${reason}`).join("")}`);
    const leader = rows.flatMap((row) => row.status?.services ?? []).find((service) => service.cluster === cluster.name && service.role === "leader");
    if (leader) {
      const storeRows = leader.stores.flatMap((store) => [
        [store.name, "", String(store.messages), String(store.bytes), String(store.lastSequence)],
        ...store.durables.map((durable) => [
          "",
          `${durable.name} (${durable.type}${durable.dynamic ? ", dynamic" : ""})`,
          `backlog ${durable.backlog}${durable.unacked === null ? "" : `, unacked ${durable.unacked}, subscribers ${durable.subscribers}`}`,
          "",
          "",
        ]),
      ]);
      sections.push(table(["store", "durable", "messages", "bytes", "last sequence"], storeRows));
    } else {
      sections.push(`cluster ${cluster.name}: no leader (no quorum of non-empty services, or an election is running)`);
    }
  }
  return sections.join("\n\n");
}

/** True when every cluster has a leader that its own server reports. */
export function everyClusterHasLeader(realm: RealmDefinition, rows: readonly ServerStatusRow[]): boolean {
  return realm.clusters.every((cluster) => rows.some((row) => row.status?.services.some((service) => service.cluster === cluster.name && service.role === "leader")));
}
