/**
 * The examples of docs/client.md run as written, against three servers with the demo realm's
 * stores and durables (in this process, real TCP and files).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main as publishAndConsume } from "../../examples/publish-and-consume.js";
import { main as prices } from "../../examples/prices.js";
import { main as requestReply } from "../../examples/request-reply.js";
import { parseRealmDefinition } from "../../src/realm/load.js";
import { RealmCluster, testCredentials } from "./realm-cluster.js";

let cluster: RealmCluster;

beforeAll(async () => {
  const parsed = parseRealmDefinition(readFileSync(new URL("../../src/realm/testdata/demo-realm.yaml", import.meta.url), "utf8"), "demo realm");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const { stores, durables, endpoints } = parsed.realm;
  cluster = await RealmCluster.start({ mode: "in-process", stores, durables, endpoints });
  await cluster.waitForLeader();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const options = () => ({ servers: cluster.addresses, ...testCredentials });

it("publish-and-consume: every confirmed order reaches billing and shipping", async () => {
  const result = await publishAndConsume(options(), 10);
  expect(result).toEqual({ confirmed: 10, billed: 10, shipped: 10 });
});

it("prices: the map holds the newest price, the last-value subscriber sees each symbol", async () => {
  const result = await prices(options());
  expect(result.acme).toBe(102.25);
  expect(result.seen.slice(0, 2).sort()).toEqual(["ACME", "GLOBEX"]);
});

it("request-reply: the responder answers through the requester's inbox", async () => {
  expect(await requestReply(options())).toMatch(/^\d{4}-\d\d-\d\dT/);
});
