import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { connect, type Connection } from "../../src/index.js";
import type { ConnectionEvent } from "../../src/client/connection.js";
import { HoldfastError } from "../../src/client/errors.js";
import { SessionLink } from "../../src/client/session-link.js";
import type { ClientRealmReport } from "../../src/services/server/session.js";
import { logEntries } from "./child-process.js";
import { RealmFamily, adminCredentials, familyCredentials } from "./realm-family.js";
import { holdfast } from "./holdfast-cli.js";
import { waitFor } from "./wait-for.js";

/**
 * Seed 003 on real processes (issue 5): four `holdfast server` processes (primary p1, its
 * backup p1b, satellite sat1, disaster-recovery server dr1), real TCP links, real revision
 * files. The steps run in order on one family, each stating the behaviour it checks.
 */
let family: RealmFamily;

beforeAll(async () => {
  family = await RealmFamily.start({ withoutPrimary: true });
}, 60_000);

afterAll(async () => {
  await family?.stop();
});

/** The realm definition as an object, to change and deploy. */
function definition(text = family.text): Record<string, unknown> & { users: { name: string }[]; applications: { name: string; endpoints: string[] }[]; endpoints: { name: string; store: string }[] } {
  return parse(text) as never;
}

async function refusal(address: string, kind: "application" | "disaster-recovery-service" = "application"): Promise<HoldfastError | null> {
  try {
    const link = await SessionLink.open(address, { ...familyCredentials, client: "probe" }, "home", kind);
    link.close();
    return null;
  } catch (error) {
    return error as HoldfastError;
  }
}



async function currentRevision(): Promise<number> {
  return (await family.realmStatus("p1"))?.revision?.number ?? 0;
}

async function clientsOf(server: "p1" | "p1b" | "sat1"): Promise<ClientRealmReport[]> {
  return (await family.get<{ clients: ClientRealmReport[] }>(server, "/api/v1/realm/clients"))?.clients ?? [];
}

