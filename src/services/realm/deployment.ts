import { limits } from "../../kernel/limits.js";
import type { ServerTestAnswer } from "../../protocols/realm/effects.js";
import type { ClientTestAnswer } from "../../protocols/realm/messages.js";
import type { RealmLinkStatus } from "../../protocols/realm/realm-service-node.js";
import { diffDefinitions, type DefinitionDiff } from "../../realm/diff.js";
import { formatRealmError, type RealmError } from "../../realm/realm-error.js";
import type { RealmDefinition } from "../../realm/schema.js";
import type { ClientAnswer, RealmClients } from "../server/realm-clients.js";
import type { Session } from "../server/session.js";
import { definitionHash, type RealmService } from "./realm-service.js";

export interface DeployRequest {
  readonly text: string;
  /** Validate, diff and test, and change nothing. */
  readonly dryRun: boolean;
  /** Deploy even though some clients said they cannot take it (they are left needing a restart). */
  readonly force: boolean;
}

/** An affiliated server as a deploy sees it: will it get the revision now or on reconnect. */
export interface AffiliatedServerCheck {
  readonly server: string;
  readonly role: string;
  readonly link: string;
  readonly revision: number | null;
  /**
   * How it answered the deploy's test (null: not asked; the primary's upstream side only asks
   * servers it gives revisions to). `unreachable` and `timed-out` do not block a deploy (seed
   * 003: a server away catches up when it is back).
   */
  readonly test: ServerTestAnswer["outcome"] | null;
  /** Its clients' answers to the test (none unless `answered`). */
  readonly clients: readonly ClientTestAnswer[];
}

export type DeployOutcome =
  | {
      readonly ok: true;
      readonly dryRun: boolean;
      /** The revision deployed (or, for a dry run, the number it would get). */
      readonly revision: { readonly number: number; readonly hash: string };
      readonly unchanged: boolean;
      readonly diff: DefinitionDiff;
      readonly servers: readonly AffiliatedServerCheck[];
      /** Each of the primary's own clients' answer: to the test (dry run) or to the activation. */
      readonly clients: readonly ClientAnswer[];
      /** Whether the primary's backup holds the revision (null: no backup, or a dry run). */
      readonly backupHolds: boolean | null;
    }
  | {
      readonly ok: false;
      /** invalid: the definition does not load; test-failed: clients cannot take it (use force). */
      readonly code: "invalid" | "not-primary" | "backup-link-down" | "out-of-sync" | "too-large" | "test-failed" | "stopped" | "busy";
      readonly message: string;
      /** For `invalid`: the first realmErrorsListedMax errors, "line:column: path: expected …, found …". */
      readonly errors?: readonly string[];
      /** For `invalid`: how many more errors were found and not listed. */
      readonly errorsNotListed?: number;
      readonly primary?: string;
      readonly diff?: DefinitionDiff;
      /** For `test-failed`: the primary's own clients' answers. */
      readonly clients?: readonly ClientAnswer[];
      /** For `test-failed`: every affiliated server with its clients' answers. */
      readonly servers?: readonly AffiliatedServerCheck[];
    };

/**
 * The deploy transaction on the primary (seed 003, spec/realm.md): validate, diff, test every
 * client and look at every affiliated server, write (durably, in the revision store), activate
 * here and push down the family, wait for the backup to hold it, archive (the store keeps the
 * history), release. Deploys run one at a time, in the order they arrived: a second deploy
 * waits for the first, then diffs and tests against what the first made current.
 */
export class Deployment {
  private queue: Promise<unknown> = Promise.resolve();
  /** Deploys queued or running. */
  private waiting = 0;

  constructor(
    private readonly service: RealmService,
    private readonly clients: RealmClients,
    private readonly current: () => RealmDefinition,
    /** Resolves with the clients' answers once revision `number` is active here. */
    private readonly activated: (number: number) => Promise<readonly ClientAnswer[]>,
  ) {}

