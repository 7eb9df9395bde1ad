import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { spawnServer, stopChild, type ServerCode } from "../../src/cli/spawn-member.js";
import { hashPassword } from "../../src/realm/passwords.js";
import { parseRealmDefinition } from "../../src/realm/load.js";
import type { ServerStatus } from "../../src/services/server/server-status.js";
import { keepLogLines } from "../process/child-process.js";
import { freePort } from "../process/free-port.js";

export const publisherCredentials = { app: "test-app", user: "tester", password: "test-password" } as const;
export const operatorCredentials = { user: "operator", password: "operator-password" } as const;
/** A user with the right password but no admin action (403 on admin writes). */
export const readerCredentials = { user: "reader", password: "reader-password" } as const;

/** A realm user with `actions` on the test application, its password hashed at the production cost. */
async function user(credentials: { user: string; password: string }, actions: string[]): Promise<object> {
  return { name: credentials.user, password: await hashPassword(credentials.password), permissions: [{ application: publisherCredentials.app, actions }] };
}

export interface AdminRequestOptions {
  readonly credentials?: { user: string; password: string };
  /** Another loopback address is another source to the server. */
  readonly localAddress?: string;
  /** Sent as JSON (a deploy's `{ text, dryRun }`). */
  readonly body?: unknown;
}

export interface AdminAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * One `holdfast server` process, alone in its realm (the primary, hosting a one-service
 * development cluster), for attacks against one server. Passwords are hashed at the production
 * cost (scryptCostNew): the attacks are about what a real scrypt costs. Only the process this
 * fixture started is ever signalled.
 */
export class LoneServer {
  readonly logLines: string[] = [];
  private child: ChildProcess | undefined;

  private constructor(
    readonly directory: string,
    readonly clientPort: number,
    readonly adminPort: number,
    /** The realm definition the server started with (revision 1). */
    readonly definitionText: string,
  ) {}

  /** `code`: the sources through tsx (the tests' default) or the build (benchmarks, as production runs). */
  static async start(options: { code?: ServerCode } = {}): Promise<LoneServer> {
    const directory = mkdtempSync(join(tmpdir(), "holdfast-adversarial-"));
    const ports = { client: await freePort(), peer: await freePort(), admin: await freePort(), realm: await freePort() };
    const definition = {
      sites: [{ name: "local" }],
      realmServices: { secret: randomBytes(16).toString("hex") },
      servers: [{ name: "s1", site: "local", host: "127.0.0.1", ports, realmService: { role: "primary" } }],
      clusters: [{ name: "c1", development: true, secret: randomBytes(16).toString("hex"), services: [{ name: "c1-s1", server: "s1" }] }],
      stores: [{ name: "orders", cluster: "c1" }],
      endpoints: [{ name: "orders-in", store: "orders" }],
      applications: [{ name: publisherCredentials.app, endpoints: ["orders-in"] }],
      users: [
        await user(publisherCredentials, ["publish", "subscribe"]),
        await user(operatorCredentials, ["admin"]),
        await user(readerCredentials, ["subscribe"]),
      ],
    };
    const text = stringify(definition);
    const parsed = parseRealmDefinition(text, "adversarial realm");
    if (!parsed.ok) throw new Error(`adversarial realm invalid: ${JSON.stringify(parsed.errors)}`);
    const realmFile = join(directory, "realm.yaml");
    writeFileSync(realmFile, text);
    const server = new LoneServer(directory, ports.client, ports.admin, text);
    server.child = spawnServer({ realmFile, name: "s1", dataDirectory: join(directory, "s1"), stdio: "pipe", code: options.code ?? "sources" });
    keepLogLines(server.child, server.logLines, 400);
    await server.waitForLeader();
    return server;
  }

  get clientAddress(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error("the server process is not running");
    return pid;
  }

  /** Whether the process we started is still running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory of the server process, from /proc (what the kernel holds for it). */
  rssBytes(): number {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
    if (match === null) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  async status(): Promise<ServerStatus | null> {
    const answer = await this.admin("GET", "/api/v1/status").catch(() => null);
    return answer?.status === 200 ? (answer.body as unknown as ServerStatus) : null;
  }

  /** An admin request, from `localAddress` (another loopback address is another source). */
  admin(method: string, path: string, options: AdminRequestOptions = {}): Promise<AdminAnswer> {
    const headers: Record<string, string> = {};
    const { credentials, localAddress } = options;
    if (credentials !== undefined) headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    const target = { host: "127.0.0.1", port: this.adminPort, method, path, headers, agent: false, timeout: 20_000, ...(localAddress ? { localAddress } : {}) };
    return new Promise((resolve, reject) => {
      const request = httpRequest(target, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { text };
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error(`no admin answer to ${method} ${path} within 20 s`)));
      request.on("error", reject);
      request.end(body);
    });
  }

  async waitForLeader(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const service = (await this.status())?.services.find((candidate) => candidate.cluster === "c1");
      if (service?.role === "leader" && service.commitIndex > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.logLines.slice(-40).join("\n")}`);
  }

  async stop(): Promise<void> {
    if (this.child !== undefined) await stopChild(this.child, 3000);
    rmSync(this.directory, { recursive: true, force: true });
  }
}
