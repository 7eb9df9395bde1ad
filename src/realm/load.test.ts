import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadRealmDefinition, parseRealmDefinition } from "./load.js";
import { formatRealmError } from "./realm-error.js";

const demoPath = fileURLToPath(new URL("./testdata/demo-realm.yaml", import.meta.url));
const demo = readFileSync(demoPath, "utf8");

/** The demo file with each `[from, to]` replaced once; fails the test if `from` is not there. */
function demoWith(...changes: Array<[string, string]>): string {
  let text = demo;
  for (const [from, to] of changes) {
    expect(text, `demo-realm.yaml should contain ${JSON.stringify(from)}`).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

/** Errors as "path: expected …, found …", without position, for exact comparison. */
function errorsOf(text: string): string[] {
  const result = parseRealmDefinition(text, "test.yaml");
  return result.ok ? [] : result.errors.map((error) => formatRealmError({ ...error, line: undefined, column: undefined }));
}

describe("the demo realm", () => {
  it("parses, with defaults filled in", async () => {
    const result = await loadRealmDefinition(demoPath);
    expect(result.ok ? [] : result.errors.map((error) => formatRealmError(error))).toEqual([]);
    if (!result.ok) return;
    expect(result.realm.servers.map((server) => server.name)).toEqual(["s1", "s2", "s3"]);
    expect(result.realm.clusters[0]?.services).toHaveLength(3);
    expect(result.realm.durables.map((durable) => durable.type)).toEqual(["standard", "shared", "last-value", "map"]);
    const prices = result.realm.stores.find((store) => store.name === "prices");
    expect(prices).toMatchObject({ limits: {}, full: "reject-new", durableTemplates: [] });
    const ordersDead = result.realm.stores.find((store) => store.name === "orders-dead");
    expect(ordersDead?.ackPoint).toBe("quorum-fsync");
    expect(ordersDead?.publisherMode).toBe("confirm");
  });
});

describe("servers and clusters", () => {
  it("a service names a defined server", () => {
    expect(errorsOf(demoWith(["server: s2, weight: 2", "server: s9, weight: 2"]))).toEqual([
      'clusters[0].services[1].server: expected a server defined in servers, found "s9"',
    ]);
  });

  it("two services of one cluster on one server defeat fault tolerance", () => {
    expect(errorsOf(demoWith(["server: s2, weight: 2", "server: s1, weight: 2"]))).toEqual([
      'clusters[0].services[1].server: expected a server hosting no other service of cluster c1 (clusters[0].services[0] is on it; two on one server defeats fault tolerance), found "s1"',
    ]);
  });

  it("a cluster has 3 or 5 services", () => {
    expect(errorsOf(demoWith(["      - { name: c1-s3, server: s3, weight: 1 }\n", ""]))).toEqual([
      "clusters[0].services: expected 3 or 5 services (1 only with development: true), found 2",
    ]);
  });

  it("a single-service cluster needs development: true", () => {
    const single: Array<[string, string]> = [
      ["      - { name: c1-s2, server: s2, weight: 2 }\n", ""],
      ["      - { name: c1-s3, server: s3, weight: 1 }\n", ""],
    ];
    expect(errorsOf(demoWith(...single))).toEqual([
      "clusters[0].services: expected 3 or 5 services (1 only with development: true), found 1",
    ]);
    expect(errorsOf(demoWith(...single, ["  - name: c1\n", "  - name: c1\n    development: true\n"]))).toEqual([]);
  });

  it("a server's site is defined", () => {
    expect(errorsOf(demoWith(["    site: local\n    host: 127.0.0.1\n    ports: { client: 7402", "    site: remote\n    host: 127.0.0.1\n    ports: { client: 7402"]))).toEqual([
      'servers[1].site: expected a site defined in sites, found "remote"',
    ]);
  });

  it("two servers on one host do not share a port", () => {
    expect(errorsOf(demoWith(["peer: 7412", "peer: 7411"]))).toEqual([
      "servers[1].ports.peer: expected a port not already used on host 127.0.0.1 (by servers[0].ports.peer), found 7411",
    ]);
  });

  it("a port is an integer from 1 to 65535", () => {
    expect(errorsOf(demoWith(["admin: 7423", "admin: 70000"]))).toEqual([
      "servers[2].ports.admin: expected a number of at most 65535, found 70000",
    ]);
  });

  it("names are unique", () => {
    expect(errorsOf(demoWith(["  - name: s3\n", "  - name: s2\n"]))).toContain(
      'servers[2].name: expected a server name not already used (by servers[1]), found "s2"',
    );
  });
});

describe("stores and durables", () => {
  it("a store belongs to a defined cluster", () => {
    expect(errorsOf(demoWith(["    cluster: c1\n    publisherMode: no-confirm", "    cluster: c2\n    publisherMode: no-confirm"]))).toEqual([
      'stores[2].cluster: expected a cluster defined in clusters, found "c2"',
    ]);
  });

  it("store names are unique across clusters", () => {
    expect(errorsOf(demoWith(["  - name: prices\n", "  - name: orders\n"]))).toContain(
      'stores[2].name: expected a store name not already used (by stores[0]), found "orders"',
    );
  });

  it("the ack point is one of the three", () => {
    expect(errorsOf(demoWith(["ackPoint: quorum-memory", "ackPoint: eventually"]))).toEqual([
      'stores[2].ackPoint: expected one of "quorum-fsync", "quorum-memory", "leader-memory", found "eventually"',
    ]);
  });

  it("a durable names a defined store", () => {
    expect(errorsOf(demoWith(["    store: prices\n    type: map", "    store: quotes\n    type: map"]))).toEqual([
      'durables[3].store: expected a store defined in stores, found "quotes"',
    ]);
  });

  it("last-value and map durables need a key field", () => {
    expect(errorsOf(demoWith(["    type: last-value\n    keyField: symbol\n", "    type: last-value\n"]))).toEqual([
      "durables[2].keyField: expected the field that keys a last-value durable, found nothing",
    ]);
    expect(errorsOf(demoWith(["    type: map\n    keyField: symbol\n", "    type: map\n"]))).toEqual([
      "durables[3].keyField: expected the field that keys a map durable, found nothing",
    ]);
  });

  it("a last-value durable has no acknowledgment settings", () => {
    expect(errorsOf(demoWith(["    keyField: symbol\n", "    keyField: symbol\n    ackWaitMs: 1000\n"]))).toEqual([
      "durables[2].ackWaitMs: expected no ackWaitMs (a last-value durable has no acknowledgments), found 1000",
    ]);
  });

  it("a dead-letter store exists, in the durable's cluster", () => {
    expect(errorsOf(demoWith(["    deliveryLimit: 3\n    deadLetterStore: orders-dead", "    deliveryLimit: 3\n    deadLetterStore: graveyard"]))).toEqual([
      'durables[0].deadLetterStore: expected a store defined in stores, found "graveyard"',
    ]);
    expect(errorsOf(demoWith(["        deadLetterStore: orders-dead", "        deadLetterStore: orders"]))).toEqual([
      'stores[0].durableTemplates[0].deadLetterStore: expected a store other than the durable\'s own, found "orders"',
    ]);
  });

  it("a subject pattern uses whole-element wildcards, > last", () => {
    expect(errorsOf(demoWith(["subject: ORDERS.*.new", "subject: ORDERS.>.new"]))).toEqual([
      'durables[0].matcher.subject: expected a subject pattern of dot-separated elements, `*` for one element, `>` for the rest (last only), found "ORDERS.>.new"',
    ]);
  });

  it("a field test is exactly one of equals, present, absent", () => {
    expect(errorsOf(demoWith(["{ field: customer, present: true }", "{ field: customer, present: true, equals: 7 }"]))).toEqual([
      "durables[0].matcher.fields[1]: expected exactly one of equals, present: true, absent: true, found equals and present",
    ]);
    expect(errorsOf(demoWith(["{ field: cancelled, absent: true }", "{ field: cancelled, absent: false }"]))).toEqual([
      "durables[1].matcher.fields[0].absent: expected true, found false",
    ]);
  });
});

describe("endpoints, applications and users", () => {
  it("an endpoint names a defined store", () => {
    expect(errorsOf(demoWith(["{ name: prices-in, store: prices }", "{ name: prices-in, store: price }"]))).toEqual([
      'endpoints[1].store: expected a store defined in stores, found "price"',
    ]);
  });

  it("an application names defined endpoints", () => {
    expect(errorsOf(demoWith(["[orders-in, prices-in]", "[orders-in, trades-in]"]))).toEqual([
      'applications[0].endpoints[1]: expected an endpoint defined in endpoints, found "trades-in"',
    ]);
  });

  it("a permission names a defined application and known actions", () => {
    expect(errorsOf(demoWith(["{ application: demo, actions: [publish, subscribe, admin] }", "{ application: demo2, actions: [publish, read, admin] }"]))).toEqual([
      'users[0].permissions[0].actions[1]: expected one of "publish", "subscribe", "admin", found "read"',
    ]);
    expect(errorsOf(demoWith(["{ application: demo, actions", "{ application: demo2, actions"]))).toEqual([
      'users[0].permissions[0].application: expected an application defined in applications, found "demo2"',
    ]);
  });

  it("a password is a scrypt hash, and a plain password is never echoed", () => {
    const errors = errorsOf(demo.replace(/password: scrypt\S+/, "password: hunter2"));
    expect(errors).toEqual([
      "users[0].password: expected a scrypt hash scrypt$N$r$p$salt$hash (made by hashPassword), found a string that is not one (not shown)",
    ]);
    expect(errors.join("\n")).not.toContain("hunter2");
  });
});

describe("reporting", () => {
  it("lists every error at once, nothing half-accepted", () => {
    const result = parseRealmDefinition(
      demoWith(
        ["server: s2, weight: 2", "server: s9, weight: 2"],
        ["subject: ORDERS.*.new", "subject: ORDERS..new"],
        ["{ name: prices-in, store: prices }", "{ name: prices-in, store: price }"],
      ),
      "test.yaml",
    );
    expect(result.ok).toBe(false);
    expect("realm" in result).toBe(false);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual([
      "clusters[0].services[1].server",
      "durables[0].matcher.subject",
      "endpoints[1].store",
    ]);
  });

  it("lists every shape error at once, unknown keys included", () => {
    expect(errorsOf(demoWith(["    host: 127.0.0.1\n    ports: { client: 7403", "    hots: 127.0.0.1\n    ports: { client: 7403"], ["full: discard-old", "full: maybe"]))).toEqual([
      "servers[2].host: expected text, found nothing",
      'servers[2].hots: expected only the keys this section defines (see src/realm/README.md), found "hots"',
      'stores[1].full: expected one of "discard-old", "reject-new", found "maybe"',
    ]);
  });

  it("gives the line and column of the offending value", () => {
    const text = demoWith(["server: s2, weight: 2", "server: s9, weight: 2"]);
    const result = parseRealmDefinition(text, "test.yaml");
    const lineIndex = text.split("\n").findIndex((line) => line.includes("server: s9"));
    expect(result.ok ? undefined : result.errors[0]).toMatchObject({ line: lineIndex + 1, column: text.split("\n")[lineIndex]!.indexOf("s9") + 1 });
    expect(result.ok ? "" : formatRealmError(result.errors[0]!, "test.yaml")).toMatch(/^test\.yaml:\d+:\d+: clusters\[0\]/);
  });

  it("reports YAML syntax errors with line and column", () => {
    const result = parseRealmDefinition("sites:\n  - name: a\n servers: [\n", "bad.yaml");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toMatchObject({ path: "", expected: "valid YAML" });
    expect(result.errors[0]?.line).toBeGreaterThanOrEqual(1);
    expect(result.errors[0]?.column).toBeGreaterThanOrEqual(1);
  });

  it("refuses duplicate keys rather than keeping the last", () => {
    expect(errorsOf("sites: []\nsites: [{ name: a }]\n")).toEqual(['sites: expected a key given once in its mapping (it is first at line 1), found "sites" again']);
  });

  it("an empty file and a missing file are errors, not exceptions", async () => {
    expect(errorsOf("")).toEqual(["expected a mapping, found null"]);
    const missing = await loadRealmDefinition(fileURLToPath(new URL("./testdata/no-such-realm.yaml", import.meta.url)));
    expect(missing.ok ? "" : missing.errors[0]?.expected).toMatch(/^a readable realm definition file at /);
  });

  it("never throws on junk: only errors", () => {
    const token = fc.constantFrom("sites", "servers", "clusters", "name", ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&a", "*a", "!!binary", "'", '"', "#", "s1", "3", "true", "null", "|", ">", "?", "---", "\t");
    const yamlish = fc.array(token, { maxLength: 40 }).map((tokens) => tokens.join(""));
    const structured = fc.jsonValue({ maxDepth: 4 }).map((value) => stringify(value));
    // Near-valid files reach the cross-reference checks: the demo with some lines left out.
    const demoLines = demo.split("\n");
    const demoPart = fc.subarray(demoLines).map((lines) => lines.join("\n"));
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish, structured, demoPart), (text) => {
        const result = parseRealmDefinition(text, "junk.yaml");
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("README.md", () => {
  it("shows the demo realm as its complete example", () => {
    const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url)), "utf8");
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBe(demo);
  });
});
