import type { MemberStatus } from "../../protocols/consensus/types.js";
import type { RealmDefinition } from "../../realm/schema.js";
import type { PersistenceService } from "../persistence/persistence-service.js";
import type { AdmissionStatus } from "./admission-gate.js";
import type { RealmStatusView } from "./realm-status.js";

/** The process figures an operator checks first. */
export interface ProcessStatus {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly uptimeMs: number;
}

export interface ServiceStatus {
  readonly cluster: string;
  readonly service: string;
  readonly role: MemberStatus["role"];
  readonly term: number;
  readonly leader: string | null;
  readonly history: MemberStatus["history"];
  readonly consistency: MemberStatus["consistency"];
  readonly commitIndex: number;
  /** The last entry the service's state holds, and how many committed entries it has yet to apply. */
  readonly appliedIndex: number;
  readonly applyLag: number;
  readonly empty: boolean;
  /** Why it recovered empty (no data, corruption, a cut WAL tail), while it still is. */
  readonly emptyReason: string | null;
  readonly stores: readonly {
    readonly name: string;
    readonly messages: number;
    readonly bytes: number;
    readonly lastSequence: number;
    /** `unacked` and `subscribers` are known on the leader only (null elsewhere). */
    readonly durables: readonly { readonly name: string; readonly type: string; readonly dynamic: boolean; readonly backlog: number; readonly unacked: number | null; readonly subscribers: number | null }[];
  }[];
}

export interface ServerStatus {
  readonly server: string;
  readonly site: string;
  readonly pid: number;
  readonly sessions: number;
  readonly busSubscriptions: number;
  readonly process: ProcessStatus;
  readonly services: readonly ServiceStatus[];
  /** The client port's gate: connections not yet welcomed (absent from serverStatus alone). */
  readonly admission?: AdmissionStatus;
  /** The realm service's view (issue 5); absent or null on a server without a realm role. */
  readonly realm?: RealmStatusView | null;
}

/** What `holdfast status` and GET /api/v1/status show for one server. */
export function serverStatus(realm: RealmDefinition, server: string, services: readonly PersistenceService[], sessions: number, busSubscriptions: number): ServerStatus {
  const memory = process.memoryUsage();
  return {
    server,
    site: realm.servers.find((candidate) => candidate.name === server)?.site ?? "?",
    pid: process.pid,
    sessions,
    busSubscriptions,
    process: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, uptimeMs: Math.round(process.uptime() * 1000) },
    services: services.map((service) => {
      const status = service.status();
      const delivery = service.deliveryStats();
      return {
        cluster: service.cluster,
        service: service.name,
        role: status.role,
        term: status.term,
        leader: status.leaderId,
        history: status.history,
        consistency: status.consistency,
        commitIndex: status.commitIndex,
        appliedIndex: service.applyStatus().appliedIndex,
        applyLag: service.applyStatus().lagEntries,
        empty: status.empty,
        emptyReason: status.empty ? service.emptyReason : null,
        stores: service.view.stores().map((store) => ({
          name: store.name,
          messages: store.messages,
          bytes: store.bytes,
          lastSequence: store.lastSequence,
          durables: service.view.durables(store.name).map((durable) => {
            const live = delivery?.durables.find((candidate) => candidate.store === store.name && candidate.durable === durable.name);
            return {
              name: durable.name,
              type: durable.settings.type,
              dynamic: durable.dynamic,
              backlog: durable.backlog,
              unacked: delivery === null ? null : (live?.inFlight ?? 0),
              subscribers: delivery === null ? null : (live?.subscribers.length ?? 0),
            };
          }),
        })),
      };
    }),
  };
}
