/**
 * Rules that relate one part of a realm definition to another, run after the shape is valid
 * (schema.ts). Each rule reports every violation it finds; none stops at the first.
 */
import { parseScryptHash } from "./passwords.js";
import { describeFound, formatPath, type PathSegment, type RealmError, type ReportRealmError } from "./realm-error.js";
import { checkRealmRoles } from "./role-checks.js";
import type { Durable, DurableTemplate, RealmDefinition, Store } from "./schema.js";

/** Service counts a cluster may have: a majority survives one failure (3) or two (5). */
const clusterServiceCounts: readonly number[] = [3, 5];

type Report = ReportRealmError;

export function checkRealmDefinition(realm: RealmDefinition): RealmError[] {
  const errors: RealmError[] = [];
  const report: Report = (path, expected, found) => errors.push({ path: formatPath(path), expected, found });
  checkUniqueNames(realm, report);
  checkServers(realm, report);
  checkRealmRoles(realm, report);
  checkClusters(realm, report);
  checkStores(realm, report);
  checkDurables(realm, report);
  checkEndpointsAndApplications(realm, report);
  checkUsers(realm, report);
  return errors;
}

/** Reports each repeat of a name in one list, naming where it was first used. */
function checkUnique(items: ReadonlyArray<{ name: string }>, listPath: readonly PathSegment[], what: string, report: Report): void {
  const firstIndex = new Map<string, number>();
  items.forEach((item, index) => {
    const first = firstIndex.get(item.name);
    if (first === undefined) firstIndex.set(item.name, index);
    else report([...listPath, index, "name"], `a ${what} name not already used (by ${formatPath([...listPath, first])})`, describeFound(item.name));
  });
}

function checkUniqueNames(realm: RealmDefinition, report: Report): void {
  checkUnique(realm.sites, ["sites"], "site", report);
  checkUnique(realm.servers, ["servers"], "server", report);
  checkUnique(realm.clusters, ["clusters"], "cluster", report);
  // One list for every cluster: a store name means one store in the whole realm.
  checkUnique(realm.stores, ["stores"], "store", report);
  checkUnique(realm.endpoints, ["endpoints"], "endpoint", report);
  checkUnique(realm.applications, ["applications"], "application", report);
  checkUnique(realm.users, ["users"], "user", report);
  // Service names identify consensus members across the realm.
  const serviceFirst = new Map<string, string>();
  realm.clusters.forEach((cluster, clusterIndex) => {
    cluster.services.forEach((service, serviceIndex) => {
      const path: PathSegment[] = ["clusters", clusterIndex, "services", serviceIndex];
      const first = serviceFirst.get(service.name);
      if (first === undefined) serviceFirst.set(service.name, formatPath(path));
      else report([...path, "name"], `a service name not already used (by ${first})`, describeFound(service.name));
    });
  });
}

function checkServers(realm: RealmDefinition, report: Report): void {
  const sites = new Set(realm.sites.map((site) => site.name));
  const listeners = new Map<string, string>();
  realm.servers.forEach((server, serverIndex) => {
    if (!sites.has(server.site)) report(["servers", serverIndex, "site"], "a site defined in sites", describeFound(server.site));
    for (const kind of ["client", "peer", "admin"] as const) {
      const port = server.ports[kind];
      const path: PathSegment[] = ["servers", serverIndex, "ports", kind];
      const key = `${server.host.toLowerCase()}:${port}`;
      const first = listeners.get(key);
      if (first === undefined) listeners.set(key, formatPath(path));
      else report(path, `a port not already used on host ${server.host} (by ${first})`, String(port));
    }
  });
}

function checkClusters(realm: RealmDefinition, report: Report): void {
  const servers = new Set(realm.servers.map((server) => server.name));
  realm.clusters.forEach((cluster, clusterIndex) => {
    const count = cluster.services.length;
    const allowed = cluster.development ? [1, ...clusterServiceCounts] : clusterServiceCounts;
    if (!allowed.includes(count)) {
      const expected = cluster.development
        ? "1, 3 or 5 services"
        : "3 or 5 services (1 only with development: true)";
      report(["clusters", clusterIndex, "services"], expected, `${count}`);
    }
    const hostedBy = new Map<string, number>();
    cluster.services.forEach((service, serviceIndex) => {
      const path: PathSegment[] = ["clusters", clusterIndex, "services", serviceIndex, "server"];
      if (!servers.has(service.server)) {
        report(path, "a server defined in servers", describeFound(service.server));
        return;
      }
      const other = hostedBy.get(service.server);
      if (other === undefined) hostedBy.set(service.server, serviceIndex);
      else {
        const otherPath = formatPath(["clusters", clusterIndex, "services", other]);
        report(path, `a server hosting no other service of cluster ${cluster.name} (${otherPath} is on it; two on one server defeats fault tolerance)`, describeFound(service.server));
      }
    });
  });
}

/** The first store of each name (a repeated name is its own error): one lookup per durable, not a scan. */
type StoresByName = ReadonlyMap<string, Store>;

function storesByNameOf(realm: RealmDefinition): StoresByName {
  const byName = new Map<string, Store>();
  for (const store of realm.stores) if (!byName.has(store.name)) byName.set(store.name, store);
  return byName;
}

function checkStores(realm: RealmDefinition, report: Report): void {
  const storesByName = storesByNameOf(realm);
  const clusters = new Set(realm.clusters.map((cluster) => cluster.name));
  realm.stores.forEach((store, storeIndex) => {
    if (!clusters.has(store.cluster)) report(["stores", storeIndex, "cluster"], "a cluster defined in clusters", describeFound(store.cluster));
    checkUnique(store.durableTemplates, ["stores", storeIndex, "durableTemplates"], "durable template", report);
    store.durableTemplates.forEach((template, templateIndex) => {
      checkDurableSettings(storesByName, template, store.name, ["stores", storeIndex, "durableTemplates", templateIndex], report);
    });
  });
}

