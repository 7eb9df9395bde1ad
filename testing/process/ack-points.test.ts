/**
 * Ack points as a user sees them: three real servers (real TCP, real files) hosting stores
 * with each ack point in one cluster. Every confirm names the point the message had reached;
 * subscribers of every store get every confirmed message, in order; and a kill -9 of the
 * leader loses nothing confirmed at quorum-fsync or quorum-memory (one crash cannot take
 * what a quorum holds).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import { RealmCluster, type RealmClusterOptions, testCredentials } from "./realm-cluster.js";
import { waitFor } from "./wait-for.js";

let cluster: RealmCluster;
let client: Connection;

const stores = [
  { name: "durable-store", ackPoint: "quorum-fsync" },
  { name: "quorum-store", ackPoint: "quorum-memory" },
  { name: "leader-store", ackPoint: "leader-memory" },
] as const;

beforeAll(async () => {
  cluster = await RealmCluster.start({
    mode: "process",
    // Realm input (defaults filled in by the schema), not the parsed form the options type names.
    stores: stores.map((store) => ({ name: store.name, cluster: "c1", ackPoint: store.ackPoint })) as unknown as RealmClusterOptions["stores"],
    durables: stores.map((store) => ({ name: `${store.name}-reader`, store: store.name, type: "standard" })) as unknown as RealmClusterOptions["durables"],
    endpoints: stores.map((store) => ({ name: `${store.name}-in`, store: store.name })),
  });
  await cluster.waitForLeader();
  client = await connect({ servers: cluster.addresses, ...testCredentials });
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

async function readAll(store: string, count: number): Promise<bigint[]> {
  const seen: bigint[] = [];
  const subscription = await client.subscribe(`${store}-in`, { durable: `${store}-reader`, type: "standard", ack: "sync" }, async (delivered) => {
    const n = delivered.message.get("n");
    seen.push(n?.type === "int" ? n.value : -1n);
    await delivered.ack();
  });
  await waitFor(() => seen.length >= count, 20_000);
  await subscription.close();
  return seen;
}

describe("ack points", () => {
  it("each confirm names its store's ack point, and every confirmed message is delivered in order", async () => {
    for (const store of stores) {
      const publisher = client.publisher(`${store.name}-in`);
      const confirms = await Promise.all(Array.from({ length: 200 }, (_, n) => publisher.publish({ n: BigInt(n) })));
      // A memory ack point may be answered by the commit when the lease did not allow an early
      // answer: then the confirm names the stronger point it reached.
      const named = new Set(confirms.map((confirm) => confirm.ackPoint));
      expect(named.has(store.ackPoint), `${store.name}: ${[...named].join(", ")}`).toBe(true);
      for (const ackPoint of named) expect(["quorum-fsync", store.ackPoint]).toContain(ackPoint);
      expect(await readAll(store.name, 200)).toEqual(Array.from({ length: 200 }, (_, n) => BigInt(n)));
    }
  }, 60_000);

  it("kill -9 of the leader loses nothing confirmed at quorum-fsync or quorum-memory", async () => {
    const confirmed = new Map<string, bigint[]>(stores.map((store) => [store.name, []]));
    const publishers = stores.map((store) => ({ store, publisher: client.publisher(`${store.name}-in`) }));
    for (let n = 0; n < 100; n++) {
      await Promise.all(publishers.map(async ({ store, publisher }) => {
        await publisher.publish({ n: BigInt(1000 + n) });
        confirmed.get(store.name)?.push(BigInt(1000 + n));
      }));
    }
    const leader = await cluster.waitForLeader();
    await cluster.kill(leader);
    await cluster.startServer(leader);
    await cluster.waitForLeader();
    for (const store of stores.filter((each) => each.ackPoint !== "leader-memory")) {
      const want = confirmed.get(store.name) as bigint[];
      expect(await readAll(store.name, want.length), store.name).toEqual(want);
    }
  }, 90_000);
});
