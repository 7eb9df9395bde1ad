import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import type { Logger } from "../../adapters/node/logger.js";
import type { Revision } from "../../protocols/realm/messages.js";
import { parseRealmDefinition } from "../../realm/load.js";
import type { RealmDefinition } from "../../realm/schema.js";
import { PersistenceService, type PersistenceServiceOptions } from "../persistence/persistence-service.js";
import { storesConfigFor } from "../persistence/stores-config.js";
import { clientVerdict, Deployment } from "../realm/deployment.js";
import { RealmService } from "../realm/realm-service.js";
import { AdmissionGate } from "./admission-gate.js";
import { handleAdmin, type AdminContext } from "./admin-api.js";
import { Bus } from "./bus.js";
import { RealmAccess } from "./realm-access.js";
import { PasswordChecks } from "./password-checks.js";
import { RealmClients, type ClientAnswer } from "./realm-clients.js";
import { affiliatedStatus, restartNeeded } from "./realm-status.js";
import { Session, type SessionHost } from "./session.js";
import { serverStatus, type ServerStatus } from "./server-status.js";

export interface ServerOptions {
  readonly realm: RealmDefinition;
  /**
   * The text `realm` was read from. A primary takes it as its first revision when its revision
   * store is empty (issue 5); without it the server renders nothing of its own.
   */
  readonly realmText?: string;
  readonly name: string;
  readonly dataDirectory: string;
  readonly log: Logger;
  /** Faster elections for tests; production uses the defaults in kernel/limits.ts. */
  readonly timing?: PersistenceServiceOptions["timing"];
  /** A disk failure stopped a service (fail-stop). */
  readonly onFailure?: (error: Error) => void;
}

export interface RunningServer {
  readonly name: string;
  readonly clientPort: number;
  readonly adminPort: number;
  readonly services: readonly PersistenceService[];
  /** The realm service, on a server with a realm role. */
  readonly realmService: RealmService | null;
  status(): ServerStatus;
  stop(options?: { graceful: boolean }): Promise<void>;
}

/**
 * The peer port of each persistence service on a server: the server's peer port plus the
 * position of the service's cluster among the clusters this server hosts (definition order).
 * Every server computes the same numbers from the same realm definition.
 */
export function servicePeerPort(realm: RealmDefinition, serverName: string, cluster: string): number {
  const server = realm.servers.find((candidate) => candidate.name === serverName);
  if (!server) throw new Error(`server "${serverName}" is not defined in the realm`);
  const hosted = realm.clusters.filter((candidate) => candidate.services.some((service) => service.server === serverName)).map((candidate) => candidate.name);
  const offset = hosted.indexOf(cluster);
  if (offset < 0) throw new Error(`server "${serverName}" hosts no service of cluster "${cluster}"`);
  return server.ports.peer + offset;
}

/** The secret a cluster's services prove to each other (handshake HMAC). */
function clusterSecret(realm: RealmDefinition, cluster: string): string {
  const secret = process.env.HOLDFAST_CLUSTER_SECRET ?? realm.clusters.find((candidate) => candidate.name === cluster)?.secret;
  if (secret === undefined) throw new Error(`cluster "${cluster}" has no secret: set clusters[].secret in the realm definition (at least 16 characters) or HOLDFAST_CLUSTER_SECRET`);
  return secret;
}

