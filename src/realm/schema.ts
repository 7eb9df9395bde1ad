/**
 * The shape of a realm definition (issue 3, first version): what each key holds and which
 * defaults apply. Rules that relate one part to another (a service names a defined server, a
 * durable's dead-letter store exists, …) live in semantic-checks.ts, so that this file reads as
 * the format itself.
 *
 * Messages given here are the "expected" half of an error: they complete the sentence
 * "<path>: expected …, found …".
 */
import { z } from "zod";
import { limits } from "../kernel/limits.js";

/** Names are used in paths, subjects and logs: no spaces, no dots-only, no wildcards. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

const name = z
  .string()
  .regex(namePattern, { error: "a name of letters, digits, '_' or '-' (starting with a letter or digit)" });

const port = z.int().min(1).max(65_535);

/** A count or size that may be zero. */
const count = z.int().min(0);

/** A duration or bound that must be positive to mean anything. */
const positive = z.int().min(1);

export const siteSchema = z.strictObject({
  name,
});

export const serverPortsSchema = z.strictObject({
  /** Where clients connect (the bus). */
  client: port,
  /** Where the persistence services of this server replicate with their peers. */
  peer: port,
  /** Where `holdfast status` and operator commands connect. */
  admin: port,
  /**
   * Where affiliated realm servers link (issue 5): needed by a server with a realm role
   * (checked in role-checks.ts), unused otherwise.
   */
  realm: port.optional(),
});

/** The four roles of seed 003's table; a server without one runs no realm service of its own. */
export const realmRoleSchema = z.enum(["primary", "satellite", "backup", "disaster-recovery"]);

/**
 * The role a server's realm service plays in the family of affiliated servers. `of` names the
 * server it is affiliated with: for a satellite and the disaster-recovery server the primary,
 * for a backup its regular server (the primary or a satellite); the primary has none. Who may
 * be affiliated with whom is checked in semantic-checks.ts, where the whole family is known.
 */
export const realmServiceSchema = z.strictObject({
  role: realmRoleSchema,
  of: name.optional(),
});

export const serverSchema = z.strictObject({
  name,
  site: name,
  host: z.string().min(1),
  ports: serverPortsSchema,
  /** Optional: a realm without roles is read from its file by every server (issue 3). */
  realmService: realmServiceSchema.optional(),
});

/** Links between affiliated realm servers (FTL's defaults: a heartbeat each second, 3 s timeout). */
export const realmServicesSchema = z.strictObject({
  heartbeatIntervalMs: positive.default(limits.realmHeartbeatIntervalMs),
  heartbeatTimeoutMs: positive.default(limits.realmHeartbeatTimeoutMs),
  /**
   * What affiliated realm servers prove to each other when they link (an HMAC handshake; the
   * secret itself never travels). HOLDFAST_REALM_SECRET overrides it, so a file that is
   * deployed and archived need not carry it. Required (here or there) when servers have roles.
   */
  secret: z.string().min(16, { error: "a secret of at least 16 characters" }).optional(),
});

export const serviceSchema = z.strictObject({
  name,
  server: name,
  /** Preference to lead when there is no leader: heavier first (glossary: weight). */
  weight: count.default(1),
});

export const clusterSchema = z.strictObject({
  name,
  /**
   * A single-service cluster has no fault tolerance; it is accepted only when the definition
   * says so, so that nobody gets one by a typo.
   */
  development: z.boolean().default(false),
  /**
   * What the cluster's services prove to each other when they connect (an HMAC key). May be
   * left out here and given to every server as HOLDFAST_CLUSTER_SECRET instead.
   */
  secret: z.string().min(16, { error: "a secret of at least 16 characters" }).optional(),
  services: z.array(serviceSchema),
});

export const durableTypeSchema = z.enum(["standard", "shared", "last-value", "map"]);

/** Settings shared by static durables and the templates dynamic durables are made from. */
const durableSettings = {
  name,
  type: durableTypeSchema,
  /** The field whose value keys a last-value or map durable; required for those types only. */
  keyField: z.string().min(1).optional(),
  /** How long a delivered, unacknowledged message waits before redelivery (acked types). */
  ackWaitMs: positive.optional(),
  /** Deliveries after which a message leaves the durable (to the dead-letter store, if any). */
  deliveryLimit: positive.optional(),
  /** A store of the same cluster that receives messages past the delivery limit. */
  deadLetterStore: name.optional(),
};

