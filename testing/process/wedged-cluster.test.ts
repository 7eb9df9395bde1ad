import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServer } from "../../src/cli/spawn-member.js";
import { connect, type Connection } from "../../src/index.js";
import type { ServerStatus, ServiceStatus } from "../../src/services/server/server-status.js";
import { keepLogLines, killChild } from "./child-process.js";
import { settle } from "./wait-for.js";

/**
 * The saved data of a demo realm's three servers that never kept a leader (shared/repro/
 * wedged-cluster: a confirm-mode publisher, two leader kills, a 10 s SIGSTOP, two deploys, then
 * kill -9 of all three while publishing). Started again, every leader stepped down within
 * milliseconds of winning: applying its whole log at once (8,000 entries) kept its event loop
 * past the election timeout. The revisions it holds fix the demo's ports (74xx on 127.0.0.1).
 *
 * What a majority of the three logs holds (entries 1-7914, counted by applying that prefix
 * with the production state machine): 129,146 messages in store `orders`, 20,620 of them in
 * durable `billing`'s backlog. Every one was possibly confirmed, so every one must be served.
 */
const here = fileURLToPath(new URL("./testdata/wedged-cluster/", import.meta.url));
const majorityPrefixIndex = 7914;
const ordersMessages = 129_146;
const billingBacklog = 20_620;
const adminPorts = [7421, 7422, 7423];

let directory = "";
const children: ChildProcess[] = [];
const logLines: string[] = [];

async function statusOf(port: number): Promise<ServerStatus | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/status`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as ServerStatus) : null;
  } catch {
    return null;
  }
}

async function services(): Promise<ServiceStatus[]> {
  const statuses = await Promise.all(adminPorts.map(statusOf));
  return statuses.flatMap((status) => status?.services ?? []);
}

function leaderOf(all: readonly ServiceStatus[]): ServiceStatus | undefined {
  const leaders = all.filter((service) => service.role === "leader");
  return leaders.length === 1 ? leaders[0] : undefined;
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "holdfast-wedged-"));
  execFileSync("tar", ["xzf", join(here, "data.tgz"), "-C", directory]);
  for (const name of ["s1", "s2", "s3"]) {
    const child = spawnServer({ realmFile: join(here, "realm.yaml"), name, dataDirectory: join(directory, "data-wedged", name), stdio: "pipe" });
    keepLogLines(child, logLines, 200);
    children.push(child);
  }
});

afterAll(async () => {
  await Promise.all(children.map((child) => killChild(child)));
  if (directory !== "") rmSync(directory, { recursive: true, force: true });
});

describe("the wedged cluster's saved data (shared/repro/wedged-cluster)", () => {
  it("comes back with one leader that keeps its term and serves every message a majority held", async () => {
    const caughtUp = (all: readonly ServiceStatus[]): boolean => {
      const leader = leaderOf(all);
      return leader !== undefined && leader.commitIndex >= majorityPrefixIndex && leader.applyLag === 0;
    };
    const settled = await settle(services, caughtUp, 90_000);
    const leader = leaderOf(settled);
    expect(leader, `no leader that applied its log within 90 s:\n${logLines.slice(-40).join("\n")}`).toBeDefined();
    // It keeps leading: the same service in the same term five seconds later.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const later = leaderOf(await services());
    expect({ service: later?.service, term: later?.term }).toEqual({ service: leader?.service, term: leader?.term });
    const orders = later?.stores.find((store) => store.name === "orders");
    expect(orders?.lastSequence).toBeGreaterThanOrEqual(ordersMessages);
    expect(orders?.messages).toBeGreaterThanOrEqual(ordersMessages);
    expect(orders?.durables.find((durable) => durable.name === "billing")?.backlog).toBeGreaterThanOrEqual(billingBacklog);
  }, 120_000);

  it("a subscriber receives the whole of billing's backlog, and a new publish is confirmed", async () => {
    const connection: Connection = await connect({ servers: ["127.0.0.1:7401", "127.0.0.1:7402", "127.0.0.1:7403"], app: "demo", user: "demo", password: "demo-password" });
    try {
      const backlog = leaderOf(await services())?.stores.find((store) => store.name === "orders")?.durables.find((durable) => durable.name === "billing")?.backlog ?? 0;
      const received = new Set<number>();
      const subscription = await connection.subscribe("orders-in", { durable: "billing", type: "standard", ack: "async", prefetch: 2048 }, async (delivered) => {
        received.add(delivered.storeSequence);
        await delivered.ack();
      });
      const all = await settle(async () => received.size, (count) => count >= backlog, 60_000);
      await subscription.close();
      expect(all).toBe(backlog);
      expect(backlog).toBeGreaterThanOrEqual(billingBacklog);
      const confirm = await connection.publisher("orders-in").publish({ subject: "ORDERS.EU.new", priority: "high", customer: "after-the-wedge", id: 1n });
      expect(confirm.storeSequence).toBeGreaterThan(ordersMessages);
    } finally {
      connection.close();
    }
  }, 120_000);
});
