import { createHash } from "node:crypto";
import { verifyPassword } from "../../realm/passwords.js";
import type { Action, RealmDefinition, Store } from "../../realm/schema.js";

export type AccessResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: "unauthenticated" | "forbidden" | "unknown-endpoint"; readonly message: string };

export interface Principal {
  readonly user: string;
  readonly app: string;
  readonly actions: ReadonlySet<Action>;
}

/** Verified passwords kept (as digests) so reconnect storms do not cost one scrypt each. */
const verifiedCacheEntriesMax = 1024;

/**
 * Who may do what, from the realm definition: password checks (scrypt, with a small cache of
 * successful checks), the application's endpoints and the user's permitted actions.
 */
export class RealmAccess {
  private readonly verified = new Set<string>();

  constructor(private readonly realm: RealmDefinition) {}

  async authenticate(user: string, password: string, app: string): Promise<AccessResult<Principal>> {
    const definition = this.realm.users.find((candidate) => candidate.name === user);
    // One message for unknown user and wrong password: do not tell which names exist.
    const refused = { ok: false as const, code: "unauthenticated" as const, message: `wrong user name or password for user "${user}"` };
    if (!definition) return refused;
    const digest = createHash("sha256").update(`${user}\u0000${definition.password}\u0000${password}`).digest("base64");
    if (!this.verified.has(digest)) {
      if (!(await verifyPassword(password, definition.password))) return refused;
      if (this.verified.size >= verifiedCacheEntriesMax) this.verified.clear();
      this.verified.add(digest);
    }
    if (!this.realm.applications.some((application) => application.name === app)) {
      return { ok: false, code: "forbidden", message: `unknown application "${app}"; defined: ${this.realm.applications.map((a) => a.name).join(", ") || "none"}` };
    }
    const actions = new Set(definition.permissions.filter((permission) => permission.application === app).flatMap((permission) => permission.actions));
    if (actions.size === 0) return { ok: false, code: "forbidden", message: `user "${user}" has no permission for application "${app}"` };
    return { ok: true, value: { user, app, actions } };
  }

  /**
   * An operator for admin writes (a deploy): a user whose permissions include `admin` for some
   * application. Null when allowed, else why not (one message for unknown user and wrong password).
   */
  async authenticateAdmin(user: string, password: string): Promise<string | null> {
    const definition = this.realm.users.find((candidate) => candidate.name === user);
    const refused = `wrong user name or password for user "${user}"`;
    if (!definition || !(await verifyPassword(password, definition.password))) return refused;
    if (!definition.permissions.some((permission) => permission.actions.includes("admin"))) return `user "${user}" has no admin permission (give it the action admin for an application)`;
    return null;
  }

  /** The store behind an endpoint the principal's application may use for `action`. */
  endpointStore(principal: Principal, endpoint: string, action: Action): AccessResult<Store> {
    const application = this.realm.applications.find((candidate) => candidate.name === principal.app);
    if (!application?.endpoints.includes(endpoint)) {
      return { ok: false, code: "unknown-endpoint", message: `unknown endpoint "${endpoint}" for application "${principal.app}"; it may use: ${application?.endpoints.join(", ") || "none"}` };
    }
    if (!principal.actions.has(action)) {
      return { ok: false, code: "forbidden", message: `user "${principal.user}" may not ${action} in application "${principal.app}" (permitted: ${[...principal.actions].join(", ")})` };
    }
    const definition = this.realm.endpoints.find((candidate) => candidate.name === endpoint);
    const store = this.realm.stores.find((candidate) => candidate.name === definition?.store);
    if (!store) return { ok: false, code: "unknown-endpoint", message: `endpoint "${endpoint}" names no store` };
    return { ok: true, value: store };
  }

  /** Where clients reach the server hosting a service: for redirects to the leader. */
  serverOfService(cluster: string, service: string): { server: string; host: string; port: number } | null {
    const definition = this.realm.clusters.find((candidate) => candidate.name === cluster)?.services.find((candidate) => candidate.name === service);
    const server = this.realm.servers.find((candidate) => candidate.name === definition?.server);
    return server ? { server: server.name, host: server.host, port: server.ports.client } : null;
  }
}
