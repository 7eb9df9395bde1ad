/**
 * Real processes: three holdfast servers, a confirm-mode publisher and a standard-durable
 * subscriber, while the leader's server is killed with kill -9 and restarted, twice. Every
 * confirmed message must be consumed, none stored twice, order kept, nothing acked redelivered.
 */
import { afterAll, expect, it } from "vitest";
import { connect, type Connection } from "../../src/client/client.js";
import { checkPersistenceHistory, PersistenceHistory } from "./persistence-history.js";
import { RealmCluster, testCredentials } from "./realm-cluster.js";

const killRounds = 2;
/** Bounds on the load loop: at most this many publishes, and this long in all. */
const publishesMax = 10_000;
const runMsMax = 40_000;

let cluster: RealmCluster | undefined;
let client: Connection | undefined;

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

it("kill -9 of the leader twice while publishing and consuming: every confirmed message is consumed once stored, in order", async () => {
  cluster = await RealmCluster.start({ mode: "process" });
  await cluster.waitForLeader(30_000);
  client = await connect({ servers: cluster.addresses, ...testCredentials, requestTimeoutMs: 20_000 });
  const history = new PersistenceHistory();

  await client.subscribe("orders-in", { durable: "billing", ack: "sync", prefetch: 64 }, async (delivered) => {
    const id = delivered.message.get("id");
    const value = id?.type === "int" ? Number(id.value) : -1;
    history.delivered({ id: value, storeSequence: delivered.storeSequence, deliveryCount: delivered.deliveryCount });
    // Sync acks, not awaited one by one: up to `prefetch` are in flight, like a real consumer.
    delivered.ack().then(
      () => history.ackConfirmed(value),
      () => {
        // Unknown whether the ack was recorded: the message may come again, which is allowed.
      },
    );
  });

  const publisher = client.publisher("orders-in", { window: 64 });
  const startedAt = Date.now();
  let publishing = true;
  let nextId = 1;
  const inFlight = new Set<Promise<void>>();
  const publishLoop = (async () => {
    while (publishing && nextId <= publishesMax && Date.now() - startedAt < runMsMax) {
      const record = history.invoke(nextId);
      const done: Promise<void> = publisher.publish({ subject: "ORDERS.EU.new", id: BigInt(nextId) }).then(
        (confirm) => {
          record.outcome = "ok";
          record.storeSequence = confirm.storeSequence;
        },
        (error: Error) => {
          record.outcome = "fail";
          record.detail = error.message;
        },
      );
      nextId += 1;
      inFlight.add(done);
      void done.then(() => inFlight.delete(done));
      if (inFlight.size >= 64) await Promise.race(inFlight);
      // About 1,000 per second, so publishing spans both kills.
      if (nextId % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const kills: string[] = [];
  for (let round = 0; round < killRounds; round++) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const leader = await cluster.waitForLeader(20_000);
    kills.push(leader);
    await cluster.kill(leader);
    await cluster.waitForLeader(20_000, [leader]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster.startServer(leader);
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  publishing = false;
  await publishLoop;
  await Promise.all(inFlight);

  const confirmed = history.publishes.filter((record) => record.outcome === "ok");
  const deadline = Date.now() + 30_000;
  const consumed = (): number => new Set(history.deliveries.map((delivery) => delivery.id)).size;
  while (Date.now() < deadline && confirmed.some((record) => !history.deliveries.some((delivery) => delivery.id === record.id))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const violations = checkPersistenceHistory(history);
  const summary = `kills: ${kills.join(", ")}; published ${history.publishes.length}, confirmed ${confirmed.length}, failed ${history.publishes.length - confirmed.length}, consumed ${consumed()} distinct (${history.deliveries.length} deliveries)`;
  console.log(summary);
  if (violations.length > 0) console.error(`${summary}\n${violations.map((v) => `${v.check}: ${v.detail}`).join("\n")}\n${cluster.logLines.slice(-60).join("\n")}`);
  expect(violations, summary).toEqual([]);
  expect(confirmed.length, summary).toBeGreaterThan(100);
  expect(kills).toHaveLength(killRounds);
}, 180_000);