  deploy(request: DeployRequest): Promise<DeployOutcome> {
    if (this.waiting >= limits.realmDeploysQueuedMax) {
      return Promise.resolve({ ok: false, code: "busy", message: `${this.waiting} deploys are already waiting (at most ${limits.realmDeploysQueuedMax}); try again once they are done` });
    }
    this.waiting += 1;
    const run = this.queue.then(() => this.run(request)).finally(() => (this.waiting -= 1));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(request: DeployRequest): Promise<DeployOutcome> {
    const write = this.service.admitWrite();
    if (!write.admitted) return { ok: false, code: "not-primary", message: write.reason, primary: write.primary };
    const parsed = await this.service.readDefinition(request.text, "the deployed definition");
    if (!parsed.ok) return invalid(parsed.errors, parsed.errorsNotListed);
    const newest = this.service.newest;
    const diff = diffDefinitions(newest?.text ?? "", request.text, limits.realmDiffLinesMax);
    const hash = definitionHash(request.text);
    const unchanged = newest !== null && newest.hash === hash && newest.text === request.text;
    const next = { number: unchanged && newest !== null ? newest.number : (newest?.number ?? 0) + 1, hash };
    const before = this.current();
    const verdict = (session: Session): string | null => clientVerdict(before, parsed.realm, session);
    if (unchanged) return { ok: true, dryRun: request.dryRun, revision: next, unchanged, diff, servers: this.servers([]), clients: [], backupHolds: null };

    // Issue 5: every connected client, here and on every affiliated server that is up, is asked.
    const [tested, remote] = await Promise.all([this.clients.test(next, verdict), this.service.test({ ...next, text: request.text })]);
    const servers = this.servers(remote);
    const self = this.service.status().server;
    const failed = [...tested.map((answer) => ({ server: self, answer })), ...remote.flatMap((server) => server.clients.map((answer) => ({ server: server.server, answer })))].filter(({ answer }) => answer.status !== "running");
    const clientCount = tested.length + remote.reduce((sum, server) => sum + server.clients.length, 0);
    if (request.dryRun) return { ok: true, dryRun: true, revision: next, unchanged, diff, servers, clients: tested, backupHolds: null };
    if (failed.length > 0 && !request.force) {
      return {
        ok: false,
        code: "test-failed",
        message: `${failed.length} of ${clientCount} clients cannot take the definition (${failed.map(({ server, answer }) => `${answer.clientId} (${answer.user}/${answer.app}) on ${server}: ${answer.status}${answer.detail === "" ? "" : `, ${answer.detail}`}`).join("; ")}); nothing changed. Deploy with force to go ahead: those clients are then left needing a restart`,
        diff,
        clients: tested,
        servers,
      };
    }

    const answer = await this.service.deploy(request.text);
    if (!answer.ok) return { ok: false, code: answer.code, message: answer.reason, diff };
    const clients = await this.activated(answer.revision.number);
    return { ok: true, dryRun: false, revision: answer.revision, unchanged: answer.unchanged, diff, servers: this.servers(remote), clients, backupHolds: await this.backupHolds(answer.revision.number) };
  }

  /** Waits (bounded) until the primary's backup says it holds `number`. */
  private async backupHolds(number: number): Promise<boolean | null> {
    const deadlineMs = Date.now() + limits.realmBackupAckWaitMs;
    for (;;) {
      const backup = this.service.status().links.find((link) => link.peerRole === "backup");
      if (backup === undefined) return null;
      if ((backup.peerRevision ?? 0) >= number) return true;
      if (Date.now() >= deadlineMs) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every affiliated server as its link shows it now, with its part of the test (if asked). */
  private servers(tested: readonly ServerTestAnswer[]): AffiliatedServerCheck[] {
    return this.service.status().links.map((link) => serverCheck(link, tested.find((answer) => answer.server === link.peer)));
  }
}

function invalid(errors: readonly RealmError[], errorsNotListed: number): DeployOutcome {
  const count = errors.length + errorsNotListed;
  const listed = errorsNotListed === 0 ? "" : `, the first ${errors.length} listed`;
  return {
    ok: false,
    code: "invalid",
    message: `the definition is invalid (${count} ${count === 1 ? "error" : "errors"}${listed}); nothing changed`,
    errors: errors.map((error) => formatRealmError(error)),
    errorsNotListed,
  };
}

function serverCheck(link: RealmLinkStatus, tested: ServerTestAnswer | undefined): AffiliatedServerCheck {
  return { server: link.peer, role: link.peerRole, link: link.state, revision: link.peerRevision, test: tested?.outcome ?? null, clients: tested?.clients ?? [] };
}

/**
 * The server's own check of one connected client under a new definition: it authenticated
 * with a user, password and application that must still hold. Null when nothing is against it.
 */
export function clientVerdict(before: RealmDefinition, after: RealmDefinition, session: Session): string | null {
  const user = session.user;
  const app = session.app;
  if (user === null || app === null) return null;
  const newUser = after.users.find((candidate) => candidate.name === user);
  if (newUser === undefined) return `user ${user} is not in the new definition`;
  const oldUser = before.users.find((candidate) => candidate.name === user);
  if (oldUser !== undefined && oldUser.password !== newUser.password) return `user ${user}'s password changes: the client must connect with the new one`;
  if (!after.applications.some((application) => application.name === app)) return `application ${app} is not in the new definition`;
  if (!newUser.permissions.some((permission) => permission.application === app)) return `user ${user} has no permission for application ${app} in the new definition`;
  return null;
}
