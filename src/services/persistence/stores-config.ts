import type { MatcherSpec } from "../../protocols/persistence/matcher.js";
import type { ClusterStoresConfig, DurableConfig, StoreConfig } from "../../protocols/persistence/state-types.js";
import type { Matcher as RealmMatcher, RealmDefinition } from "../../realm/schema.js";

/**
 * The stores and static durables of one cluster, as the persistence state machine takes them.
 * Every service of the cluster derives this from the same realm definition, so they all apply
 * the log to the same configuration.
 */
export function storesConfigFor(realm: RealmDefinition, cluster: string): ClusterStoresConfig {
  const stores: StoreConfig[] = realm.stores
    .filter((store) => store.cluster === cluster)
    .map((store) => ({
      name: store.name,
      limits: store.limits,
      full: store.full,
      publisherMode: store.publisherMode,
      ackPoint: store.ackPoint,
      durables: realm.durables.filter((durable) => durable.store === store.name).map(durableConfig),
      templates: store.durableTemplates.map((template) => ({ ...template })),
    }));
  return { stores };
}

function durableConfig(durable: RealmDefinition["durables"][number]): DurableConfig {
  const { store: _store, matcher, ...settings } = durable;
  return { ...settings, matcher: matcherSpec(matcher) };
}

/** The realm's matcher form (`fields`) in the matcher module's form (`tests`). */
export function matcherSpec(matcher: RealmMatcher): MatcherSpec {
  return {
    ...(matcher.subject === undefined ? {} : { subject: matcher.subject }),
    tests: matcher.fields.map((test) =>
      test.equals !== undefined ? { field: test.field, equals: test.equals } : test.present ? { field: test.field, present: true as const } : { field: test.field, absent: true as const },
    ),
  };
}
