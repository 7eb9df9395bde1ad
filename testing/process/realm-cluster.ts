import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { spawnServer, stopChild, type ServerCode } from "../../src/cli/spawn-member.js";
import { silentLogger } from "../../src/adapters/node/logger.js";
import { hashPassword } from "../../src/realm/passwords.js";
import { parseRealmDefinition } from "../../src/realm/load.js";
import type { RealmDefinition } from "../../src/realm/schema.js";
import { startServer, type RunningServer } from "../../src/services/server/server.js";
import type { ServerStatus } from "../../src/services/server/server-status.js";
import { keepLogLines, killChild } from "./child-process.js";
import { freePort } from "./free-port.js";

export const testCredentials = { app: "test-app", user: "tester", password: "test-password" } as const;
/** With realm roles: the user allowed to deploy (the `admin` action of the test application). */
export const testAdminCredentials = { user: "admin", password: "admin-password" } as const;

/** Cheap scrypt for tests (the cost is stored in the hash; production hashes use scryptCostNew). */
const testScryptCost = { N: 2 ** 10, r: 8, p: 1 } as const;

export interface RealmClusterOptions {
  /** Extra realm parts merged in (stores, durables, endpoints…): the defaults are below. */
  readonly stores?: RealmDefinition["stores"];
  readonly durables?: RealmDefinition["durables"];
  readonly endpoints?: RealmDefinition["endpoints"];
  /** "process": each server its own OS process (kill -9 works); "in-process": faster to start. */
  readonly mode: "process" | "in-process";
  /** 1: a single server whose cluster is a development one (one service); default 3. */
  readonly serverCount?: 1 | 3;
  readonly keepLogLines?: number;
  /** Process mode: run the servers from the sources through tsx (default) or from the build. */
  readonly serverCode?: ServerCode;
  /**
   * The realm definition one server reads, written to its own file (default: every server reads
   * the shared one). The chaos suite points each server's peers at fault-injecting proxies.
   */
  readonly serverRealm?: (server: string, realm: RealmDefinition) => RealmDefinition | Promise<RealmDefinition>;
  /**
   * Realm roles as in the demo realm (s1 primary, s2 its backup, s3 a satellite of s1), with
   * realm ports and a user `admin` (testAdminCredentials), so that `deploy` works. Every server
   * then runs the newest revision it holds, so it cannot be combined with `serverRealm`.
   */
  readonly realmRoles?: boolean;
}

/** A deploy's answer from the primary's admin port (POST /api/v1/realm/deployments). */
export interface DeployAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A deploy must be answered within this (the primary asks every server and client first). */
const deployAnswerMsMax = 20_000;
/** The demo realm's roles (seed 003). */
const demoRoles: Readonly<Record<string, { role: string; of?: string }>> = {
  s1: { role: "primary" },
  s2: { role: "backup", of: "s1" },
  s3: { role: "satellite", of: "s1" },
};

/** The realm's `servers`: loopback, free ports; with roles, a realm port and the demo's roles too. */
async function serverEntries(names: readonly string[], roles: boolean): Promise<Record<string, unknown>[]> {
  const servers = [];
  for (const name of names) {
    const ports = { client: await freePort(), peer: await freePort(), admin: await freePort(), ...(roles ? { realm: await freePort() } : {}) };
    servers.push({ name, site: "local", host: "127.0.0.1", ports, ...(roles ? { realmService: demoRoles[name] } : {}) });
  }
  return servers;
}

async function adminUser(): Promise<Record<string, unknown>> {
  const password = await hashPassword(testAdminCredentials.password, testScryptCost);
  return { name: testAdminCredentials.user, password, permissions: [{ application: testCredentials.app, actions: ["admin"] }] };
}

/**
 * A realm of three holdfast servers on loopback hosting one three-service cluster `c1` (or of
 * one server with a one-service cluster), for tests and benchmarks. Only servers this fixture
 * started are ever signalled.
 */
export class RealmCluster {
  readonly children = new Map<string, ChildProcess>();
  readonly inProcess = new Map<string, RunningServer>();
  readonly logLines: string[] = [];
  /** Per-server realm files (options.serverRealm); servers not listed read `realmFile`. */
  private readonly serverRealms = new Map<string, { readonly file: string; readonly realm: RealmDefinition }>();

  private constructor(
    readonly directory: string,
    readonly realm: RealmDefinition,
    readonly realmFile: string,
    /** The text of `realmFile`: with realm roles, the primary's revision 1. */
    readonly text: string,
    private readonly options: RealmClusterOptions,
  ) {}

