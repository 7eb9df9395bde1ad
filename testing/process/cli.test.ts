/**
 * The command line as scripts use it: output and exit codes of pub, sub and status against
 * three servers (in this process), and of an invalid realm file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { holdfast } from "./holdfast-cli.js";
import { RealmCluster, testCredentials } from "./realm-cluster.js";

let cluster: RealmCluster;


const login = () => ["--servers", cluster.addresses.join(","), "--app", testCredentials.app, "--user", testCredentials.user, "--password", testCredentials.password];

beforeAll(async () => {
  cluster = await RealmCluster.start({ mode: "in-process" });
  await cluster.waitForLeader();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it("pub prints each confirm; sub prints the message as JSON and acks it", async () => {
  const published = await holdfast(["pub", ...login(), "--endpoint", "orders-in", "--count", "2", '{"subject":"ORDERS.EU.new","id":7,"price":9.5}']);
  expect(published.stderr).toBe("");
  expect(published.code).toBe(0);
  expect(published.stdout).toMatch(/^stored as orders-in sequence \d+ \(quorum-fsync\)\nstored as orders-in sequence \d+ \(quorum-fsync\)\n$/);
  const consumed = await holdfast(["sub", ...login(), "--endpoint", "orders-in", "--durable", "billing", "--count", "2"]);
  expect(consumed.code).toBe(0);
  const lines = consumed.stdout.trim().split("\n").map((line) => JSON.parse(line) as { message: Record<string, unknown> });
  expect(lines.map((line) => line.message)).toEqual([
    { subject: "ORDERS.EU.new", id: 7, price: 9.5, n: 1 },
    { subject: "ORDERS.EU.new", id: 7, price: 9.5, n: 2 },
  ]);
}, 60_000);

it("wrong credentials exit 5 with the reason; a message that is not JSON exits 2", async () => {
  const refused = await holdfast(["pub", "--servers", cluster.addresses.join(","), "--app", testCredentials.app, "--user", testCredentials.user, "--password", "nope", "--endpoint", "orders-in", "{}"]);
  expect(refused.code).toBe(5);
  expect(refused.stderr).toMatch(/unauthenticated: wrong user name or password/);
  const bad = await holdfast(["pub", ...login(), "--endpoint", "orders-in", "{not json"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/expected a JSON object/);
}, 60_000);

it("status shows each service and store and exits 0 with a leader; an invalid realm exits 2 naming the path", async () => {
  const status = await holdfast(["status", "--realm", cluster.realmFile]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/cluster c1/);
  expect(status.stdout).toMatch(/c1-s1 +s1 +(leader|follower)/);
  expect(status.stdout).toMatch(/billing \(standard\)/);
  const invalid = join(cluster.directory, "invalid.yaml");
  writeFileSync(invalid, "sites: []\nservers: [{ name: s1, site: nowhere, host: h, ports: { client: 1, peer: 2, admin: 3 } }]\n");
  const refused = await holdfast(["status", "--realm", invalid]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/sites: expected/);
}, 60_000);
