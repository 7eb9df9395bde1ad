/**
 * The persistence service as a user sees it: three real servers (in this process, real TCP and
 * real files) and the client library. Failover with kill -9 is in persistence-failover.test.ts.
 */
import { connect as netConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import type { Delivered } from "../../src/client/subscription.js";
import { HoldfastError } from "../../src/client/errors.js";
import { SessionLink } from "../../src/client/session-link.js";
import { limits } from "../../src/kernel/limits.js";
import { encodeMessage } from "../../src/protocols/persistence/message-codec.js";
import { message } from "../../src/protocols/persistence/message.js";
import { encodeFrame } from "../../src/wire/frame.js";
import { RealmCluster, testCredentials } from "./realm-cluster.js";
import { waitFor } from "./wait-for.js";

let cluster: RealmCluster;
let client: Connection;

const text = (delivered: Delivered, field: string): string => {
  const value = delivered.message.get(field);
  return value?.type === "string" ? value.value : "";
};

beforeAll(async () => {
  cluster = await RealmCluster.start({ mode: "in-process" });
  await cluster.waitForLeader();
  client = await connect({ servers: cluster.addresses, ...testCredentials });
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

describe("publish and a standard durable", () => {
  it("delivers confirmed messages in order, and an acked message is not delivered again", async () => {
    const publisher = client.publisher("orders-in");
    const confirms = await Promise.all(Array.from({ length: 50 }, (_, n) => publisher.publish({ subject: "ORDERS.EU.new", n: BigInt(n) })));
    expect(confirms.map((c) => c.ackPoint)).toEqual(Array(50).fill("quorum-fsync"));
    expect(new Set(confirms.map((c) => c.storeSequence)).size).toBe(50);

    const seen: bigint[] = [];
    const subscription = await client.subscribe("orders-in", { durable: "billing", type: "standard", ack: "sync" }, async (delivered) => {
      const n = delivered.message.get("n");
      seen.push(n?.type === "int" ? n.value : -1n);
      await delivered.ack();
    });
    await waitFor(() => seen.length >= 50);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, n) => BigInt(n)));
    await subscription.close();

    const again: number[] = [];
    const second = await client.subscribe("orders-in", { durable: "billing" }, (delivered) => void again.push(delivered.storeSequence));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(again).toEqual([]);
    await second.close();
  });

  it("a second subscriber of a standard durable is refused while the first is attached", async () => {
    const first = await client.subscribe("orders-in", { durable: "billing" }, () => {});
    await expect(client.subscribe("orders-in", { durable: "billing" }, () => {})).rejects.toMatchObject({ code: "durable-busy" });
    await first.close();
  });

  it("a retried publish (same publisher id and sequence) is stored once", async () => {
    const link = await SessionLink.open(cluster.addresses[0] as string, { ...testCredentials, client: "retry-test" });
    const leader = await cluster.waitForLeader();
    const leaderLink = leader === "s1" ? link : await SessionLink.open(cluster.addresses[Number(leader.slice(1)) - 1] as string, { ...testCredentials, client: "retry-test" });
    const request = { type: "publish" as const, endpoint: "orders-in", publisherId: "retrier", sequences: [1, 2], messages: [encodeMessage(message({ a: "1" })), encodeMessage(message({ a: "2" }))] };
    const first = await leaderLink.request(request);
    const second = await leaderLink.request(request);
    expect(first).toMatchObject({ type: "published", statuses: ["stored", "stored"] });
    expect(second).toMatchObject({ type: "published", statuses: ["duplicate", "duplicate"] });
    expect((second as unknown as { storeSequences: number[] }).storeSequences).toEqual((first as unknown as { storeSequences: number[] }).storeSequences);
    link.close();
    leaderLink.close();
  });
});

describe("shared durables", () => {
  it("gives each message to exactly one of several subscribers (a dynamic durable from the template)", async () => {
    const got: Record<string, string[]> = { one: [], two: [] };
    const subscriptions = [];
    for (const worker of ["one", "two"] as const) {
      subscriptions.push(
        await client.subscribe("orders-in", { durable: "jobs", type: "shared", matcher: { subject: "JOBS.>" }, prefetch: 4 }, async (delivered) => {
          got[worker]!.push(text(delivered, "id"));
          await new Promise((resolve) => setTimeout(resolve, 2));
          await delivered.ack();
        }),
      );
    }
    const publisher = client.publisher("orders-in");
    await Promise.all(Array.from({ length: 60 }, (_, n) => publisher.publish({ subject: "JOBS.build", id: `job-${n}` })));
    await publisher.publish({ subject: "ORDERS.other", id: "not-a-job" });
    await waitFor(() => got.one!.length + got.two!.length >= 60);
    const all = [...got.one!, ...got.two!];
    expect(new Set(all).size).toBe(60);
    expect(all).not.toContain("not-a-job");
    expect(got.one!.length).toBeGreaterThan(0);
    expect(got.two!.length).toBeGreaterThan(0);
    for (const subscription of subscriptions) await subscription.close();
  });
});