  static async start(options: RealmClusterOptions): Promise<RealmCluster> {
    if (options.realmRoles === true && (options.serverRealm !== undefined || options.serverCount === 1)) {
      throw new Error("realmRoles needs three servers reading one realm file (no serverRealm)");
    }
    const directory = mkdtempSync(join(tmpdir(), "holdfast-realm-"));
    const names = options.serverCount === 1 ? ["s1"] : ["s1", "s2", "s3"];
    const roles = options.realmRoles === true;
    const servers = await serverEntries(names, roles);
    const adminUsers = roles ? [await adminUser()] : [];
    const definition = {
      sites: [{ name: "local" }],
      servers,
      ...(roles ? { realmServices: { secret: randomBytes(16).toString("hex") } } : {}),
      clusters: [
        {
          name: "c1",
          ...(names.length === 1 ? { development: true } : {}),
          secret: randomBytes(16).toString("hex"),
          services: names.map((name, at) => ({ name: `c1-${name}`, server: name, weight: 3 - at })),
        },
      ],
      stores: options.stores ?? [
        { name: "orders", cluster: "c1", limits: { messageBytesMax: 65_536, dynamicDurablesMax: 4 }, durableTemplates: [{ name: "worker", type: "shared" }] },
        { name: "small", cluster: "c1", limits: { messages: 3 }, full: "reject-new" },
        { name: "prices", cluster: "c1" },
      ],
      durables: options.durables ?? [
        { name: "billing", store: "orders", type: "standard", ackWaitMs: 2000 },
        { name: "small-reader", store: "small", type: "standard" },
        { name: "latest", store: "prices", type: "last-value", keyField: "symbol" },
        { name: "table", store: "prices", type: "map", keyField: "symbol" },
      ],
      endpoints: options.endpoints ?? [
        { name: "orders-in", store: "orders" },
        { name: "small-in", store: "small" },
        { name: "prices-in", store: "prices" },
      ],
      applications: [{ name: testCredentials.app, endpoints: (options.endpoints ?? [{ name: "orders-in" }, { name: "small-in" }, { name: "prices-in" }]).map((e) => e.name) }],
      users: [
        { name: testCredentials.user, password: await hashPassword(testCredentials.password, testScryptCost), permissions: [{ application: testCredentials.app, actions: ["publish", "subscribe"] }] },
        { name: "reader", password: await hashPassword("reader-password", testScryptCost), permissions: [{ application: testCredentials.app, actions: ["subscribe"] }] },
        ...adminUsers,
      ],
    };
    const text = stringify(definition);
    const parsed = parseRealmDefinition(text, "test realm");
    if (!parsed.ok) throw new Error(`test realm invalid: ${JSON.stringify(parsed.errors)}`);
    const realmFile = join(directory, "realm.yaml");
    writeFileSync(realmFile, text);
    const cluster = new RealmCluster(directory, parsed.realm, realmFile, text, options);
    for (const name of options.serverRealm ? names : []) {
      const own = await options.serverRealm?.(name, parsed.realm);
      const ownText = stringify(own);
      const ownParsed = parseRealmDefinition(ownText, `test realm of ${name}`);
      if (!ownParsed.ok) throw new Error(`test realm of ${name} invalid: ${JSON.stringify(ownParsed.errors)}`);
      const file = join(directory, `realm-${name}.yaml`);
      writeFileSync(file, ownText);
      cluster.serverRealms.set(name, { file, realm: ownParsed.realm });
    }
    for (const name of names) await cluster.startServer(name);
    return cluster;
  }

  get addresses(): string[] {
    return this.realm.servers.map((server) => `${server.host}:${server.ports.client}`);
  }

  async startServer(name: string): Promise<void> {
    const dataDirectory = join(this.directory, name);
    if (this.options.mode === "in-process") {
      const own = this.serverRealms.get(name);
      const realm = own === undefined ? { realm: this.realm, realmText: this.text } : { realm: own.realm };
      this.inProcess.set(name, await startServer({ ...realm, name, dataDirectory, log: silentLogger }));
      return;
    }
    const child = spawnServer({ realmFile: this.serverRealms.get(name)?.file ?? this.realmFile, name, dataDirectory, stdio: "pipe", code: this.options.serverCode ?? "sources" });
    keepLogLines(child, this.logLines, this.options.keepLogLines ?? 400);
    this.children.set(name, child);
  }

  /** kill -9 (process mode) or an abrupt stop (in-process mode). */
  async kill(name: string): Promise<void> {
    const running = this.inProcess.get(name);
    if (running) {
      this.inProcess.delete(name);
      await running.stop({ graceful: false });
      return;
    }
    await killChild(this.children.get(name));
  }

  async status(name: string): Promise<ServerStatus | null> {
    const running = this.inProcess.get(name);
    if (running) return running.status();
    const server = this.realm.servers.find((candidate) => candidate.name === name);
    if (!server) return null;
    try {
      const response = await fetch(`http://${server.host}:${server.ports.admin}/api/v1/status`, { signal: AbortSignal.timeout(1000) });
      return (await response.json()) as ServerStatus;
    } catch {
      return null;
    }
  }

  /** POST a deploy (`{ text }` or `{ revision }`, see admin-api.ts) to `server`'s admin port as the admin user. */
  async deploy(server: string, body: Record<string, unknown>): Promise<DeployAnswer> {
    const entry = this.realm.servers.find((candidate) => candidate.name === server);
    if (!entry) throw new Error(`no server ${server} in this realm`);
    const authorization = `Basic ${Buffer.from(`${testAdminCredentials.user}:${testAdminCredentials.password}`).toString("base64")}`;
    const response = await fetch(`http://${entry.host}:${entry.ports.admin}/api/v1/realm/deployments`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(deployAnswerMsMax),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The server whose service leads c1 (with a commit in its term), waiting for one. */
  async waitForLeader(timeoutMs = 20_000, exclude: readonly string[] = []): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const server of this.realm.servers) {
        if (exclude.includes(server.name)) continue;
        const status = await this.status(server.name);
        const service = status?.services.find((candidate) => candidate.cluster === "c1");
        if (service?.role === "leader" && service.consistency === "up-to-date" && service.commitIndex > 0) return server.name;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.logLines.slice(-40).join("\n")}`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.inProcess.values()].map((server) => server.stop({ graceful: false })));
    this.inProcess.clear();
    await Promise.all([...this.children.values()].map((child) => stopChild(child, 3000)));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