export const durableTemplateSchema = z.strictObject(durableSettings);

/** Each limit is optional: absent means no limit of that kind. */
export const storeLimitsSchema = z.strictObject({
  bytes: count.optional(),
  messages: count.optional(),
  ageMs: positive.optional(),
  messageBytesMax: positive.optional(),
  dynamicDurablesMax: count.optional(),
});

export const storeSchema = z.strictObject({
  name,
  cluster: name,
  limits: storeLimitsSchema.default({}),
  /**
   * What happens at a limit. The default refuses new messages with a clear error to the
   * publisher, because silently discarding old ones should be a deliberate choice.
   */
  full: z.enum(["discard-old", "reject-new"]).default("reject-new"),
  publisherMode: z.enum(["confirm", "no-confirm"]).default("confirm"),
  /** Stated in every confirm; see docs and spec/persistence.md. */
  ackPoint: z.enum(["quorum-fsync", "quorum-memory", "leader-memory"]).default("quorum-fsync"),
  /** Templates for durables created when a subscriber connects with a durable name. */
  durableTemplates: z.array(durableTemplateSchema).default([]),
});

/** Exactly one of equals, present, absent (checked in semantic-checks.ts, with its path). */
export const fieldTestSchema = z.strictObject({
  field: z.string().min(1),
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  present: z.literal(true).optional(),
  absent: z.literal(true).optional(),
});

/** A message matches when every field test holds and the subject (if given) matches. */
export const matcherSchema = z.strictObject({
  /** `ORDERS.*.new`, `ORDERS.>`: `*` matches one element, `>` the rest (last only). */
  subject: z.string().min(1).optional(),
  fields: z.array(fieldTestSchema).default([]),
});

export const durableSchema = z.strictObject({
  ...durableSettings,
  store: name,
  /** Absent: the durable is interested in every message of its store. */
  matcher: matcherSchema.default({ fields: [] }),
});

export const endpointSchema = z.strictObject({
  name,
  /** The store fixes the cluster: a store belongs to exactly one cluster. */
  store: name,
});

export const applicationSchema = z.strictObject({
  name,
  /** The endpoints this application may use. */
  endpoints: z.array(name),
});

export const actionSchema = z.enum(["publish", "subscribe", "admin"]);

export const permissionSchema = z.strictObject({
  application: name,
  actions: z.array(actionSchema).min(1),
});

export const userSchema = z.strictObject({
  name,
  /** `scrypt$N$r$p$salt$hash`, made by hashPassword; never the password itself. */
  password: z.string(),
  permissions: z.array(permissionSchema).default([]),
});

export const realmDefinitionSchema = z.strictObject({
  sites: z.array(siteSchema).min(1),
  servers: z.array(serverSchema).min(1),
  realmServices: realmServicesSchema.default({
    heartbeatIntervalMs: limits.realmHeartbeatIntervalMs,
    heartbeatTimeoutMs: limits.realmHeartbeatTimeoutMs,
  }),
  clusters: z.array(clusterSchema).default([]),
  stores: z.array(storeSchema).default([]),
  durables: z.array(durableSchema).default([]),
  endpoints: z.array(endpointSchema).default([]),
  applications: z.array(applicationSchema).default([]),
  users: z.array(userSchema).default([]),
});

export type RealmDefinition = z.infer<typeof realmDefinitionSchema>;
export type Site = RealmDefinition["sites"][number];
export type Server = RealmDefinition["servers"][number];
export type RealmRole = z.infer<typeof realmRoleSchema>;
export type RealmService = z.infer<typeof realmServiceSchema>;
export type RealmServices = RealmDefinition["realmServices"];
export type Cluster = RealmDefinition["clusters"][number];
export type Service = Cluster["services"][number];
export type Store = RealmDefinition["stores"][number];
export type StoreLimits = Store["limits"];
export type DurableTemplate = Store["durableTemplates"][number];
export type Durable = RealmDefinition["durables"][number];
export type DurableType = z.infer<typeof durableTypeSchema>;
export type Matcher = Durable["matcher"];
export type FieldTest = Matcher["fields"][number];
export type Endpoint = RealmDefinition["endpoints"][number];
export type Application = RealmDefinition["applications"][number];
export type User = RealmDefinition["users"][number];
export type Action = z.infer<typeof actionSchema>;