function checkDurables(realm: RealmDefinition, report: Report): void {
  const storesByName = storesByNameOf(realm);
  const stores = new Set(realm.stores.map((store) => store.name));
  const firstByStore = new Map<string, number>();
  realm.durables.forEach((durable, durableIndex) => {
    const path: PathSegment[] = ["durables", durableIndex];
    if (!stores.has(durable.store)) report([...path, "store"], "a store defined in stores", describeFound(durable.store));
    // Durable names are unique within their store; identical names at other stores are fine.
    const key = JSON.stringify([durable.store, durable.name]);
    const first = firstByStore.get(key);
    if (first === undefined) firstByStore.set(key, durableIndex);
    else report([...path, "name"], `a durable name not already used in store ${durable.store} (by ${formatPath(["durables", first])})`, describeFound(durable.name));
    checkDurableSettings(storesByName, durable, durable.store, path, report);
    checkMatcher(durable, path, report);
  });
}

/** Rules shared by static durables and templates: which settings fit which type. */
function checkDurableSettings(storesByName: StoresByName, durable: DurableTemplate | Durable, storeName: string, path: readonly PathSegment[], report: Report): void {
  const keyed = durable.type === "last-value" || durable.type === "map";
  if (keyed && durable.keyField === undefined) {
    report([...path, "keyField"], `the field that keys a ${durable.type} durable`, "nothing");
  }
  if (!keyed && durable.keyField !== undefined) {
    report([...path, "keyField"], `no keyField (only last-value and map durables have one)`, describeFound(durable.keyField));
  }
  if (keyed) {
    // Last-value and map durables have no acknowledgments, hence no redelivery settings.
    for (const setting of ["ackWaitMs", "deliveryLimit", "deadLetterStore"] as const) {
      if (durable[setting] !== undefined) {
        report([...path, setting], `no ${setting} (a ${durable.type} durable has no acknowledgments)`, describeFound(durable[setting]));
      }
    }
  }
  if (durable.deadLetterStore !== undefined) checkDeadLetterStore(storesByName, durable.deadLetterStore, storeName, [...path, "deadLetterStore"], report);
}

function checkDeadLetterStore(storesByName: StoresByName, deadLetterStore: string, storeName: string, path: readonly PathSegment[], report: Report): void {
  const target = storesByName.get(deadLetterStore);
  const source = storesByName.get(storeName);
  if (target === undefined) {
    report(path, "a store defined in stores", describeFound(deadLetterStore));
  } else if (deadLetterStore === storeName) {
    report(path, "a store other than the durable's own", describeFound(deadLetterStore));
  } else if (source !== undefined && source.cluster !== target.cluster) {
    // The move to the dead-letter store is one log entry of one cluster.
    report(path, `a store of the durable's cluster ${source.cluster}`, `${describeFound(deadLetterStore)} (of cluster ${target.cluster})`);
  }
}

function checkMatcher(durable: Durable, path: readonly PathSegment[], report: Report): void {
  const { subject, fields } = durable.matcher;
  if (subject !== undefined && !isSubjectPattern(subject)) {
    report([...path, "matcher", "subject"], "a subject pattern of dot-separated elements, `*` for one element, `>` for the rest (last only)", describeFound(subject));
  }
  fields.forEach((test, testIndex) => {
    const given = (["equals", "present", "absent"] as const).filter((kind) => test[kind] !== undefined);
    if (given.length !== 1) {
      report([...path, "matcher", "fields", testIndex], "exactly one of equals, present: true, absent: true", given.length === 0 ? "none" : given.join(" and "));
    }
  });
}

/** `ORDERS.*.new`, `ORDERS.>`: non-empty elements; a wildcard is a whole element; `>` last. */
export function isSubjectPattern(subject: string): boolean {
  const elements = subject.split(".");
  return elements.every((element, index) => {
    if (element === "") return false;
    if (element === ">") return index === elements.length - 1;
    if (element === "*") return true;
    return !element.includes("*") && !element.includes(">") && !/\s/.test(element);
  });
}

function checkEndpointsAndApplications(realm: RealmDefinition, report: Report): void {
  const stores = new Set(realm.stores.map((store) => store.name));
  realm.endpoints.forEach((endpoint, endpointIndex) => {
    if (!stores.has(endpoint.store)) report(["endpoints", endpointIndex, "store"], "a store defined in stores", describeFound(endpoint.store));
  });
  const endpoints = new Set(realm.endpoints.map((endpoint) => endpoint.name));
  realm.applications.forEach((application, applicationIndex) => {
    application.endpoints.forEach((endpoint, endpointIndex) => {
      if (!endpoints.has(endpoint)) report(["applications", applicationIndex, "endpoints", endpointIndex], "an endpoint defined in endpoints", describeFound(endpoint));
    });
  });
}

function checkUsers(realm: RealmDefinition, report: Report): void {
  const applications = new Set(realm.applications.map((application) => application.name));
  realm.users.forEach((user, userIndex) => {
    const parsed = parseScryptHash(user.password);
    // Never echo the value: it may be a password pasted where its hash belongs.
    if ("problem" in parsed) report(["users", userIndex, "password"], parsed.problem, "a string that is not one (not shown)");
    user.permissions.forEach((permission, permissionIndex) => {
      if (!applications.has(permission.application)) {
        report(["users", userIndex, "permissions", permissionIndex, "application"], "an application defined in applications", describeFound(permission.application));
      }
    });
  });
}
