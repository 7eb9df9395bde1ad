import type { Action, RealmDefinition, Store } from "../../realm/schema.js";
import { dummyHashLike, type PasswordChecks } from "./password-checks.js";

export type AccessRefusal = {
  readonly ok: false;
  readonly code: "unauthenticated" | "forbidden" | "unknown-endpoint" | "backed-off" | "busy";
  readonly message: string;
  /** With `backed-off` and `busy`: when trying again may succeed. */
  readonly retryAfterMs?: number;
  /** With `backed-off` and `busy`: whether this source or the whole server is over its bound. */
  readonly scope?: "source" | "server";
};

export type AccessResult<T> = { readonly ok: true; readonly value: T } | AccessRefusal;

export interface Principal {
  readonly user: string;
  readonly app: string;
  readonly actions: ReadonlySet<Action>;
}

/**
 * Who may do what, from the realm definition: password checks (through the server's
 * PasswordChecks, which outlive a revision), the application's endpoints and the user's
 * permitted actions.
 */
export class RealmAccess {
  /** What an unknown user's password is checked against: same cost, so same time, as a real one. */
  private readonly dummyHash: string;

  constructor(
    private readonly realm: RealmDefinition,
    private readonly checks: PasswordChecks,
  ) {
    this.dummyHash = dummyHashLike(realm.users.map((user) => user.password));
  }

  /** A client's hello from `source` (its address: budgets count by it). */
  async authenticate(user: string, password: string, app: string, source: string): Promise<AccessResult<Principal>> {
    const definition = this.realm.users.find((candidate) => candidate.name === user);
    const checked = await this.checks.check(source, user, definition?.password ?? this.dummyHash, password);
    if (!checked.ok) return checked;
    // One message for unknown user and wrong password (the check's): do not tell which names exist.
    if (definition === undefined) return { ok: false, code: "unauthenticated", message: `wrong user name or password for user "${user}"` };
    if (!this.realm.applications.some((application) => application.name === app)) {
      return { ok: false, code: "forbidden", message: `unknown application "${app}"; defined: ${this.realm.applications.map((a) => a.name).join(", ") || "none"}` };
    }
    const actions = new Set(definition.permissions.filter((permission) => permission.application === app).flatMap((permission) => permission.actions));
    if (actions.size === 0) return { ok: false, code: "forbidden", message: `user "${user}" has no permission for application "${app}"` };
    return { ok: true, value: { user, app, actions } };
  }

  /**
   * An operator for admin writes (a deploy) from `source`: a user whose permissions include
   * `admin` for some application. `forbidden` for a right password without that action.
   */
  async authenticateAdmin(user: string, password: string, source: string): Promise<AccessResult<string>> {
    const definition = this.realm.users.find((candidate) => candidate.name === user);
    const checked = await this.checks.check(source, user, definition?.password ?? this.dummyHash, password);
    if (!checked.ok) return checked;
    if (definition === undefined) return { ok: false, code: "unauthenticated", message: `wrong user name or password for user "${user}"` };
    if (!definition.permissions.some((permission) => permission.actions.includes("admin"))) {
      return { ok: false, code: "forbidden", message: `user "${user}" has no admin permission (give it the action admin for an application)` };
    }
    return { ok: true, value: user };
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
