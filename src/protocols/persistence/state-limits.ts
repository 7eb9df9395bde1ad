import { limits } from "../../kernel/limits.js";

/**
 * Bounds of the persistence state machine. The values are named in src/kernel/limits.ts;
 * tests pass smaller ones. Every service of a cluster must use the same values, since they
 * decide what the committed commands do.
 */
export interface StateLimits {
  /** Publisher sequences one publisher's dedup window spans (a power of two). */
  readonly dedupWindowSequencesMax: number;
  /** Publishers one store remembers; past this the least recently active is forgotten. */
  readonly dedupPublishersMax: number;
  /** A publisher silent this long (log time) is forgotten. */
  readonly dedupPublisherIdleMs: number;
  /** Items in one publish command. */
  readonly publishItemsPerCommandMax: number;
  /** Sequences in one ack or dead-letter command. */
  readonly sequencesPerCommandMax: number;
  /** Characters in one last-value or map key. */
  readonly mapKeyLengthMax: number;
  /** Characters in a store, durable, template or publisher name inside a command. */
  readonly commandNameLengthMax: number;
  /** Dynamic durables of one store when its limits set no dynamicDurablesMax. */
  readonly dynamicDurablesPerStoreMax: number;
  /** One message's encoded size when its store sets no messageBytesMax. */
  readonly messageBytesMax: number;
  /** Names listed in a rejection's detail. */
  readonly rejectionNamesListedMax: number;
}

export const stateLimits: StateLimits = {
  dedupWindowSequencesMax: limits.dedupWindowSequencesMax,
  dedupPublishersMax: limits.dedupPublishersMax,
  dedupPublisherIdleMs: limits.dedupPublisherIdleMs,
  publishItemsPerCommandMax: limits.publishItemsPerCommandMax,
  sequencesPerCommandMax: limits.sequencesPerCommandMax,
  mapKeyLengthMax: limits.mapKeyLengthMax,
  commandNameLengthMax: limits.commandNameLengthMax,
  dynamicDurablesPerStoreMax: limits.dynamicDurablesPerStoreMax,
  messageBytesMax: limits.messageBytesMax,
  rejectionNamesListedMax: limits.rejectionNamesListedMax,
};

/** "a, b, c" or "a, b and 14 more": rejection details name what exists, boundedly. */
export function listNames(names: readonly string[], countMax: number): string {
  if (names.length === 0) return "none";
  const shown = names.slice(0, countMax).map((name) => JSON.stringify(name)).join(", ");
  return names.length > countMax ? `${shown} and ${names.length - countMax} more` : shown;
}
