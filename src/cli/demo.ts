import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import type { LogLevel } from "../adapters/node/logger.js";
import { connect, type Connection } from "../client/client.js";
import { parseRealmDefinition } from "../realm/load.js";
import type { RealmDefinition } from "../realm/schema.js";
import { prettyLogLines } from "./log-lines.js";
import { collectRealmStatus, realmStatusText } from "./realm-status.js";
import { serverAddresses } from "./realm-file.js";
import { showScreen, untilInterrupted } from "./terminal.js";
import { spawnServer, stopChild } from "./spawn-member.js";

const here = fileURLToPath(import.meta.url);
/** The checkout (or package) root: the build runs from dist/src/cli, the sources from src/cli. */
const packageRoot = join(dirname(here), ...(here.endsWith(".js") ? ["..", "..", ".."] : ["..", ".."]));
const demoRealmTemplate = join(packageRoot, "src", "realm", "testdata", "demo-realm.yaml");
const demoCredentials = { app: "demo", user: "demo", password: "demo-password" } as const;
const statusRefreshMs = 1000;
const samplePublishIntervalMs = 200;

/** The demo realm with a fresh cluster secret, written where the servers read it. */
function writeDemoRealm(directory: string): { file: string; realm: RealmDefinition } {
  const file = join(directory, "realm.yaml");
  const document = parseDocument(readFileSync(demoRealmTemplate, "utf8"));
  document.setIn(["clusters", 0, "secret"], randomBytes(16).toString("hex"));
  document.setIn(["realmServices", "secret"], randomBytes(16).toString("hex"));
  const text = document.toString();
  const parsed = parseRealmDefinition(text, file);
  if (!parsed.ok) throw new Error(`the demo realm is invalid: ${JSON.stringify(parsed.errors)}`);
  writeFileSync(file, text);
  return { file, realm: parsed.realm };
}

interface Counters {
  published: number;
  failed: number;
  consumed: Record<string, number>;
  lastError: string;
}

/**
 * A sample workload on the demo realm: orders for the standard and shared durables, prices for
 * the last-value and map durables, one subscriber per durable type (two on the shared one).
 */
async function startWorkload(realm: RealmDefinition, counters: Counters): Promise<{ stop(): void }> {
  const servers = serverAddresses(realm);
  const connection: Connection = await connect({ servers, ...demoCredentials, clientName: "demo-workload" });
  connection.on((event) => {
    if (event.type === "error") counters.lastError = event.error.message;
  });
  const count = (name: string): void => {
    counters.consumed[name] = (counters.consumed[name] ?? 0) + 1;
  };
  await connection.subscribe("orders-in", { durable: "billing", type: "standard", ack: "sync" }, async (delivered) => {
    count("billing (standard)");
    await delivered.ack();
  });
  for (const worker of ["shipping-1", "shipping-2"]) {
    await connection.subscribe("orders-in", { durable: "shipping", type: "shared" }, async (delivered) => {
      count(`shipping (shared) ${worker}`);
      await delivered.ack();
    });
  }
  await connection.subscribe("prices-in", { durable: "latest-price", type: "last-value" }, () => count("latest-price (last-value)"));
  const orders = connection.publisher("orders-in");
  const prices = connection.publisher("prices-in");
  const table = connection.map("prices-in", "price-table");
  const symbols = ["ACME", "GLOBEX", "INITECH"];
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    const region = n % 2 === 0 ? "EU" : "US";
    const settle = (promise: Promise<unknown>): void => {
      promise.then(
        () => (counters.published += 1),
        (error: Error) => {
          counters.failed += 1;
          counters.lastError = error.message;
        },
      );
    };
    settle(orders.publish({ subject: `ORDERS.${region}.new`, id: BigInt(n), priority: n % 3 === 0 ? "high" : "normal", customer: `c${n % 7}`, price: 9.5 + n }));
    settle(prices.publish({ symbol: symbols[n % symbols.length] as string, price: 100 + Math.sin(n / 10) * 5, at: new Date() }));
    if (n % 10 === 0) {
      void table.get("ACME").then((value) => (counters.consumed["price-table (map) reads"] = (counters.consumed["price-table (map) reads"] ?? 0) + (value ? 1 : 0)), () => undefined);
    }
  }, samplePublishIntervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      connection.close();
    },
  };
}