/**
 * `holdfast server`: one process per host. It hosts the bus, the persistence services the
 * realm definition assigns to it (one per cluster), the client port applications connect to,
 * and the admin port (HTTP, JSON status).
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { name } = options;
  // Every line of this server's, its services' and its realm service's carries its name.
  const log = options.log.child({ server: name });
  const definition = options.realm.servers.find((server) => server.name === name);
  if (!definition) throw new Error(`server "${name}" is not defined in the realm (defined: ${options.realm.servers.map((server) => server.name).join(", ")})`);

  // The definition this server runs: with a realm role, the newest revision it holds (the file
  // it was started with only bootstraps a primary and names the family); else the file.
  let realm = options.realm;
  const sessions = new Set<Session>();
  const activations = new Map<number, Promise<readonly ClientAnswer[]>>();
  let realmClients: RealmClients | null = null;
  // Password checks outlive a revision: budgets of failures must not reset with a deploy.
  const passwordChecks = new PasswordChecks();
  let access = new RealmAccess(realm, passwordChecks);
  const activate = (revision: Revision, next: RealmDefinition): void => {
    const before = realm;
    const changes = restartNeeded(before, next);
    realm = next;
    access = new RealmAccess(next, passwordChecks);
    if (changes.length > 0) {
      log.warn(`realm: revision ${revision.number} changes ${changes.join(", ")}: that part takes effect when ${name} restarts`, { revision: revision.number });
    }
    if (realmClients !== null) {
      const answers = realmClients.activate(revision, (session) => clientVerdict(before, next, session));
      // Kept only for the deploy on the primary that waits for them, and only until it read them.
      if (definition.realmService?.role === "primary") activations.set(revision.number, answers);
    }
  };
  // A deploy's test from upstream: the same check the primary makes of its own clients, of this
  // server's definition now against the revision's.
  const testClients = async (revision: Revision): Promise<readonly ClientAnswer[]> => {
    // realmClients is set only once realmService is: past this line both are.
    if (realmClients === null || realmService === null) return [];
    // Read by the realm service, which keeps it: the activation that follows reads nothing again.
    const parsed = await realmService.readDefinition(revision.text, `revision ${revision.number}`);
    const before = realm;
    if (!parsed.ok) {
      const detail = `revision ${revision.number} does not load on ${name} (${parsed.errors.length + parsed.errorsNotListed} errors)`;
      return realmClients.reports().map((report) => ({ clientId: report.clientId, client: report.client, user: report.user, app: report.app, status: "exception" as const, detail }));
    }
    return realmClients.test(revision, (session) => clientVerdict(before, parsed.realm, session));
  };
  const realmService =
    definition.realmService === undefined
      ? null
      : await RealmService.start({
          realm,
          text: options.realmText ?? "",
          self: name,
          dataDirectory: options.dataDirectory,
          log,
          onActivate: activate,
          onHandBack: (to) => realmClients?.handBack(to),
          onTestClients: (revision) => testClients(revision),
        });
  const stored = realmService?.newest ?? null;
  if (stored !== null) {
    const parsed = parseRealmDefinition(stored.text, `revision ${stored.number}`);
    if (parsed.ok) {
      realm = parsed.realm;
      access = new RealmAccess(realm, passwordChecks);
      log.info(`realm: running revision ${stored.number} from the revision store`, { revision: stored.number });
      if (options.realmText !== undefined && options.realmText !== stored.text && definition.realmService?.role === "primary") {
        // The file only bootstraps a primary; a changed file must be deployed to take effect.
        log.warn(`realm: the realm file given differs from revision ${stored.number}, which this primary runs; deploy it (holdfast admin deploy) to make it a revision`);
      }
    } else {
      log.error(`realm: stored revision ${stored.number} does not load here; running the realm file instead`, { revision: stored.number });
    }
  }
  if (realmService !== null) realmClients = new RealmClients(name, realmService, sessions, () => realm, log);

  const services: PersistenceService[] = [];
  for (const cluster of realm.clusters) {
    const own = cluster.services.find((service) => service.server === name);
    if (!own) continue;
    const members = cluster.services.map((service) => {
      const server = realm.servers.find((candidate) => candidate.name === service.server);
      if (!server) throw new Error(`service ${service.name} names undefined server ${service.server}`);
      return { name: service.name, weight: Math.max(1, service.weight), host: server.host, peerPort: servicePeerPort(realm, server.name, cluster.name) };
    });
    services.push(
      await PersistenceService.start({
        cluster: cluster.name,
        name: own.name,
        members,
        secret: clusterSecret(realm, cluster.name),
        stores: storesConfigFor(realm, cluster.name),
        dataDirectory: join(options.dataDirectory, own.name),
        log,
        ...(options.timing ? { timing: options.timing } : {}),
        ...(options.onFailure ? { onFailure: options.onFailure } : {}),
      }),
    );
  }

  const bus = new Bus();
  let sessionNumber = 0;
  const gate = new AdmissionGate({ log, sessions: () => sessions.size });
  const status = (): ServerStatus => ({
    ...serverStatus(realm, name, services, sessions.size, bus.subscriptionCount),
    admission: gate.status(),
    realm: realmService === null ? null : affiliatedStatus(realm, realmService),
  });
  const host: SessionHost = {
    serverName: name,
    get access() {
      return access;
    },
    bus,
    log,
    service: (cluster) => services.find((service) => service.cluster === cluster),
    someServerOf: (cluster) => {
      const service = realm.clusters.find((candidate) => candidate.name === cluster)?.services[0];
      return service ? access.serverOfService(cluster, service.name) : null;
    },
    status,
    realm: realmClients,
  };

  // A session counts against sessionsPerServerMax from its welcome; until then, the gate's caps.
  const clientServer: NetServer = createServer((socket) => {
    // The welcome comes after the session below exists (it answers a hello).
    const admitted = gate.admit(socket, () => sessions.add(session));
    if (admitted === null) return;
    const session: Session = new Session(host, admitted.connection, ++sessionNumber, admitted.admission);
    admitted.connection.onClose(() => sessions.delete(session));
  });
  await listen(clientServer, definition.host, definition.ports.client);

  const deployment =
    realmService === null || realmClients === null
      ? null
      : new Deployment(realmService, realmClients, () => realm, (number) => {
          const answers = activations.get(number) ?? Promise.resolve([]);
          activations.delete(number);
          return answers;
        });
  const admin: AdminContext = {
    status,
    get access() {
      return access;
    },
    realm: realmService === null || realmClients === null || deployment === null ? null : { service: realmService, clients: realmClients, deployment, affiliated: () => affiliatedStatus(realm, realmService) },
  };
  const adminServer: HttpServer = createHttpServer((request, response) => {
    handleAdmin(admin, request, response).catch((error: unknown) => {
      log.error(`admin: ${request.method ?? "?"} ${request.url ?? "?"} failed: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: (error as Error).message }));
    });
  });
  await listen(adminServer, definition.host, definition.ports.admin);

  log.info(`server ${name}: clients on ${definition.host}:${portOf(clientServer)}, admin on ${definition.host}:${portOf(adminServer)}, services: ${services.map((s) => `${s.name} (${s.cluster})`).join(", ") || "none"}${definition.realmService ? `, realm role ${definition.realmService.role} on ${definition.host}:${definition.ports.realm ?? "?"}` : ""}`);

  return {
    name,
    clientPort: portOf(clientServer),
    adminPort: portOf(adminServer),
    services,
    realmService,
    status,
    stop: async ({ graceful } = { graceful: true }) => {
      if (graceful) await Promise.all(services.map((service) => service.transferLeadership()));
      clientServer.close();
      adminServer.close();
      realmService?.stop();
      gate.stop();
      for (const session of sessions) session.close("server stopping");
      for (const service of services) service.stop();
      await passwordChecks.close();
    },
  };
}

function listen(server: NetServer | HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
}

function portOf(server: NetServer | HttpServer): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}
