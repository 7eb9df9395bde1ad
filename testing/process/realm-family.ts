import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { spawnServer, stopChild } from "../../src/cli/spawn-member.js";
import { hashPassword } from "../../src/realm/passwords.js";
import { parseRealmDefinition } from "../../src/realm/load.js";
import type { RealmDefinition } from "../../src/realm/schema.js";
import type { RealmStatusView } from "../../src/services/server/realm-status.js";
import { keepLogLines, killChild } from "./child-process.js";
import { freePort } from "./free-port.js";

export const familyCredentials = { app: "family-app", user: "tester", password: "test-password" } as const;
export const adminCredentials = { user: "admin", password: "admin-password" } as const;

/** Cheap scrypt for tests (the cost is stored in the hash). */
const testScryptCost = { N: 2 ** 10, r: 8, p: 1 } as const;

/** Seed 003's family on loopback: the primary with its backup, a satellite, the DR server. */
export const familyServers = ["p1", "p1b", "sat1", "dr1"] as const;
export type FamilyServer = (typeof familyServers)[number];

/**
 * A family of affiliated realm servers, each its own `holdfast server` process started from
 * the same realm file (the primary takes it as revision 1; the others wait for it), with a
 * three-service cluster `c1` on p1, p1b and sat1 so clients have something to publish to.
 * Heartbeats every 250 ms, links broken after 1 s, so tests see failover quickly. Only
 * processes this fixture started are ever signalled.
 */
export class RealmFamily {
  readonly children = new Map<string, ChildProcess>();
  readonly logLines: string[] = [];

  private constructor(
    readonly directory: string,
    readonly realm: RealmDefinition,
    readonly text: string,
    readonly realmFile: string,
  ) {}

  /** `withoutPrimary`: start everyone but p1 (to see the others before any definition exists). */
  static async start(options: { withoutPrimary?: boolean } = {}): Promise<RealmFamily> {
    const directory = mkdtempSync(join(tmpdir(), "holdfast-family-"));
    const roles: Record<FamilyServer, { role: string; of?: string }> = {
      p1: { role: "primary" },
      p1b: { role: "backup", of: "p1" },
      sat1: { role: "satellite", of: "p1" },
      dr1: { role: "disaster-recovery", of: "p1" },
    };
    const servers = [];
    for (const name of familyServers) {
      servers.push({
        name,
        site: name === "dr1" ? "dr" : name === "sat1" ? "remote" : "main",
        host: "127.0.0.1",
        ports: { client: await freePort(), peer: await freePort(), admin: await freePort(), realm: await freePort() },
        realmService: roles[name],
      });
    }
    const definition = {
      sites: [{ name: "main" }, { name: "remote" }, { name: "dr" }],
      servers,
      realmServices: { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1000, secret: randomBytes(16).toString("hex") },
      clusters: [{ name: "c1", secret: randomBytes(16).toString("hex"), services: ["p1", "p1b", "sat1"].map((name, at) => ({ name: `c1-${name}`, server: name, weight: 3 - at })) }],
      stores: [{ name: "orders", cluster: "c1" }],
      durables: [{ name: "billing", store: "orders", type: "standard" }],
      endpoints: [{ name: "orders-in", store: "orders" }],
      applications: [{ name: familyCredentials.app, endpoints: ["orders-in"] }],
      users: [
        { name: familyCredentials.user, password: await hashPassword(familyCredentials.password, testScryptCost), permissions: [{ application: familyCredentials.app, actions: ["publish", "subscribe"] }] },
        { name: adminCredentials.user, password: await hashPassword(adminCredentials.password, testScryptCost), permissions: [{ application: familyCredentials.app, actions: ["admin"] }] },
      ],
    };
    const text = stringify(definition);
    const parsed = parseRealmDefinition(text, "family realm");
    if (!parsed.ok) throw new Error(`family realm invalid: ${JSON.stringify(parsed.errors)}`);
    const realmFile = join(directory, "realm.yaml");
    writeFileSync(realmFile, text);
    const family = new RealmFamily(directory, parsed.realm, text, realmFile);
    for (const name of familyServers) if (name !== "p1" || options.withoutPrimary !== true) family.startServer(name);
    return family;
  }

  server(name: FamilyServer): RealmDefinition["servers"][number] {
    const server = this.realm.servers.find((candidate) => candidate.name === name);
    if (server === undefined) throw new Error(`no server ${name}`);
    return server;
  }

  clientAddress(name: FamilyServer): string {
    const server = this.server(name);
    return `${server.host}:${server.ports.client}`;
  }

  adminAddress(name: FamilyServer): string {
    const server = this.server(name);
    return `${server.host}:${server.ports.admin}`;
  }

  startServer(name: FamilyServer): void {
    const child = spawnServer({ realmFile: this.realmFile, name, dataDirectory: join(this.directory, name), stdio: "pipe" });
    keepLogLines(child, this.logLines, 600);
    this.children.set(name, child);
  }

  async kill(name: FamilyServer): Promise<void> {
    await killChild(this.children.get(name));
  }

  /** SIGSTOP (a hung server: its sockets stay open, it answers nothing) or SIGCONT. */
  signal(name: FamilyServer, signal: "SIGSTOP" | "SIGCONT"): void {
    const child = this.children.get(name);
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
  }

  /** GET on a server's admin port (as `credentials` when given); null while it does not answer. */
  async get<T>(name: FamilyServer, path: string, credentials?: { user: string; password: string }): Promise<T | null> {
    try {
      const headers: Record<string, string> = credentials === undefined ? {} : { authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}` };
      const response = await fetch(`http://${this.adminAddress(name)}${path}`, { headers, signal: AbortSignal.timeout(2000) });
      return (await response.json()) as T;
    } catch {
      return null;
    }
  }

  realmStatus(name: FamilyServer): Promise<RealmStatusView | null> {
    return this.get<RealmStatusView>(name, "/api/v1/realm");
  }

  /** POST a deploy to a server's admin port as the admin user. */
  async deploy(name: FamilyServer, body: Record<string, unknown>, credentials: { user: string; password: string } = adminCredentials): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`http://${this.adminAddress(name)}/api/v1/realm/deployments`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Until every server of `names` runs `revision` or newer and its links are up (bounded). */
  async waitForRevision(revision: number, names: readonly FamilyServer[] = familyServers, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(names.map((name) => this.realmStatus(name)));
      const ready = views.every((view) => view !== null && (view.revision?.number ?? 0) >= revision && view.servers.every((server) => server.link === "self" || server.link === "none" || server.link === "up"));
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`revision ${revision} not on ${names.join(", ")} with every link up within ${timeoutMs} ms: ${JSON.stringify(views.map((view) => view && { server: view.server, revision: view.revision?.number, links: view.servers.map((server) => `${server.server}:${server.link}`) }))}\n${this.logLines.slice(-30).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.values()].map((child) => stopChild(child, 3000)));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