describe("realm servers on real processes (seed 003)", () => {
  it("before the primary gave a definition, a satellite and a backup accept no client; once it starts, every server holds revision 1", async () => {
    const deadline = Date.now() + 20_000;
    let satellite: HoldfastError | null = null;
    let backup: HoldfastError | null = null;
    try {
      // Wait until both listen (their processes are starting), then read their refusals.
      while (Date.now() < deadline) {
        [satellite, backup] = await Promise.all([refusal(family.clientAddress("sat1")), refusal(family.clientAddress("p1b"))]);
        if (satellite?.code === "not-serving" && backup?.code === "not-serving") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(satellite?.message).toContain("sat1 has no realm definition yet (it waits for one from p1)");
      expect(backup?.message).toContain("p1b has no realm definition yet");
    } finally {
      family.startServer("p1");
    }
    await family.waitForRevision(1, undefined, 40_000);
  }, 60_000);

  it("admits clients by role: the primary and a satellite serve, the backup sends them to its regular server, the DR server takes only DR persistence services", async () => {
    expect(await refusal(family.clientAddress("p1"))).toBeNull();
    expect(await refusal(family.clientAddress("sat1"))).toBeNull();
    const backup = await refusal(family.clientAddress("p1b"));
    expect(backup?.code).toBe("not-serving");
    expect(backup?.message).toContain("p1b is the backup of p1 and accepts clients only while p1 is down");
    expect(backup?.servers).toEqual([family.clientAddress("p1")]);
    const recovery = await refusal(family.clientAddress("dr1"));
    expect(recovery?.code).toBe("not-serving");
    expect(recovery?.message).toContain("accepts only disaster-recovery persistence services");
    expect(await refusal(family.clientAddress("dr1"), "disaster-recovery-service")).toBeNull();
    // A session opened only to reach a leader is not a way around the backup's admission.
    const leaderOnly = await SessionLink.open(family.clientAddress("p1b"), { ...familyCredentials, client: "leader-only" }, "leader");
    try {
      const answer = await leaderOnly.request({ type: "status" });
      expect(answer).toMatchObject({ type: "error", code: "forbidden" });
    } finally {
      leaderOnly.close();
    }

    // A client given only the backup ends up on the primary, with [primary, backup] to fail over.
    const client = await connect({ servers: [family.clientAddress("p1b")], ...familyCredentials });
    try {
      expect(((await client.status()) as { server: string }).server).toBe("p1");
    } finally {
      client.close();
    }
  }, 20_000);

  it("shows each affiliated server with its role, site, revision and link state, from any server's view", async () => {
    const fromPrimary = await family.realmStatus("p1");
    expect(fromPrimary?.servers.map((server) => [server.server, server.role, server.site, server.link, server.revision])).toEqual([
      ["p1", "primary", "main", "self", 1],
      ["p1b", "backup", "main", "up", 1],
      ["sat1", "satellite", "remote", "up", 1],
      ["dr1", "disaster-recovery", "dr", "up", 1],
    ]);
    const fromBackup = await family.realmStatus("p1b");
    expect(fromBackup?.role).toBe("backup");
    expect(fromBackup?.serving).toBe(false);
    expect(fromBackup?.servers.find((server) => server.server === "p1")?.link).toBe("up");
  });

  it("refuses a deploy anywhere but the primary, naming the primary", async () => {
    for (const server of ["sat1", "p1b", "dr1"] as const) {
      const answer = await family.deploy(server, { text: family.text });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ ok: false, code: "not-primary", primary: "p1" });
      expect(String(answer.body.message)).toContain("go to the primary p1");
    }
  });

  it("refuses an invalid definition with every error listed and changes nothing; refuses a wrong password", async () => {
    const broken = definition();
    broken.endpoints = [{ name: "orders-in", store: "no-such-store" }];
    (broken.users[0] as Record<string, unknown>).permissions = [{ application: "no-such-app", actions: ["fly"] }];
    const answer = await family.deploy("p1", { text: stringify(broken) });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe("invalid");
    expect(answer.body.errors).toEqual([expect.stringContaining("users[0].permissions[0].actions[0]: expected")]);
    const wrongStore = definition();
    wrongStore.endpoints = [{ name: "orders-in", store: "no-such-store" }];
    const second = await family.deploy("p1", { text: stringify(wrongStore) });
    expect(second.body.code).toBe("invalid");
    expect((second.body.errors as string[]).join("\n")).toContain("endpoints[0].store");
    expect((await family.deploy("p1", { text: family.text }, { user: "admin", password: "wrong" })).status).toBe(401);
    // A revision's text holds the secrets: only an admin reads it.
    expect(await family.get<{ code: string }>("p1", "/api/v1/realm/revisions/1")).toMatchObject({ code: "unauthenticated" });
    expect(await family.get<{ number: number }>("p1", "/api/v1/realm/revisions/1", adminCredentials)).toMatchObject({ number: 1 });
    expect(await currentRevision()).toBe(1);
  });

  it("answers a 1 MB definition of 110,000 unknown keys, and one of 2,000 typos, with 422 and a short error list, while its clients still hear its heartbeats", async () => {
    // Both made before the client connects: this process, busy writing YAML, would miss heartbeats itself.
    const manyKeys = `${family.text}${Array.from({ length: 110_000 }, (_, index) => `k${index}: 0`).join("\n")}\n`;
    expect(manyKeys.length).toBeGreaterThan(1_000_000);
    const typos = definition();
    // Few enough that yaml's composer (one step the reader cannot cut) stays well under the 1 s heartbeat timeout.
    typos.sites = [...(typos.sites as object[]), ...Array.from({ length: 2000 }, (_, index) => ({ name: `site${index}`, colour: "red" }))];
    const typosText = stringify(typos);
    const events: ConnectionEvent[] = [];
    const client = await connect({ servers: [family.clientAddress("p1"), family.clientAddress("p1b")], ...familyCredentials, clientName: "large-deploy-watcher" });
    client.on((event) => events.push(event));
    try {
      const keysAnswer = await family.deploy("p1", { text: manyKeys, dryRun: true });
      expect(keysAnswer.status).toBe(422);
      expect(keysAnswer.body).toMatchObject({ code: "invalid", message: "the definition is invalid (1 error); nothing changed", errorsNotListed: 0 });
      expect(keysAnswer.body.errors).toEqual([expect.stringMatching(/^1:1: expected a mapping of at most 256 keys, found 110009 keys/)]);
      const typosAnswer = await family.deploy("p1", { text: typosText, dryRun: true });
      expect(typosAnswer.status).toBe(422);
      expect(typosAnswer.body).toMatchObject({ message: "the definition is invalid (2000 errors, the first 100 listed); nothing changed", errorsNotListed: 1900 });
      expect(typosAnswer.body.errors).toHaveLength(100);
      expect((typosAnswer.body.errors as string[])[0]).toMatch(/sites\[3\]\.colour: expected only the keys this section defines/);
      // Heartbeats time out after 1 s here: a primary busy reading would have lost this client to p1b.
      expect(events.filter((event) => event.type === "disconnect" || event.type === "reconnect")).toEqual([]);
      expect(((await client.status()) as { server: string }).server).toBe("p1");
    } finally {
      client.close();
    }
    expect(await currentRevision()).toBe(1);
  }, 60_000);

  it("deploys a new revision: dry run first (diff, nothing changes), then the whole family and connected clients take it without reconnecting", async () => {
    const events: ConnectionEvent[] = [];
    const client = await connect({ servers: [family.clientAddress("p1")], ...familyCredentials });
    const satelliteClient = await connect({ servers: [family.clientAddress("sat1")], ...familyCredentials });
    client.on((event) => events.push(event));
    try {
      const next = definition();
      next.endpoints = [...next.endpoints, { name: "audit-in", store: "orders" }];
      next.applications = [{ name: familyCredentials.app, endpoints: ["orders-in", "audit-in"] }];
      const text = stringify(next);
      const dry = await family.deploy("p1", { text, dryRun: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ ok: true, dryRun: true, revision: { number: 2 } });
      expect((dry.body.diff as { lines: string[] }).lines).toContain("+   - name: audit-in");
      expect((dry.body.clients as { status: string }[]).map((answer) => answer.status)).toEqual(["running"]);
      expect(await currentRevision()).toBe(1);

      const deployed = await family.deploy("p1", { text });
      expect(deployed.status).toBe(201);
      expect(deployed.body).toMatchObject({ ok: true, dryRun: false, revision: { number: 2 }, backupHolds: true });
      expect((deployed.body.clients as { status: string }[]).map((answer) => answer.status)).toEqual(["running"]);
      await family.waitForRevision(2);
      await waitFor(() => events.some((event) => event.type === "realm-revision" && event.number === 2), 5000);
      expect(events.some((event) => event.type === "disconnect")).toBe(false);
      // The new endpoint works on the same connection.
      const confirm = await client.publisher("audit-in").publish({ subject: "AUDIT.one", id: 1 });
      expect(confirm.ackPoint).toBe("quorum-fsync");
      expect((await clientsOf("p1")).map((report) => [report.revision, report.status])).toEqual([[2, "running"]]);
      const satelliteClients = await clientsOf("sat1");
      expect(satelliteClients.map((report) => [report.revision, report.status])).toEqual([[2, "running"]]);
    } finally {
      client.close();
      satelliteClient.close();
    }
  }, 30_000);

  it("reports a client whose handler throws as exception, and one that never answers as timed out", async () => {
    // Throws on the first revision it is given, then takes the same one when it comes again.
    let failures = 0;
    const throwing = await connect({ servers: [family.clientAddress("p1")], ...familyCredentials, clientName: "throwing", onRealmRevision: (revision) => {
      if (!revision.test && failures++ === 0) throw new Error("cannot reload my configuration");
    } });
    // A bare session that never answers a pushed revision (an old or hung client).
    const silent = await SessionLink.open(family.clientAddress("p1"), { ...familyCredentials, client: "silent" }, "home");
    try {
      await throwing.status();
      const next = definition();
      next.endpoints = [...next.endpoints, { name: "statuses", store: "orders" }];
      const refused = await family.deploy("p1", { text: stringify(next) });
      expect(refused.body.code).toBe("test-failed");
      expect(String(refused.body.message)).toMatch(/timed-out, no answer within \d+ ms/);
      const forced = await family.deploy("p1", { text: stringify(next), force: true });
      expect(forced.status).toBe(201);
      const byName = new Map((forced.body.clients as { client: string; status: string; detail: string }[]).map((answer) => [answer.client, answer]));
      expect(byName.get("throwing")).toMatchObject({ status: "exception", detail: "cannot reload my configuration" });
      expect(byName.get("silent")?.status).toBe("timed-out");
      const reports = new Map((await clientsOf("p1")).map((report) => [report.client, report]));
      // (The throwing client may have caught up already: its heartbeat is every 250 ms.)
      expect(reports.get("silent")?.status).toBe("timed-out");
      // Out of sync catches up by itself: the client's next heartbeat names its older revision,
      // the server sends the newest again, and this time the client takes it.
      const deployedNumber = (forced.body.revision as { number: number }).number;
      const deadline = Date.now() + 5000;
      let caughtUp: ClientRealmReport | undefined;
      while (Date.now() < deadline) {
        caughtUp = (await clientsOf("p1")).find((report) => report.client === "throwing");
        if (caughtUp?.status === "running" && caughtUp.revision === deployedNumber) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(caughtUp).toMatchObject({ status: "running", revision: deployedNumber });
    } finally {
      throwing.close();
      silent.close();
    }
  }, 30_000);

  it("tests every client before deploying: one that cannot take it stops the deploy unless forced, and is then reported as needing a restart", async () => {
    const client = await connect({ servers: [family.clientAddress("p1")], ...familyCredentials });
    try {
      await client.status();
      const before = await currentRevision();
      const next = definition((await family.get<{ text: string }>("p1", `/api/v1/realm/revisions/${before}`, adminCredentials))?.text ?? family.text);
      next.users = next.users.filter((user) => user.name !== familyCredentials.user);
      const text = stringify(next);
      const refused = await family.deploy("p1", { text });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("test-failed");
      expect(String(refused.body.message)).toContain(`user ${familyCredentials.user} is not in the new definition`);
      expect(await currentRevision()).toBe(before);

      const forced = await family.deploy("p1", { text, force: true });
      expect(forced.status).toBe(201);
      expect((forced.body.clients as { status: string }[]).map((answer) => answer.status)).toEqual(["needs-restart"]);
      expect((await clientsOf("p1")).map((report) => report.status)).toEqual(["needs-restart"]);
      // Its pings (every 250 ms) still name the older revision: the server neither pushes the
      // new one to it again nor lets its own answer replace the verdict.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await clientsOf("p1")).map((report) => report.status)).toEqual(["needs-restart"]);
    } finally {
      client.close();
    }
    // Roll back: the first revision's text again, as a new number.
    const rollback = await family.deploy("p1", { revision: 1 });
    expect(rollback.status).toBe(201);
    expect((rollback.body.revision as { number: number }).number).toBe((await currentRevision()));
    await family.waitForRevision(await currentRevision());
  }, 30_000);

  it("serializes racing deploys: each gets its own revision, in order", async () => {
    const before = await currentRevision();
    const texts = [1, 2, 3].map((n) => {
      const next = definition();
      next.endpoints = [...next.endpoints, { name: `race-${n}`, store: "orders" }];
      return stringify(next);
    });
    const answers = await Promise.all(texts.map((text) => family.deploy("p1", { text })));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    // The requests race over HTTP, so they arrive in any order; each gets the next number.
    const numbers = answers.map((answer) => (answer.body.revision as { number: number }).number);
    expect([...numbers].sort((a, b) => a - b)).toEqual([before + 1, before + 2, before + 3]);
    // Each diffed against the revision made just before it, not against the same old one.
    for (const [at, answer] of answers.entries()) {
      const number = numbers[at] as number;
      if (number === before + 1) continue;
      const previous = numbers.indexOf(number - 1);
      expect((answer.body.diff as { lines: string[] }).lines).toContain(`-   - name: race-${previous + 1}`);
    }
    await family.waitForRevision(before + 3);
  }, 40_000);

  it("a satellite cut off during a deploy catches up on reconnect and serves the newest revision", async () => {
    await family.kill("sat1");
    const before = await currentRevision();
    const next = definition();
    next.endpoints = [...next.endpoints, { name: "while-away", store: "orders" }];
    const answer = await family.deploy("p1", { text: stringify(next) });
    expect(answer.status).toBe(201);
    expect((answer.body.servers as { server: string; link: string }[]).find((server) => server.server === "sat1")?.link).not.toBe("up");
    family.startServer("sat1");
    await family.waitForRevision(before + 1, ["sat1"], 30_000);
    const client = await connect({ servers: [family.clientAddress("sat1")], ...familyCredentials });
    try {
      expect(((await client.status()) as { server: string }).server).toBe("sat1");
      expect((await clientsOf("sat1")).map((report) => report.revision)).toEqual([before + 1]);
    } finally {
      client.close();
    }
  }, 60_000);

  it("refuses a deploy while the primary's backup is down, and takes it once they are linked again", async () => {
    await family.kill("p1b");
    const deadline = Date.now() + 5000;
    while ((await family.realmStatus("p1"))?.servers.find((server) => server.server === "p1b")?.link === "up" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const before = await currentRevision();
    const next = definition();
    next.endpoints = [...next.endpoints, { name: "backup-down", store: "orders" }];
    const text = stringify(next);
    const refused = await family.deploy("p1", { text });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("backup-link-down");
    expect(String(refused.body.message)).toContain("p1's backup p1b is not connected");
    expect(await currentRevision()).toBe(before);
    // Seed 003: both warn when the link breaks; the regular server redials and says it is back.
    const primarySaid = (level: string, text: string) =>
      expect.objectContaining({ level, server: "p1", realmRole: "primary", msg: expect.stringContaining(text) });
    expect(logEntries(family.logLines)).toContainEqual(primarySaid("warn", "p1: link with p1b (a backup) is down"));
    family.startServer("p1b");
    await family.waitForRevision(before, ["p1", "p1b"], 30_000);
    expect(logEntries(family.logLines)).toContainEqual(primarySaid("info", "p1: link with p1b (a backup) is up"));
    const accepted = await family.deploy("p1", { text });
    expect(accepted.status).toBe(201);
    expect(accepted.body.backupHolds).toBe(true);
  }, 60_000);

  it("holdfast admin: deploy (dry run, invalid file, real), status and clients, with exit codes scripts rely on", async () => {
    const env = { HOLDFAST_PASSWORD: adminCredentials.password };
    const before = await currentRevision();
    const next = definition();
    next.endpoints = [...next.endpoints, { name: "from-cli", store: "orders" }];
    const file = join(family.directory, "next.yaml");
    writeFileSync(file, stringify(next));
    const dry = await holdfast(["admin", "deploy", file, "--server", family.adminAddress("p1"), "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`dry run: would deploy revision ${before + 1}`);
    expect(dry.stdout).toContain("+   - name: from-cli");

    const broken = join(family.directory, "broken.yaml");
    writeFileSync(broken, "sites: []\nservers: 7\n");
    const invalid = await holdfast(["admin", "deploy", broken, "--server", family.adminAddress("p1")], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("sites: expected");
    expect(invalid.stderr).toContain("servers: expected");

    const onSatellite = await holdfast(["admin", "deploy", file, "--server", family.adminAddress("sat1")], env);
    expect(onSatellite.code).toBe(5);
    expect(onSatellite.stdout).toContain("deploy refused (not-primary)");

    const deployed = await holdfast(["admin", "deploy", file, "--server", family.adminAddress("p1")], env);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toContain(`deployed revision ${before + 1}`);
    await family.waitForRevision(before + 1);

    const status = await holdfast(["admin", "status", "--server", family.adminAddress("sat1")]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`sat1 (satellite, site remote): revision ${before + 1}, serving clients`);
    expect(status.stdout).toMatch(/p1\s+primary\s+main\s+\d+\s+up/);

    const client = await connect({ servers: [family.clientAddress("p1")], ...familyCredentials, clientName: "cli-watched" });
    try {
      await client.status();
      const clients = await holdfast(["admin", "clients", "--server", family.adminAddress("p1")]);
      expect(clients.code).toBe(0);
      expect(clients.stdout).toMatch(/cli-watched\s+tester\s+family-app\s+\d+\s+running/);
    } finally {
      client.close();
    }
  }, 60_000);

  it("a hung primary (SIGSTOP): clients notice its silence by heartbeat, move to the backup, and go back once it runs again", async () => {
    await family.waitForRevision(await currentRevision(), undefined, 30_000);
    const events: { at: number; event: ConnectionEvent }[] = [];
    const client = await connect({ servers: [family.clientAddress("p1"), family.clientAddress("p1b")], ...familyCredentials, clientName: "paused-watcher" });
    client.on((event) => events.push({ at: Date.now(), event }));
    try {
      expect(((await client.status()) as { server: string }).server).toBe("p1");
      const stoppedAt = Date.now();
      family.signal("p1", "SIGSTOP");
      try {
        await waitFor(() => events.some(({ event }) => event.type === "reconnect" && event.server === "p1b"), 15_000);
      } finally {
        family.signal("p1", "SIGCONT");
      }
      const movedMs = (events.find(({ event }) => event.type === "reconnect" && event.server === "p1b")?.at ?? 0) - stoppedAt;
      // Heartbeat timeout 1 s here (3 s by default), on both the client's and the backup's side.
      expect(movedMs).toBeGreaterThanOrEqual(900);
      expect(movedMs).toBeLessThan(8000);
      await waitFor(() => events.some(({ event }) => event.type === "reconnect" && event.server === "p1"), 20_000);
      expect(((await client.status()) as { server: string }).server).toBe("p1");
    } finally {
      client.close();
    }
  }, 60_000);

  it("tests the clients of a satellite too: one on sat1 that cannot take the definition stops the primary's deploy unless forced, and sat1 then reports it as needing a restart", async () => {
    await family.waitForRevision(await currentRevision(), undefined, 30_000);
    const client = await connect({ servers: [family.clientAddress("sat1")], ...familyCredentials, clientName: "on-satellite" });
    try {
      expect(((await client.status()) as { server: string }).server).toBe("sat1");
      const onSatellite = (await clientsOf("sat1")).find((report) => report.client === "on-satellite");
      expect(onSatellite).toBeDefined();
      const before = await currentRevision();
      const next = definition((await family.get<{ text: string }>("p1", `/api/v1/realm/revisions/${before}`))?.text ?? family.text);
      next.users = next.users.filter((user) => user.name !== familyCredentials.user);
      const text = stringify(next);
      // The dry run shows every server's clients' answers, and changes nothing.
      const dryRun = await family.deploy("p1", { text, dryRun: true });
      const dryRunSat1 = (dryRun.body.servers as { server: string; test: string | null; clients: { client: string; status: string }[] }[]).find((server) => server.server === "sat1");
      expect(dryRunSat1).toMatchObject({ test: "answered", clients: [{ client: "on-satellite", status: "needs-restart" }] });
      const refused = await family.deploy("p1", { text });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("test-failed");
      expect(String(refused.body.message)).toContain(`${onSatellite?.clientId ?? "?"} (${familyCredentials.user}/${familyCredentials.app}) on sat1: needs-restart, user ${familyCredentials.user} is not in the new definition`);
      const sat1 = (refused.body.servers as { server: string; test: string | null; clients: { client: string; status: string }[] }[]).find((server) => server.server === "sat1");
      expect(sat1).toMatchObject({ test: "answered", clients: [{ client: "on-satellite", status: "needs-restart" }] });
      expect(await currentRevision()).toBe(before);

      const forced = await family.deploy("p1", { text, force: true });
      expect(forced.status).toBe(201);
      const deployed = (forced.body.revision as { number: number }).number;
      // sat1 takes the revision after the primary answered; its clients answer as it activates.
      const deadline = Date.now() + 10_000;
      let report: ClientRealmReport | undefined;
      while (Date.now() < deadline) {
        report = (await clientsOf("sat1")).find((candidate) => candidate.client === "on-satellite");
        if (report?.status === "needs-restart") break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(report).toMatchObject({ status: "needs-restart", revision: expect.any(Number) as unknown });
      expect((await family.realmStatus("sat1"))?.revision?.number).toBe(deployed);
    } finally {
      client.close();
    }
    // Roll back, so the clients of the next step may connect as that user again.
    const rollback = await family.deploy("p1", { revision: 1 });
    expect(rollback.status).toBe(201);
    await family.waitForRevision(await currentRevision());
  }, 30_000);

  it("kill -9 of the primary while clients publish: clients move to the backup at once, and back to the primary once it restarts", async () => {
    await family.waitForRevision(await currentRevision(), undefined, 30_000);
    const events: { at: number; client: number; event: ConnectionEvent }[] = [];
    const clients: Connection[] = [];
    for (let i = 0; i < 3; i += 1) {
      const client = await connect({ servers: [family.clientAddress("p1"), family.clientAddress("p1b")], ...familyCredentials, clientName: `publisher-${i}` });
      client.on((event) => events.push({ at: Date.now(), client: i, event }));
      clients.push(client);
    }
    /** When each client's home session reached `server` again (one entry per client), once all have. */
    const reconnectedTo = (server: string): number[] | null => {
      const times = clients.map((_, at) => events.find((entry) => entry.client === at && entry.event.type === "reconnect" && entry.event.server === server)?.at);
      return times.every((time) => time !== undefined) ? (times as number[]) : null;
    };
    let publishing = true;
    let confirmed = 0;
    let failed = 0;
    const loops = clients.map(async (client) => {
      const publisher = client.publisher("orders-in");
      for (let n = 0; publishing && n < 100_000; n += 1) {
        try {
          await publisher.publish({ subject: "ORDERS.x", n });
          confirmed += 1;
        } catch {
          failed += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    try {
      await waitFor(() => confirmed >= 30, 15_000);
      const killedAt = Date.now();
      await family.kill("p1");
      await waitFor(() => reconnectedTo("p1b") !== null, 10_000);
      // Seed 003: the satellite is loosely coupled; it keeps serving while the primary is away.
      const satelliteClient = await connect({ servers: [family.clientAddress("sat1")], ...familyCredentials, clientName: "satellite-while-away" });
      try {
        expect(((await satelliteClient.status()) as { server: string }).server).toBe("sat1");
      } finally {
        satelliteClient.close();
      }
      const onBackupMs = Math.max(...(reconnectedTo("p1b") ?? [])) - killedAt;
      // The goal is 1 s (FTL's default timeout is 3 s); `npm run bench -- realm-failover`
      // measures it; this bound only says "at once, not after a timeout".
      expect(onBackupMs).toBeLessThan(5000);
      expect((await clientsOf("p1b")).length).toBe(clients.length);
      const beforeRestart = confirmed;
      await waitFor(() => confirmed >= beforeRestart + 30, 20_000);

      family.startServer("p1");
      await waitFor(() => reconnectedTo("p1") !== null, 40_000);
      expect((await clientsOf("p1")).map((report) => report.client).sort()).toEqual(["publisher-0", "publisher-1", "publisher-2"]);
      expect(await clientsOf("p1b")).toEqual([]);
    } finally {
      publishing = false;
      await Promise.all(loops);
      for (const client of clients) client.close();
    }
    expect(failed).toBe(0);
  }, 120_000);
});
