import { limits } from "../../kernel/limits.js";
import type { FamilyMember } from "./family.js";

/** Every knob of one server's realm service. Defaults come from kernel/limits.ts. */
export interface RealmServiceOptions {
  /** This server's name; it must be in `family`. */
  readonly self: string;
  /** Every server with a realm role (servers without one are not part of the protocol). */
  readonly family: readonly FamilyMember[];
  /** realmServices.heartbeatIntervalMs of the realm definition. */
  readonly heartbeatIntervalMs: number;
  /** realmServices.heartbeatTimeoutMs: a link silent this long is broken. */
  readonly heartbeatTimeoutMs: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  /**
   * A deploy's test waits this long for each downstream server's answer; a little longer than
   * a server waits for its own clients (realmClientAnswerTimeoutMs), so a slow client is seen
   * as that client timing out, not its server.
   */
  readonly testTimeoutMs: number;
  /** A deployed definition larger than this is refused (the file limit, realm/load.ts). */
  readonly definitionCharactersMax: number;
}

export function realmServiceOptions(
  required: Pick<RealmServiceOptions, "self" | "family">,
  overrides: Partial<RealmServiceOptions> = {},
): RealmServiceOptions {
  return {
    heartbeatIntervalMs: limits.realmHeartbeatIntervalMs,
    heartbeatTimeoutMs: limits.realmHeartbeatTimeoutMs,
    reconnectDelayMinMs: limits.realmReconnectDelayMinMs,
    reconnectDelayMaxMs: limits.realmReconnectDelayMaxMs,
    testTimeoutMs: limits.realmTestTimeoutMs,
    definitionCharactersMax: limits.realmDefinitionCharactersMax,
    ...overrides,
    ...required,
  };
}