describe("last-value and map durables", () => {
  it("a new last-value subscriber gets every current value at once, then updates", async () => {
    const publisher = client.publisher("prices-in");
    for (const [symbol, price] of [["ACME", 1], ["GLOBEX", 2], ["ACME", 3]] as const) await publisher.publish({ symbol, price });
    const seen: string[] = [];
    const subscription = await client.subscribe("prices-in", { durable: "latest", type: "last-value" }, (delivered) => {
      const price = delivered.message.get("price");
      seen.push(`${delivered.key}=${price?.type === "float" ? price.value : "?"}`);
    });
    await waitFor(() => seen.length >= 2);
    expect(seen.slice(0, 2).sort()).toEqual(["ACME=3", "GLOBEX=2"]);
    await publisher.publish({ symbol: "GLOBEX", price: 4 });
    await waitFor(() => seen.includes("GLOBEX=4"));
    await subscription.close();
  });

  it("a map durable gets, sets, removes and iterates, and takes published messages by key", async () => {
    const table = client.map("prices-in", "table");
    await table.set("INITECH", { symbol: "INITECH", price: 7 });
    expect((await table.get("INITECH"))?.get("price")).toEqual({ type: "float", value: 7 });
    await client.publisher("prices-in").publish({ symbol: "UMBRELLA", price: 8 });
    const keys: string[] = [];
    for await (const [key] of table.entries()) keys.push(key);
    expect(keys).toContain("INITECH");
    expect(keys).toContain("UMBRELLA");
    await table.remove("INITECH");
    expect(await table.get("INITECH")).toBeUndefined();
  });
});

describe("the bus", () => {
  it("delivers by wildcard subject and answers requests through inboxes", async () => {
    const got: string[] = [];
    const subscription = await client.busSubscribe("weather.*.today", (m) => got.push(m.subject));
    const responder = await client.busSubscribe("time.now", (m) => m.reply({ now: "noon" }));
    client.busPublish("weather.paris.today", { t: 20.5 });
    client.busPublish("weather.paris.tomorrow", { t: 21.5 });
    await waitFor(() => got.length >= 1);
    const reply = await client.request("time.now", { q: "?" }, { timeoutMs: 3000 });
    expect(reply.message.get("now")).toEqual({ type: "string", value: "noon" });
    expect(got).toEqual(["weather.paris.today"]);
    subscription.close();
    responder.close();
  });
});

describe("a client that reaches a follower", () => {
  it("is redirected to the leader and publishes there", async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.realm.servers.find((server) => server.name !== leader)!;
    const viaFollower = await connect({ servers: [`${follower.host}:${follower.ports.client}`], ...testCredentials });
    const events: string[] = [];
    viaFollower.on((event) => events.push(event.type));
    const confirm = await viaFollower.publisher("orders-in").publish({ subject: "ORDERS.US.new" });
    expect(confirm.storeSequence).toBeGreaterThan(0);
    expect(events).toContain("leader-change");
    viaFollower.close();
  });
});

describe("bad input gets a clear error and everyone else is served", () => {
  it("wrong credentials are refused by name", async () => {
    await expect(connect({ servers: cluster.addresses, ...testCredentials, password: "wrong" })).rejects.toMatchObject({ code: "unauthenticated" });
  });

  it("an unknown endpoint, a forbidden action and an invalid matcher name what is wrong", async () => {
    await expect(client.publisher("nowhere").publish({ a: "b" })).rejects.toThrow(/unknown endpoint "nowhere".*orders-in/);
    const reader = await connect({ servers: cluster.addresses, ...testCredentials, user: "reader", password: "reader-password" });
    await expect(reader.publisher("orders-in").publish({ a: "b" })).rejects.toMatchObject({ code: "forbidden" });
    reader.close();
    await expect(client.subscribe("orders-in", { durable: "bad-matcher", matcher: { subject: "ORDERS..new" } as never }, () => {})).rejects.toMatchObject({ code: "invalid-matcher" });
    await expect(client.subscribe("small-in", { durable: "no-template" }, () => {})).rejects.toThrow(/no durable with that name and no templates/);
  });

  it("a store over its limit rejects new messages with the limit named, and keeps what it accepted", async () => {
    const publisher = client.publisher("small-in");
    for (let n = 0; n < 3; n++) await publisher.publish({ n: BigInt(n) });
    const refused = await publisher.publish({ n: 3n }).then(
      () => null,
      (error: HoldfastError) => error,
    );
    expect(refused?.code).toBe("store-full");
    expect(refused?.message).toMatch(/3/);
    const got: number[] = [];
    const subscription = await client.subscribe("small-in", { durable: "small-reader" }, async (delivered) => {
      got.push(delivered.storeSequence);
    });
    await waitFor(() => got.length >= 3);
    expect(got).toHaveLength(3);
    await subscription.close();
  });

  it("a malformed frame and an oversized frame close only that connection", async () => {
    const leader = await cluster.waitForLeader();
    const address = cluster.realm.servers.find((server) => server.name === leader)!;
    for (const bytes of [encodeFrame(new Uint8Array([0xc1, 0xff, 0x00])), headerClaiming(limits.frameBytesMax * 2)]) {
      const socket = netConnect({ host: address.host, port: address.ports.client });
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      let received = 0;
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => (received += chunk.length));
      socket.write(bytes);
      const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 15_000))]);
      if (timedOut) socket.destroy();
      expect({ timedOut, frameBytes: bytes.length, connecting: socket.connecting, received }).toMatchObject({ timedOut: false });
    }
    // Others are still served.
    const confirm = await client.publisher("orders-in").publish({ subject: "ORDERS.EU.after-garbage" });
    expect(confirm.storeSequence).toBeGreaterThan(0);
  });

  it("a request with a wrong field is answered with the field named, and the connection stays open", async () => {
    const link = await SessionLink.open(cluster.addresses[0] as string, { ...testCredentials, client: "bad-fields" });
    const answer = await link.request({ type: "publish", endpoint: "orders-in", publisherId: "p", sequences: [0], messages: [new Uint8Array(1)] } as never);
    expect(answer).toMatchObject({ type: "error", code: "malformed" });
    expect((answer as { message: string }).message).toMatch(/publish\.sequences: expected/);
    const status = await link.request({ type: "status" });
    expect(status.type).toBe("status");
    link.close();
  });
});

/** A frame header announcing more bytes than any frame may have. */
function headerClaiming(length: number): Uint8Array {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, length);
  return header;
}
