import { loadRealmDefinition } from "../realm/load.js";
import { notListedLine } from "../realm/realm-error.js";
import type { RealmDefinition } from "../realm/schema.js";

/** Exit codes scripts can rely on (also in main.ts's help). */
export const exitCodes = { ok: 0, failure: 1, usage: 2, noLeader: 3, diskFailure: 4, refused: 5 } as const;

/** Load a realm definition or exit 2 listing every problem ("path: expected …, found …"). */
export async function loadRealmOrExit(path: string): Promise<RealmDefinition> {
  const result = await loadRealmDefinition(path);
  if (result.ok) return result.realm;
  process.stderr.write(`realm definition ${path} is invalid:\n`);
  for (const error of result.errors) {
    const at = error.line === undefined ? "" : ` (line ${error.line}, column ${error.column ?? 0})`;
    process.stderr.write(`  ${error.path || "(file)"}: expected ${error.expected}, found ${error.found}${at}\n`);
  }
  if (result.errorsNotListed > 0) process.stderr.write(`  ${notListedLine(result.errorsNotListed)}\n`);
  process.exit(exitCodes.usage);
}

/** Client addresses of every server in the realm. */
export function serverAddresses(realm: RealmDefinition): string[] {
  return realm.servers.map((server) => `${server.host}:${server.ports.client}`);
}
