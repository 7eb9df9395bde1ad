import type { RealmDefinition, RealmRole } from "./schema.js";

/** One server of the family of affiliated realm servers (protocols/realm/family.ts's shape). */
export interface RealmFamilyMember {
  readonly name: string;
  readonly role: RealmRole;
  readonly of?: string | undefined;
}

/**
 * The servers with a realm role, as the realm service takes them. Empty for a realm without
 * roles (every server then reads the definition from its file). Only for a definition that
 * passed the checks (load.ts): the protocol asserts what role-checks.ts refused.
 */
export function realmFamily(realm: RealmDefinition): RealmFamilyMember[] {
  return realm.servers.flatMap((server) => (server.realmService === undefined ? [] : [{ name: server.name, role: server.realmService.role, of: server.realmService.of }]));
}
