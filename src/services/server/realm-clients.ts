import type { Logger } from "../../adapters/node/logger.js";
import type { Revision } from "../../protocols/realm/messages.js";
import type { RealmDefinition } from "../../realm/schema.js";
import type { RealmInfo } from "../../wire/session-codec.js";
import type { RealmService } from "../realm/realm-service.js";
import type { ClientRealmReport, ClientRealmStatus, Session, SessionRealm } from "./session.js";

/** One client's answer in a deploy's test or activation. */
export interface ClientAnswer {
  readonly clientId: string;
  readonly client: string;
  readonly user: string;
  readonly app: string;
  readonly status: ClientRealmStatus;
  readonly detail: string;
}

/**
 * A server's clients as its realm service sees them (issue 5): who is admitted (seed 003's
 * rules, through RealmService), which servers a client is given (its regular server, then the
 * backup), revisions pushed to every home session with each client's answer, and a backup
 * sending its clients back to their regular server.
 */
export class RealmClients implements SessionRealm {
  constructor(
    private readonly self: string,
    private readonly service: RealmService,
    private readonly sessions: ReadonlySet<Session>,
    private readonly definition: () => RealmDefinition,
    private readonly log: Logger,
  ) {}

  admit(kind: "application" | "disaster-recovery-service"): { admitted: true } | { admitted: false; reason: string; servers: string[] } {
    const admission = this.service.admitClient(kind);
    if (admission.admitted) return { admitted: true };
    return { admitted: false, reason: admission.reason, servers: admission.redirectTo.flatMap((server) => this.addressOf(server) ?? []) };
  }

  info(): RealmInfo | null {
    const newest = this.service.newest;
    if (newest === null) return null;
    return this.infoOf(newest);
  }

  private infoOf(revision: { number: number; hash: string }): RealmInfo {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.definition().realmServices;
    return { number: revision.number, hash: revision.hash, servers: this.clientServers(), heartbeatIntervalMs, heartbeatTimeoutMs };
  }

  /**
   * Where this server's clients go: the regular server first, then its backup. A backup gives
   * its regular server's list (it only stands in), so clients move back when that one returns.
   */
  clientServers(): string[] {
    const realm = this.definition();
    const own = realm.servers.find((server) => server.name === this.self);
    const regular = own?.realmService?.role === "backup" && own.realmService.of !== undefined ? own.realmService.of : this.self;
    const backup = realm.servers.find((server) => server.realmService?.role === "backup" && server.realmService.of === regular);
    return [regular, ...(backup === undefined ? [] : [backup.name])].flatMap((server) => this.addressOf(server) ?? []);
  }

  addressOf(server: string): string | null {
    const definition = this.definition().servers.find((candidate) => candidate.name === server);
    return definition === undefined ? null : `${definition.host}:${definition.ports.client}`;
  }

  clients(): Session[] {
    return [...this.sessions].filter((session) => session.isRealmClient);
  }

  reports(): ClientRealmReport[] {
    return this.clients().map((session) => session.realmReport());
  }

  /**
   * A deploy's test: every client is asked whether it could take the revision. `serverVerdict`
   * is the server's own check of a client under the new definition (null: nothing against it).
   */
  async test(revision: { number: number; hash: string }, serverVerdict: (session: Session) => string | null): Promise<ClientAnswer[]> {
    const info = this.infoOf(revision);
    return Promise.all(
      this.clients().map(async (session) => {
        const verdict = serverVerdict(session);
        const answer = verdict === null ? await session.offerRevision(info, true) : { status: "needs-restart" as const, detail: verdict };
        return answerOf(session, answer);
      }),
    );
  }

  /** The revision is active: every client gets it and answers; the answers come back. */
  async activate(revision: Revision, serverVerdict: (session: Session) => string | null): Promise<ClientAnswer[]> {
    const info = this.infoOf(revision);
    const answers = await Promise.all(
      this.clients().map(async (session) => {
        const verdict = serverVerdict(session);
        if (verdict !== null) {
          // The server will not serve this client under the new revision as it connected (its
          // user or application changed): it must reconnect with what the revision says.
          session.markRealmStatus(revision.number, "needs-restart", verdict);
          return answerOf(session, { status: "needs-restart", detail: verdict });
        }
        return answerOf(session, await session.offerRevision(info, false));
      }),
    );
    const notRunning = answers.filter((answer) => answer.status !== "running");
    const notRunningList = notRunning.length === 0 ? "" : ` (${notRunning.map((answer) => `${answer.clientId} ${answer.status}`).join(", ")})`;
    const active = answers.length - notRunning.length;
    this.log.info(`realm: revision ${revision.number} active for ${active} of ${answers.length} clients${notRunningList}`, { revision: revision.number });
    return answers;
  }

  /** Seed 003: when R is operative again, its clients leave the backup and reconnect to R. */
  handBack(to: string): void {
    const address = this.addressOf(to);
    const clients = this.clients();
    this.log.info(`realm: ${to} serves again: sending ${clients.length} clients back to it`);
    for (const session of clients) session.close(`${to} serves again: reconnect to it`, address ?? undefined);
  }
}

function answerOf(session: Session, answer: { status: ClientRealmStatus; detail: string }): ClientAnswer {
  const report = session.realmReport();
  return { clientId: report.clientId, client: report.client, user: report.user, app: report.app, status: answer.status, detail: answer.detail };
}