/**
 * `holdfast demo` (what `npm start` runs): three server processes on loopback hosting one
 * three-service persistence cluster, a sample workload with a subscriber per durable type, and
 * a live status table. Ctrl-C stops everything we started, by PID.
 */
export async function runDemo(options: { dir: string; fresh: boolean; logLevel: LogLevel }): Promise<void> {
  const directory = resolve(options.dir);
  if (options.fresh) rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const { file, realm } = writeDemoRealm(directory);
  const recentLog: string[] = [];
  const children = new Map<string, ChildProcess>();
  for (const server of realm.servers) {
    const child = spawnServer({ realmFile: file, name: server.name, dataDirectory: join(directory, server.name), stdio: "pipe", logLevel: options.logLevel });
    // The JSON lines as the server wrote them, for jq or pino-pretty; the screen shows them readable.
    child.stderr?.pipe(createWriteStream(join(directory, `${server.name}.log`), { flags: "a" }));
    child.stderr?.on("data", (chunk: Buffer) => recentLog.push(...prettyLogLines(chunk.toString())));
    child.on("exit", (code, signal) => recentLog.push(`server ${server.name} exited (${signal ?? `code ${code}`})`));
    children.set(server.name, child);
  }
  const counters: Counters = { published: 0, failed: 0, consumed: {}, lastError: "" };
  let workload: { stop(): void } | null = null;
  const startingWorkload = (async () => {
    for (let attempt = 0; attempt < 30 && workload === null; attempt++) {
      try {
        workload = await startWorkload(realm, counters);
      } catch (error) {
        counters.lastError = `starting the workload: ${(error as Error).message}`;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  const render = async (): Promise<void> => {
    const rows = await collectRealmStatus(realm, 800);
    recentLog.splice(0, Math.max(0, recentLog.length - 8));
    const screen = [
      `Holdfast demo realm: ${realm.servers.length} servers on loopback, data in ${directory}`,
      `realm: ${file}   pids: ${[...children.entries()].map(([name, child]) => `${name}=${child.pid}`).join(" ")}`,
      `clients connect with: --realm ${file} --app demo --user demo --password demo-password`,
      "",
      realmStatusText(realm, rows),
      "",
      `sample workload: published ${counters.published}, failed ${counters.failed}; consumed: ${Object.entries(counters.consumed).map(([name, value]) => `${name} ${value}`).join(", ") || "nothing yet"}`,
      counters.lastError ? `last client error: ${counters.lastError}` : "",
      "",
      "recent log:",
      ...recentLog,
      "",
      "Ctrl-C stops the demo. Try: kill -9 the leader's server pid and watch the workload carry on;",
      `kill -9 s1 (the realm primary) and its clients move to its backup s2, then back when you restart it:`,
      `  npx holdfast server --realm ${file} --name s1 --data ${join(directory, "s1")} 2>> ${join(directory, "s1.log")}`,
      "deploy a changed copy of the realm: HOLDFAST_PASSWORD=demo-password npx holdfast admin deploy <file> --user demo " +
        `--server 127.0.0.1:${realm.servers[0]?.ports.admin ?? 7421} --dry-run`,
      `every server's log, readable: npx pino-pretty < ${join(directory, "s1.log")}`,
    ];
    showScreen(screen);
  };
  const refresh = setInterval(() => void render(), statusRefreshMs);

  await untilInterrupted();
  clearInterval(refresh);
  (workload as { stop(): void } | null)?.stop();
  void startingWorkload;
  process.stdout.write("\nstopping servers...\n");
  await Promise.all([...children.values()].map((child) => stopChild(child, 5000)));
  process.stdout.write("stopped.\n");
  process.exit(0);
}
